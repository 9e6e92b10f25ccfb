"""``radsem simulate`` (placeholder until radsem.simulate lands)."""
from __future__ import annotations

import argparse


HELP = "placeholder"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=150)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
