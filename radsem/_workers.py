"""Worker processes that end with their parent, even when the parent is killed (``kill -9``)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent"]

#: ``PR_SET_PDEATHSIG`` of ``<linux/prctl.h>``.
_PR_SET_PDEATHSIG = 1


def _linux_death_signal() -> bool:
    """Ask the Linux kernel to SIGKILL this process when its parent thread exits."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, interval: float) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(interval)


def die_with_parent(parent: int, interval: float = 0.5) -> None:
    """Initializer of a worker process: end it as soon as ``parent`` is gone.

    Parameters
    ----------
    parent : int
        Process id of the parent (pass ``os.getpid()`` from the parent).
    interval : float
        Seconds between checks of the watchdog thread.

    Notes
    -----
    On Linux the kernel kills the worker when its parent dies (``prctl(PR_SET_PDEATHSIG,
    SIGKILL)``), even while the worker runs C code that holds the GIL. Everywhere, a daemon
    thread also checks every ``interval`` seconds whether the worker has been re-parented, and
    ends it if so. If the parent is already gone when this runs, the worker ends at once.
    """
    _linux_death_signal()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    threading.Thread(
        target=_watch, args=(parent, interval), daemon=True, name="radsem-die-with-parent"
    ).start()
