"""Run a function where it can really be stopped: a forked child process with a deadline.

A timer inside the same process cannot interrupt SymPy while it is deep in big-integer
arithmetic or C code; killing a child process can.  Where fork is not available the function
runs in-process (without a hard deadline) and says so.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from typing import Any, Callable, Optional

from .limits import DEFAULT_LIMITS

TIMEOUT = "timeout"
CRASHED = "crashed"
DONE = "done"


def _cap_memory(megabytes: Optional[float]) -> None:
    """Let this (child) process grow by at most `megabytes` beyond its current size."""
    if not megabytes:
        return
    try:
        import resource

        with open("/proc/self/statm") as fh:
            current = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = current + int(megabytes * 2**20)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no resource module: the deadline still holds


def _child(conn: Any, fn: Callable[..., Any], args: tuple,
           memory_mb: Optional[float] = None) -> None:
    try:
        _cap_memory(memory_mb)
        conn.send((DONE, fn(*args)))
    except BaseException as err:  # report anything, including RecursionError and MemoryError
        conn.send((CRASHED, f"{type(err).__name__}: {err}"[:500] or traceback.format_exc(1)))
    finally:
        conn.close()


def can_isolate() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def call_with_deadline(fn: Callable[..., Any], args: tuple, seconds: float,
                       memory_mb: Optional[float] = None) -> tuple[str, Any]:
    """Return (DONE, value), (TIMEOUT, None) or (CRASHED, message).

    The child may grow by `memory_mb` megabytes (default: `limits.sympy_memory_mb`) beyond
    its size at the fork; past that its allocations fail with MemoryError (reported CRASHED).
    """
    if memory_mb is None:
        memory_mb = DEFAULT_LIMITS.sympy_memory_mb
    if not can_isolate():
        try:
            return DONE, fn(*args)
        except Exception as err:
            return CRASHED, f"{type(err).__name__}: {err}"
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, memory_mb), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(seconds):
            try:
                status, value = parent.recv()
            except EOFError:
                status, value = CRASHED, "the worker process ended without an answer"
            proc.join(5)
            return status, value
        return TIMEOUT, None
    finally:
        if proc.is_alive():
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proc.join(5)
        parent.close()
