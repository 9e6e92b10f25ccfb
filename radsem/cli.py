"""The ``radsem`` command.

Each sub-command lives in its own module under :mod:`radsem.commands` (the module name is
the command name) and exposes ``HELP`` (one line), ``configure(parser)``, which adds its
arguments (argparse only, no heavy imports), and ``run(args) -> int``, which does the work.
Exit codes are stable so that scripts can rely on them:

====  ==============================================================
0     success
1     unexpected internal error (a bug: please report it)
2     usage error (bad or missing command-line arguments)
3     input error: data, model syntax, images or files are unusable
4     the run finished, but a model did not converge or is improper
130   interrupted (Ctrl-C)
====  ==============================================================

Unexpected exceptions print a one-line message (exit 1); set ``RADSEM_DEBUG=1`` to see the
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
from typing import Sequence

from radsem._version import __version__

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_NOT_CONVERGED = 4
EXIT_INTERRUPTED = 130


def _command_modules() -> list[str]:
    """Names of the sub-command modules, in alphabetical order."""
    import pkgutil

    import radsem.commands

    return sorted(
        info.name
        for info in pkgutil.iter_modules(radsem.commands.__path__)
        if not info.name.startswith("_")
    )


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit(2) itself; keep control here
        self.print_usage(sys.stderr)
        raise _UsageError(f"{self.prog}: error: {message}")


def _add_common_options(command: argparse.ArgumentParser) -> None:
    """``--verbose`` and ``--quiet`` on every sub-command (logging levels, progress bars)."""
    taken = command._option_string_actions
    if "--verbose" not in taken:
        command.add_argument(
            "--verbose",
            action="store_true",
            help="log every detail (DEBUG), e.g. where parallel tasks run",
        )
    if "--quiet" not in taken:
        command.add_argument(
            "--quiet", action="store_true", help="no progress bars; log warnings and errors only"
        )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``radsem`` command with every sub-command."""
    parser = _Parser(
        prog="radsem",
        description=(
            "radsem: cancer radiogenomics with structural equation models. "
            "Run 'radsem COMMAND --help' for the options of one command."
        ),
        epilog="Exit codes: 0 ok, 1 internal error, 2 usage error, 3 input error, "
        "4 model did not converge or is improper, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"radsem {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _command_modules():
        module = import_module(f"radsem.commands.{name}")
        help_text = module.HELP
        command = sub.add_parser(
            name.replace("_", "-"),
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
        )
        module.configure(command)
        _add_common_options(command)
        command.set_defaults(_module=name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``radsem`` console script; returns the exit code."""
    from radsem.errors import RadsemError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    from radsem._logging import configure_logging

    configure_logging(verbose=args.verbose, quiet=args.quiet)
    try:
        return int(import_module(f"radsem.commands.{args._module}").run(args) or EXIT_OK)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except RadsemError as exc:
        print(f"radsem {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("radsem: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # unreadable/unwritable files, full disk, refused connections
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"radsem {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug: a short message, the traceback only on request
        if os.environ.get("RADSEM_DEBUG"):
            raise
        print(
            f"radsem {args.command}: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in radsem; please report it with the command line used "
            "(set RADSEM_DEBUG=1 to see the traceback).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
