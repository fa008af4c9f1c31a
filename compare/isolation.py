"""Run functions where they can really be stopped: forked worker processes with deadlines.

A timer inside the same process cannot interrupt SymPy while it is deep in big-integer
arithmetic or C code; killing a child process can.  Forking one child per call costs a fork and
a cold SymPy cache every time, so a `WorkerPool` keeps a few forked workers that run many tasks
each, and kills and replaces one only when its task overruns its deadline, runs out of memory
or dies.  Workers die with their parent (PR_SET_PDEATHSIG on Linux, a closed pipe, a watchdog
elsewhere), so killing gradcompare never leaves SymPy running.  Where fork is not available the
function runs in-process, without a hard deadline, and `WorkerPool.isolated` says so.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Optional, Sequence

from .limits import DEFAULT_LIMITS

TIMEOUT = "timeout"
CRASHED = "crashed"
DONE = "done"
SKIPPED = "skipped"   # map_timed with a budget: never started, the budget was used up
_RESEND = "resend"    # worker -> parent: this task cannot be unpickled here, fork it a worker

# poll() takes milliseconds as a C int (about 24.8 days); longer waits are taken in slices.
_MAX_WAIT = 3600.0
_NO_ANSWER = "the worker process ended without an answer"
# Ask Linux to kill workers with their parent; tests turn it off to exercise the fallbacks.
_PDEATHSIG = sys.platform.startswith("linux")

Task = tuple[Callable[..., Any], tuple, Optional[float]]   # fn, args, memory_mb
Outcome = tuple[str, Any, float]                            # status, value, seconds of work


def _vm_bytes() -> Optional[int]:
    """This process's virtual size (what RLIMIT_AS bounds), or None without /proc."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _cap_memory(megabytes: Optional[float]) -> None:
    """Let this (worker) process grow by at most `megabytes` beyond its current size."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        current = _vm_bytes()
        if not megabytes or current is None:   # no cap wanted, or no /proc to size it by
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            return
        cap = current + int(megabytes * 2**20)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError, OverflowError):
        pass  # no resource module or an unusable cap: the deadline still holds


def _describe(err: BaseException) -> str:
    """'TypeName: message', short; an exception whose text itself fails still has a name."""
    try:
        return f"{type(err).__name__}: {err}"[:500]
    except Exception:
        return type(err).__name__


def can_isolate() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


# -- the worker side -------------------------------------------------------------------------
def _die_with_parent(parent_pid: int) -> None:
    """Make sure this worker cannot outlive the process that forked it.

    On Linux the kernel sends SIGKILL when the parent dies (even if it dies by SIGKILL, while
    the worker is deep in SymPy); elsewhere a watchdog thread checks the parent's pid.  If the
    parent died before this line ran, exit now.
    """
    armed = False
    if _PDEATHSIG:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0   # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent_pid:
        os._exit(0)
    if not armed:
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()


def _serve(conn: Connection, inherited: list[Connection], parent_pid: int,
           first: Optional[Task]) -> None:
    """A worker's life: run tasks from the pipe until it closes (or the parent dies).

    Replies are (status, value, retiring).  A worker retires (exits after its reply) when its
    task ran out of memory or when it has grown by more than its memory allowance since it
    was forked; the parent then forks a fresh one.
    """
    global _SHARED
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    _SHARED = None    # the parent's shared pool is not ours to use
    for other in inherited:   # parent ends of pipes: keep no pipe open on the parent's behalf
        try:
            other.close()
        except OSError:
            pass
    born = _vm_bytes()
    task = first
    while True:
        if task is None:
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                return   # the parent closed the pool or died
            try:
                task = pickle.loads(data)   # safe: our own parent's bytes over our own pipe
            except Exception as err:   # e.g. a function defined after this worker was forked
                conn.send((_RESEND, _describe(err), True))
                return
            if task is None:
                return
        fn, args, memory_mb = task
        task = None
        _cap_memory(memory_mb)
        try:
            reply: tuple[str, Any] = (DONE, fn(*args))
        except BaseException as err:   # report anything, including RecursionError
            reply = (CRASHED, _describe(err))
        del fn, args
        now = _vm_bytes()
        retire = (reply[0] == CRASHED and reply[1].startswith("MemoryError")) or bool(
            memory_mb and born and now and now - born > memory_mb * 2**20)
        try:
            conn.send((*reply, retire))
        except BaseException as err:   # an answer that cannot be pickled, or no memory for it
            try:
                conn.send((CRASHED, f"could not send the answer: {_describe(err)}", True))
            except BaseException:
                pass
            return
        if retire:
            return


# -- the parent side -------------------------------------------------------------------------
@dataclass
class _Worker:
    proc: Any                       # multiprocessing.Process
    conn: Connection
    ticket: Optional[int] = None    # the task it runs, None when idle
    task: Optional[Task] = None
    seconds: float = 0.0
    started: float = 0.0
    deadline: float = math.inf


class WorkerPool:
    """Persistent forked workers running tasks under a deadline and a memory cap each.

    >>> with WorkerPool(2, memory_mb=500) as pool:
    ...     pool.map_with_deadline(pow, [(2, 10), (3, 3)], seconds=5)
    [('done', 1024), ('done', 27)]

    A task's deadline counts from when a worker starts it.  A worker past its deadline is
    SIGKILLed (TIMEOUT); one that dies or runs out of memory reports CRASHED; either way a fresh
    worker is forked for the next task.  Before each task the worker's address space is capped
    at its current size plus `memory_mb` (RLIMIT_AS), the headroom a fresh child would have.

    Functions and arguments travel pickled (by reference for functions), so a worker runs the
    module code as it was when the worker was forked: a later monkeypatch is not seen.  What
    cannot be pickled (a lambda) is handed over by forking a worker for it.  On Linux a worker
    is killed when the thread that forked it ends, so create pools in a thread that outlives
    them.  Not thread-safe: use one pool per thread.
    """

    def __init__(self, size: Optional[int] = None, memory_mb: Optional[float] = None) -> None:
        self.size = max(1, int(size or available_cores()))
        self.memory_mb = DEFAULT_LIMITS.sympy_memory_mb if memory_mb is None else memory_mb
        self.isolated = can_isolate()   # False: tasks run in-process, without a deadline
        self.forks = 0                  # workers started so far
        self._ctx = multiprocessing.get_context("fork") if self.isolated else None
        self._owner = os.getpid()
        self._workers: list[_Worker] = []
        self._queue: deque[int] = deque()
        self._tasks: dict[int, tuple[Task, float]] = {}   # queued: task and its seconds
        self._done: dict[int, Outcome] = {}
        self._by_fork: set[int] = set()   # tickets a worker could not unpickle
        self._next = 0
        self._closed = False

    # -- public ------------------------------------------------------------------------------
    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass   # interpreter shutdown: the workers die with this process anyway

    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.proc.pid for w in self._workers]

    def submit(self, fn: Callable[..., Any], args: tuple, seconds: float,
               memory_mb: Optional[float] = None) -> int:
        """Queue fn(*args) with a deadline of `seconds` from its start; returns a ticket.

        `memory_mb` overrides the pool's memory allowance for this task.
        """
        if self._closed or os.getpid() != self._owner:
            raise RuntimeError("the worker pool is closed (or belongs to another process)")
        if not seconds > 0:   # also refuses NaN
            raise ValueError(f"seconds must be positive, got {seconds!r}")
        ticket = self._next
        self._next += 1
        task: Task = (fn, tuple(args), self.memory_mb if memory_mb is None else memory_mb)
        if not self.isolated:
            self._done[ticket] = _run_here(task)
            return ticket
        self._tasks[ticket] = (task, float(seconds))
        self._queue.append(ticket)
        self._dispatch()
        return ticket

    def result(self, ticket: int) -> tuple[str, Any]:
        """Wait for a ticket: (DONE, value), (TIMEOUT, None) or (CRASHED, message)."""
        status, value, _ = self._outcome(ticket)
        return status, value

    def map_with_deadline(self, fn: Callable[..., Any], arglist: Sequence[tuple],
                          seconds: float, budget: Optional[float] = None,
                          order: Optional[Sequence[int]] = None) -> list[tuple[str, Any]]:
        """fn(*args) for each args, all workers busy; results in input order."""
        return [(status, value) for status, value, _ in
                self.map_timed(fn, arglist, seconds, budget, order)]

    def map_timed(self, fn: Callable[..., Any], arglist: Sequence[tuple], seconds: float,
                  budget: Optional[float] = None, order: Optional[Sequence[int]] = None
                  ) -> list[Outcome]:
        """Like map_with_deadline, with each task's seconds of work.

        `order` is the order in which tasks start (indices into arglist; default as given):
        longest first keeps the last core from working alone at the end.  With a `budget`
        (seconds of work summed over tasks, running ones included), no task is started once it
        is used up: those come back as (SKIPPED, None, 0.0).
        """
        budget = math.inf if budget is None else budget
        starts = list(range(len(arglist)) if order is None else order)
        if sorted(starts) != list(range(len(arglist))):
            raise ValueError("order must list every index of arglist once")
        out: list[Optional[Outcome]] = [None] * len(arglist)
        running: dict[int, int] = {}   # ticket -> index
        spent = 0.0
        upcoming = 0
        while upcoming < len(starts) or running:
            while (upcoming < len(starts) and len(running) < self.size
                   and spent + self._running_seconds(running) < budget):
                k = starts[upcoming]
                running[self.submit(fn, arglist[k], seconds)] = k
                upcoming += 1
            if not running:
                break   # budget used up
            for ticket in self._wait_any(running):
                outcome = self._done.pop(ticket)
                spent += outcome[2]
                out[running.pop(ticket)] = outcome
        return [o if o is not None else (SKIPPED, None, 0.0) for o in out]

    def close(self) -> None:
        """Kill every worker (idle or busy) and forget queued tasks."""
        self._closed = True
        if os.getpid() != self._owner:
            return   # a forked copy: the workers are not ours
        for w in self._workers:
            self._kill(w)
        self._workers.clear()
        self._queue.clear()
        self._tasks.clear()

    # -- internals ---------------------------------------------------------------------------
    def _outcome(self, ticket: int) -> Outcome:
        if ticket not in self._done and ticket not in self._tasks and not any(
                w.ticket == ticket for w in self._workers):
            raise KeyError(f"unknown or already collected ticket {ticket}")
        self._wait_any([ticket])
        return self._done.pop(ticket)

    def _running_seconds(self, tickets: dict[int, int]) -> float:
        now = time.monotonic()
        return sum(now - w.started for w in self._workers if w.ticket in tickets)

    def _wait_any(self, tickets: Any) -> list[int]:
        """Pump until at least one of `tickets` is finished; return the finished ones."""
        while True:
            ready = [t for t in tickets if t in self._done]
            if ready:
                return ready
            self._dispatch()
            self._pump()

    def _dispatch(self) -> None:
        """Start queued tasks on idle workers, forking new ones up to `size`."""
        while self._queue:
            idle = next((w for w in self._workers if w.ticket is None), None)
            ticket = self._queue[0]
            task, seconds = self._tasks[ticket]
            if idle is not None:
                payload = None
                if ticket not in self._by_fork:
                    try:
                        payload = pickle.dumps(task)
                    except Exception:
                        pass
                if payload is not None:
                    now = time.monotonic()   # before the hand-over: the worker may start at once
                    try:
                        idle.conn.send_bytes(payload)
                    except OSError:   # the idle worker died (killed from outside): replace it
                        self._drop(idle)
                        continue
                    self._start(idle, ticket, seconds, now)
                    continue
                # Cannot be pickled (a lambda, a local function): hand it over by fork instead.
                self._drop(idle)
            elif len(self._workers) >= self.size:
                return   # all busy
            now = time.monotonic()
            self._start(self._fork(task), ticket, seconds, now)

    def _start(self, worker: _Worker, ticket: int, seconds: float, now: float) -> None:
        self._queue.popleft()
        worker.task, worker.seconds = self._tasks.pop(ticket)
        self._by_fork.discard(ticket)
        worker.ticket = ticket
        worker.started = now
        worker.deadline = now + seconds

    def _fork(self, first: Optional[Task] = None) -> _Worker:
        assert self._ctx is not None
        ours, theirs = self._ctx.Pipe(duplex=True)
        inherited = [w.conn for w in self._workers] + [ours]
        proc = self._ctx.Process(target=_serve, args=(theirs, inherited, os.getpid(), first),
                                 daemon=True, name="gradcompare-worker")
        proc.start()
        theirs.close()
        self.forks += 1
        worker = _Worker(proc, ours)
        self._workers.append(worker)
        return worker

    def _pump(self) -> None:
        """Wait for a reply, a death or a deadline (whichever comes first) and record it."""
        busy = [w for w in self._workers if w.ticket is not None]
        if not busy:
            return
        now = time.monotonic()
        for w in busy:
            if now >= w.deadline:
                self._finish(w, TIMEOUT, None, now)
                self._drop(w)
        busy = [w for w in busy if w.ticket is not None]
        if not busy:
            return
        timeout = min(min(w.deadline for w in busy) - now, _MAX_WAIT)
        ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                         max(timeout, 0.0)))
        now = time.monotonic()
        for w in busy:
            if w.conn not in ready and w.proc.sentinel not in ready:
                continue
            try:
                status, value, retire = w.conn.recv() if w.conn.poll() else (None, None, True)
            except (EOFError, OSError):
                status, value, retire = None, None, True
            if status == _RESEND:   # not started after all: queue it again, for a fresh fork
                assert w.ticket is not None and w.task is not None
                self._tasks[w.ticket] = (w.task, w.seconds)
                self._queue.appendleft(w.ticket)
                self._by_fork.add(w.ticket)
                w.ticket = None
                self._drop(w)
                continue
            if status is None:
                w.proc.join(1)
                code = w.proc.exitcode
                how = f" (killed by signal {-code})" if code is not None and code < 0 else ""
                status, value = CRASHED, _NO_ANSWER + how
            self._finish(w, status, value, now)
            if retire:
                self._drop(w)

    def _finish(self, w: _Worker, status: str, value: Any, now: float) -> None:
        assert w.ticket is not None
        self._done[w.ticket] = (status, value, now - w.started)
        w.ticket, w.task = None, None
        w.deadline = math.inf

    def _drop(self, w: _Worker) -> None:
        self._kill(w)
        self._workers.remove(w)

    @staticmethod
    def _kill(w: _Worker) -> None:
        if w.proc.is_alive():
            try:
                os.kill(w.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        w.proc.join(5)
        w.conn.close()


def _run_here(task: Task) -> Outcome:
    """No fork on this platform: run in-process, without a deadline or memory cap."""
    fn, args, _ = task
    t0 = time.monotonic()
    try:
        return DONE, fn(*args), time.monotonic() - t0
    except Exception as err:
        return CRASHED, _describe(err), time.monotonic() - t0


def available_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# -- one call at a time, over a shared one-worker pool ---------------------------------------
_SHARED: Optional[WorkerPool] = None
_SHARED_LOCK = threading.Lock()


def _close_shared() -> None:
    if _SHARED is not None:
        _SHARED.close()


atexit.register(_close_shared)


def call_with_deadline(fn: Callable[..., Any], args: tuple, seconds: float,
                       memory_mb: Optional[float] = None) -> tuple[str, Any]:
    """Return (DONE, value), (TIMEOUT, None) or (CRASHED, message).

    The task may grow its worker by `memory_mb` megabytes (default: `limits.sympy_memory_mb`);
    past that its allocations fail with MemoryError (reported CRASHED).  Repeated calls reuse
    one persistent worker; a call made while another thread holds it gets a worker of its own.
    """
    global _SHARED
    if memory_mb is None:
        memory_mb = DEFAULT_LIMITS.sympy_memory_mb
    if not _SHARED_LOCK.acquire(blocking=False):
        with WorkerPool(1, memory_mb) as own:
            return own.result(own.submit(fn, args, seconds, memory_mb))
    try:
        if _SHARED is None or _SHARED._owner != os.getpid():
            _SHARED = WorkerPool(1, memory_mb)
        return _SHARED.result(_SHARED.submit(fn, args, seconds, memory_mb))
    finally:
        _SHARED_LOCK.release()
