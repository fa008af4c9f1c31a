"""The worker pool behind the symbolic method: reuse, deadlines, memory caps, order, orphans,
the library-wide budget, and limits that must not break when raised."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import compare
from compare import isolation
from compare.cli import main
from compare.errors import GradcompareError
from compare.isolation import CRASHED, DONE, SKIPPED, TIMEOUT, WorkerPool
from compare.limits import Limits
from compare.methods import symbolic

ROOT = Path(__file__).resolve().parent.parent
needs_fork = pytest.mark.skipif(not isolation.can_isolate(), reason="no fork on this platform")
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")


def _spin(seconds: float) -> int:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return os.getpid()


def _hog(megabytes: int) -> int:
    return len(bytearray(megabytes * 2**20))


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _echo(k: int, pause: float) -> int:
    time.sleep(pause)
    return k


# -- the pool --------------------------------------------------------------------------------
@needs_fork
def test_workers_are_reused_across_tasks():
    with WorkerPool(2, memory_mb=200) as pool:
        answers = pool.map_with_deadline(_spin, [(0.02,)] * 10, 5)
        assert all(status == DONE for status, _ in answers)
        pids = {pid for _, pid in answers}
        assert os.getpid() not in pids
        assert pids <= set(pool.pids()) and len(pids) <= 2
        assert pool.forks <= 2
        assert pool.result(pool.submit(_spin, (0,), 5))[1] in pids   # still the same workers


@needs_fork
def test_overrun_is_killed_and_the_worker_replaced():
    with WorkerPool(1, memory_mb=200) as pool:
        first = pool.result(pool.submit(_spin, (0,), 5))[1]
        t0 = time.monotonic()
        assert pool.result(pool.submit(_spin, (60,), 0.5)) == (TIMEOUT, None)
        assert time.monotonic() - t0 < 5
        assert not Path(f"/proc/{first}").exists() or _gone(first)
        status, pid = pool.result(pool.submit(_spin, (0,), 5))
        assert status == DONE and pid != first and pool.forks == 2


@needs_fork
def test_deadline_counts_from_the_start_not_from_the_queue():
    with WorkerPool(1, memory_mb=200) as pool:
        # The second task waits 1 s for the only worker; its own 1.5 s start afterwards
        # (counted from the queue it would time out at 1.5 s, 0.3 s before it finishes).
        answers = pool.map_with_deadline(_spin, [(1.0,), (0.8,)], 1.5)
        assert [status for status, _ in answers] == [DONE, DONE]


@needs_fork
def test_memory_cap_is_an_answer_and_the_pool_goes_on():
    with WorkerPool(1, memory_mb=100) as pool:
        status, message = pool.result(pool.submit(_hog, (400,), 30))
        assert status == CRASHED and message.startswith("MemoryError")
        assert pool.result(pool.submit(_hog, (10,), 30)) == (DONE, 10 * 2**20)
        # The cap is per task: a worker that has run many tasks still gets its allowance.
        assert pool.map_with_deadline(_hog, [(60,)] * 5, 30) == [(DONE, 60 * 2**20)] * 5


@needs_fork
def test_a_worker_that_dies_is_reported_and_replaced():
    with WorkerPool(1, memory_mb=200) as pool:
        status, message = pool.result(pool.submit(_die, (), 5))
        assert status == CRASHED and "ended without an answer" in message and "9" in message
        assert pool.result(pool.submit(_echo, (7, 0), 5)) == (DONE, 7)


def test_results_come_in_input_order():
    # Later tasks finish first; answers still line up with the input.
    with WorkerPool(3, memory_mb=200) as pool:
        answers = pool.map_with_deadline(_echo, [(k, 0.05 * (6 - k)) for k in range(6)], 10)
    assert answers == [(DONE, k) for k in range(6)]


@needs_fork
def test_tasks_that_cannot_be_pickled_are_handed_over_by_fork():
    offset = 10
    with WorkerPool(2, memory_mb=200) as pool:
        assert pool.map_with_deadline(lambda k: k + offset, [(1,), (2,), (3,)], 5) == [
            (DONE, 11), (DONE, 12), (DONE, 13)]


@needs_fork
def test_huge_deadlines_do_not_overflow_the_wait():
    with WorkerPool(1, memory_mb=200) as pool:
        for seconds in (2147484.0, 1e12, float("inf")):
            assert pool.result(pool.submit(_echo, (1, 0), seconds)) == (DONE, 1)


def _stamp() -> float:
    time.sleep(0.01)
    return time.monotonic()


def test_order_decides_what_starts_first_not_where_results_go():
    with WorkerPool(1, memory_mb=200) as pool:
        out = pool.map_timed(_stamp, [()] * 3, 5, order=[2, 0, 1])
        assert [status for status, _, _ in out] == [DONE] * 3
        assert out[2][1] < out[0][1] < out[1][1]
        out = pool.map_timed(_spin, [(0.3,)] * 3, 5, budget=0.2, order=[1, 2, 0])
        assert [status for status, _, _ in out] == [SKIPPED, DONE, SKIPPED]
        with pytest.raises(ValueError, match="every index"):
            pool.map_timed(_stamp, [()] * 3, 5, order=[0, 0, 1])


def test_budget_leaves_later_tasks_unstarted():
    with WorkerPool(1, memory_mb=200) as pool:
        out = pool.map_timed(_spin, [(0.2,)] * 6, 5, budget=0.5)
    statuses = [status for status, _, _ in out]
    done = statuses.count(DONE)
    # One worker: each task started while the work before it was under budget, then none.
    assert statuses == [DONE] * done + [SKIPPED] * (6 - done) and 1 <= done <= 3
    spent = [seconds for _, _, seconds in out[:done]]
    assert all(s >= 0.2 for s in spent)
    assert sum(spent[:-1]) < 0.5 <= sum(spent)
    assert all(o == (SKIPPED, None, 0.0) for o in out[done:])


@needs_fork
def test_single_calls_reuse_one_worker():
    a = isolation.call_with_deadline(_spin, (0,), 5)
    b = isolation.call_with_deadline(_spin, (0,), 5)
    assert a[0] == b[0] == DONE and a[1] == b[1] != os.getpid()


# -- no orphans ------------------------------------------------------------------------------
def _gone(pid: int) -> bool:
    """No such process, or only its zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _children(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (from /proc, no psutil)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _assert_all_gone(pids: list[int], within: float = 5.0) -> None:
    end = time.monotonic() + within
    while time.monotonic() < end and not all(_gone(p) for p in pids):
        time.sleep(0.05)
    alive = [p for p in pids if not _gone(p)]
    for p in alive:   # do not leave them behind for the next test, then fail
        os.kill(p, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent"


POOL_SCRIPT = textwrap.dedent("""
    import sys, time
    from compare import isolation

    def spin():
        while True:
            pass

    def quick():
        return 1

    isolation._PDEATHSIG = sys.argv[1] == "pdeathsig"
    pool = isolation.WorkerPool(3, memory_mb=200)
    pool.map_with_deadline(quick, [()] * 3, 600)    # three workers, idle now
    busy = [pool.submit(spin, (), 600) for _ in range(2)]   # two busy, one idle
    time.sleep(0.3)
    print(" ".join(map(str, pool.pids())), flush=True)
    pool.result(busy[0])
""")


@needs_fork
@needs_proc
@pytest.mark.parametrize("how", ["pdeathsig", "fallbacks"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_parent_kills_busy_and_idle_workers(sig, how):
    """Busy workers die by PR_SET_PDEATHSIG, or by the watchdog when it is off; the idle one
    by PR_SET_PDEATHSIG, or because its pipe to the parent closed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    parent = subprocess.Popen([sys.executable, "-c", POOL_SCRIPT, how], stdout=subprocess.PIPE,
                              env=env, text=True)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 3 and not any(_gone(p) for p in pids)
        parent.send_signal(sig)
        parent.wait(10)
        _assert_all_gone(pids)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


SLOW_CASE = "".join(f"     v{i}: sin(v{i - 1}) * cos(v{i - 1})\n" for i in range(1, 41))


@needs_fork
@needs_proc
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_gradcompare_leaves_no_sympy_running(sig, tmp_path):
    path = tmp_path / "slow.yaml"
    path.write_text(f"cases:\n - name: chain\n   steps:\n{SLOW_CASE}   at: {{v0: 0.5}}\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    parent = subprocess.Popen(
        [sys.executable, "-m", "compare", "check", "--cases", str(path), "--limit",
         "sympy_seconds=600", "--limit", "sympy_max_tree=1e30"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        end = time.monotonic() + 30
        workers: list[int] = []
        while not workers and time.monotonic() < end and parent.poll() is None:
            workers = _children(parent.pid)
            time.sleep(0.05)
        assert workers, "gradcompare never started a SymPy worker"
        time.sleep(0.5)   # well inside SymPy by now
        assert not any(_gone(p) for p in workers)
        parent.send_signal(sig)
        parent.wait(10)
        _assert_all_gone(workers)
    finally:
        parent.kill()
        parent.wait()


# -- the symbolic method over the pool -------------------------------------------------------
ITEMS = [
    ("(x + y) * z", {"x": 3, "y": -4, "z": 5}),
    ("sigmoid(a * b) + log(b)", {"a": 0.5, "b": 2}),
    ("relu(x) * y", {"x": 0, "y": 2}),           # a kink at the point
    ("log(x) * y", {"x": 0, "y": 1}),            # outside the domain
    ("x ** 5000", {"x": 1.5}),                   # refused before SymPy (constant exponent)
    ("tanh(tanh(tanh(x))) * max(x, y)", {"x": 0.25, "y": -1}),
]


def _items():
    return [(g, at, list(g.variables)) for g, at in
            ((compare.parse(text), at) for text, at in ITEMS)]


def _same(a: compare.Result, b: compare.Result) -> None:
    assert (a.status, a.note, a.value, a.gradient, a.details, a.node) == (
        b.status, b.note, b.value, b.gradient, b.details, b.node)


@pytest.mark.parametrize("jobs", [1, 2, None])
def test_differentiate_many_equals_one_by_one(jobs):
    items = _items()
    many = symbolic.differentiate_many(items, Limits(), jobs=jobs)
    alone = [symbolic.differentiate(g, at, wrt) for g, at, wrt in items]
    assert [r.status for r in many] == ["ok", "ok", "nondifferentiable", "domain", "too_large",
                                        "ok"]
    for a, b in zip(many, alone):
        _same(a, b)


def test_differentiate_many_reports_a_timeout_and_goes_on():
    slow = compare.parse_steps({f"v{i}": f"sin(v{i - 1}) * cos(v{i - 1})"
                                for i in range(1, 41)})
    items = [(slow, {"v0": 0.5}, ["v0"]), *_items()[:2]]
    limits = Limits(sympy_seconds=1, sympy_max_tree=10**30)
    t0 = time.monotonic()
    out = symbolic.differentiate_many(items, limits, jobs=2)
    assert time.monotonic() - t0 < 10
    assert [r.status for r in out] == ["timeout", "ok", "ok"]
    assert out[0].note == "SymPy did not finish within 1 s"


def test_library_budget_marks_the_rest_not_started():
    logistic = compare.parse_steps({f"x{i}": f"4 * x{i - 1} * (1 - x{i - 1})"
                                    for i in range(1, 8)})
    items = [(logistic, {"x0": 0.3}, ["x0"])] + _items()[:3]
    out = symbolic.differentiate_many(items, Limits(sympy_total_seconds=0.01), jobs=1)
    assert out[0].status == "ok" and out[0].seconds >= 0.01
    for r in out[1:]:
        assert r.status == "timeout" and r.value is None
        assert r.note == ("not started: the library-wide SymPy budget sympy_total_seconds = "
                          "0.01 s was used up")


def test_differentiate_many_of_nothing():
    assert symbolic.differentiate_many([], Limits()) == []


# -- limits have ranges ----------------------------------------------------------------------
@pytest.mark.parametrize("name", Limits.names())
def test_every_limit_refuses_values_outside_its_range(name):
    low, high, what = Limits.ranges()[name]
    assert 0 < low <= getattr(Limits(), name) <= high and what
    # Both ends are accepted, as written in the message.
    for end in (low, high):
        assert getattr(Limits().with_overrides({name: repr(end)}), name) == pytest.approx(end)
    whole = Limits.__dataclass_fields__[name].type in ("int", int)
    below = (low - 1 if low > 1 else None) if whole else low / 10   # 0 is "not positive"
    for value in [high * 10] + ([below] if below is not None else []):
        with pytest.raises(GradcompareError) as info:
            Limits().with_overrides({name: repr(value)})
        assert str(info.value) == (f"limit {name}: must be {Limits.range_text(name)} "
                                   f"({what}), got '{value!r}'")


@pytest.mark.parametrize("pair, shown", [
    ("sympy_seconds=2147484", "between 0.01 and 86,400"),
    ("max_file_bytes=3e10", "between 1 and 2,000,000,000"),
    ("max_number_chars=5000", "between 1 and 4,000"),
    ("sympy_total_seconds=1e9", "between 0.01 and 10,000,000"),
])
def test_limits_that_would_break_are_one_line(pair, shown, tmp_path, capsys):
    path = tmp_path / "t.yaml"
    path.write_text("cases:\n - name: good\n   expression: x * 2\n   at: {x: 1}\n")
    assert main(["check", "--cases", str(path), "--limit", pair]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and shown in err and "Traceback" not in err
    assert err.startswith(f"gradcompare: limit {pair.split('=')[0]}: must be {shown}")
