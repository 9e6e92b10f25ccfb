"""Messages of the ``radsem`` command through :mod:`logging`.

Library code logs to ``logging.getLogger("radsem....")`` and never configures logging; the
command line does, once: ``--quiet`` shows warnings and errors only, the default adds what each
step is doing (INFO), and ``--verbose`` adds details such as where parallel tasks run (DEBUG).
Python warnings raised during a command are shown through the same handler.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

_HANDLER_NAME = "radsem-cli"


def configure_logging(verbose: bool = False, quiet: bool = False) -> int:
    """Send the ``radsem`` loggers' messages to stderr at the level the flags ask for.

    Parameters
    ----------
    verbose : bool
        DEBUG: every detail.
    quiet : bool
        WARNING: problems only (``verbose`` wins when both are given).

    Returns
    -------
    int
        The level set.
    """
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logger = logging.getLogger("radsem")
    for handler in list(logger.handlers):
        if handler.get_name() == _HANDLER_NAME:
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        logging.Formatter("%(name)s: %(levelname)s: %(message)s" if verbose else "%(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return level
