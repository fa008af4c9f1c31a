"""The case library as a conformance suite: adapters, verdicts, kinks, export, compare.testing.

The micrograd-style classes below always run (no engine to install): a correct one, and three
with a classic bug each.  A buggy class must fail exactly the cases that exercise its bug,
predicted here from gradcompare's own recorded backward sweep, and the correct class must pass
every case it supports.  Tests of installed engines use pytest.importorskip.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from compare import conformance
from compare.cli import main as cli_main
from compare.conformance import (CONVENTION, FAILING, ONE_SIDED, OUTSIDE, PASS, UNSUPPORTED,
                                 Reference)
from compare.engine import run_library
from compare.engines import adapter_for
from compare.engines.program import program_of, replay
from compare.engines.value import ValueAdapter
from compare.limits import DEFAULT_LIMITS
from compare.parser import parse

ROOT = Path(__file__).resolve().parents[1]
BUGS = ROOT / "cases" / "engine-bugs.yaml"


# -- micrograd-style classes -----------------------------------------------------------------
class GoodValue:
    """A correct micrograd-style scalar: gradients accumulate, backward in topological order
    (sorted without recursion, so deep graphs work)."""

    def __init__(self, data, children=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(children)
        self._backward = lambda: None

    def _wrap(self, other):
        return other if isinstance(other, type(self)) else type(self)(other)

    def _give(self, child, amount):   # the one place a contribution arrives
        child.grad += amount

    def __add__(self, other):
        other = self._wrap(other)
        out = type(self)(self.data + other.data, (self, other))
        out._backward = lambda: (self._give(self, out.grad), self._give(other, out.grad))
        return out

    def __mul__(self, other):
        other = self._wrap(other)
        out = type(self)(self.data * other.data, (self, other))
        out._backward = lambda: (self._give(self, other.data * out.grad),
                                 self._give(other, self.data * out.grad))
        return out

    def __pow__(self, other):
        if isinstance(other, type(self)):
            out = type(self)(self.data ** other.data, (self, other))

            def back():
                self._give(self, other.data * self.data ** (other.data - 1) * out.grad)
                if self.data > 0:
                    self._give(other, out.data * math.log(self.data) * out.grad)
            out._backward = back
            return out
        out = type(self)(self.data ** other, (self,))
        out._backward = lambda: self._give(
            self, (other * self.data ** (other - 1) if other != 0 else 0.0) * out.grad)
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __truediv__(self, other):
        return self * self._wrap(other) ** -1

    def exp(self):
        out = type(self)(math.exp(self.data), (self,))
        out._backward = lambda: self._give(self, out.data * out.grad)
        return out

    def log(self):
        out = type(self)(math.log(self.data), (self,))
        out._backward = lambda: self._give(self, out.grad / self.data)
        return out

    def tanh(self):
        out = type(self)(math.tanh(self.data), (self,))
        out._backward = lambda: self._give(self, self._tanh_slope(out.data) * out.grad)
        return out

    @staticmethod
    def _tanh_slope(t):
        return 1.0 - t * t

    def relu(self):
        out = type(self)(self.data if self.data > 0 else 0.0, (self,))
        out._backward = lambda: self._give(self, (self.data > 0) * out.grad)
        return out

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((c, False) for c in node._prev if id(c) not in seen)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class AssignValue(GoodValue):
    """Bug: a contribution overwrites the gradient instead of adding to it."""

    def _give(self, child, amount):
        child.grad = amount


class RecursiveValue(GoodValue):
    """Bug: backward recurses into the children right after pushing to them, with no
    topological order, so a node reached twice passes its gradient on twice."""

    def backward(self):
        self.grad = 1.0
        self._propagate()

    def _propagate(self):
        self._backward()
        for child in self._prev:
            child._propagate()


class TanhBugValue(GoodValue):
    """Bug: tanh'(u) written as 1 − tanh(u) instead of 1 − tanh(u)²."""

    @staticmethod
    def _tanh_slope(t):
        return 1.0 - t


class HangingValue(GoodValue):
    """An engine whose exp never returns, one whose log is NaN and one whose tanh raises."""

    def exp(self):
        import time

        time.sleep(60)

    def log(self):
        return type(self)(math.nan, (self,))

    def tanh(self):
        raise RuntimeError("tanh is broken")


class BackwardHangsValue(GoodValue):
    """An engine whose backward never returns, from the first run on."""

    def backward(self):
        import time

        time.sleep(60)


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundled(bundled_numeric_run):
    """The bundled library and its references (naive and backprop, checked against each other
    and `expect`: cheap, and enough to judge the engines by); shared with test_handout."""
    return bundled_numeric_run


@pytest.fixture(scope="module")
def verdicts(bundled):
    library, ref = bundled
    out = {}
    # The recursive bug visits every path: exponentially many on the sharing cases, so it gets
    # a short deadline (its timeouts are failures too); the others keep the default.
    for classes, seconds in (([GoodValue, AssignValue, TanhBugValue], "10"),
                             ([RecursiveValue], "1")):
        limits = DEFAULT_LIMITS.with_overrides({"engine_seconds": seconds})
        result = conformance.run(library, [ValueAdapter.of(c) for c in classes], limits,
                                 reference_run=ref, probes=False)
        out.update({c.__name__: {r.case: r for r in result.of(ValueAdapter.of(c).name)}
                    for c in classes})
    return out


# -- what each bug should break, from gradcompare's own recorded sweep -----------------------
def _rows(cr):
    return cr.trace.rows or []


def _contributions(cr):
    got: dict[int, list[float]] = {}
    for row in _rows(cr):
        got.setdefault(row.child, []).append(row.product)
    return got


def _depth(cr) -> int:
    g = cr.case.graph
    depth = [0] * len(g)
    for i in range(len(g)):
        args = [j for j in (g.a[i], g.b[i]) if j >= 0]
        depth[i] = 1 + max((depth[j] for j in args), default=0)
    return depth[g.output]


def exercises(bug: str, cr) -> bool:
    """Does the case exercise `bug`?  (Its gradient depends on the step the bug gets wrong.)"""
    graph = cr.case.graph
    if bug == "AssignValue":   # a node receiving two contributions, one of them nonzero
        return any(len(ps) >= 2 and any(ps) for ps in _contributions(cr).values())
    if bug == "RecursiveValue":   # an operation node reached along two nonzero edges, or depth
        return _depth(cr) > 500 or any(
            graph.primitive(child) is not None and sum(p != 0 for p in ps) >= 2
            for child, ps in _contributions(cr).items())
    if bug == "TanhBugValue":   # a tanh whose slope matters and where 1 − t differs from 1 − t²
        values = cr.trace.values
        return any(graph.primitive(r.parent) is not None
                   and graph.primitive(r.parent).name == "tanh" and r.upstream != 0
                   and values[r.parent] not in (0.0, 1.0) for r in _rows(cr))
    raise AssertionError(bug)


def test_correct_class_passes_everything_it_supports(verdicts):
    results = verdicts["GoodValue"]
    bad = {c: (r.verdict, r.detail) for c, r in results.items() if r.verdict in FAILING}
    assert not bad
    supported = [c for c, r in results.items() if r.verdict != UNSUPPORTED]
    assert len(supported) >= 50
    # its unsupported cases name what it lacks, and only operations it really lacks
    lacking = {op for r in results.values() for op in r.unsupported}
    assert lacking and lacking <= {"sigmoid", "sqrt", "sin", "cos", "tan", "abs", "max", "min"}


@pytest.mark.parametrize("bug", ["AssignValue", "RecursiveValue", "TanhBugValue"])
def test_buggy_class_fails_exactly_the_cases_exercising_its_bug(bug, verdicts, bundled):
    _, ref = bundled
    results = verdicts[bug]
    runs = {cr.case.name: cr for cr in ref.runs}
    supported = [c for c, r in results.items() if r.verdict != UNSUPPORTED]
    failed = {c for c in supported if results[c].verdict in FAILING}
    predicted = {c for c in supported if exercises(bug, runs[c])}
    assert failed == predicted
    assert len(predicted) >= 3
    assert {c for c, r in results.items() if r.verdict == UNSUPPORTED} == {
        c for c, r in verdicts["GoodValue"].items() if r.verdict == UNSUPPORTED}


def test_the_engine_bug_cases_catch_their_bugs(verdicts):
    assert verdicts["AssignValue"]["bug-self-add"].verdict == "fail"
    assert verdicts["AssignValue"]["bug-self-mul"].verdict == "fail"
    assert verdicts["RecursiveValue"]["bug-reused-nonleaf"].verdict == "fail"
    assert verdicts["RecursiveValue"]["bug-two-depths"].verdict == "fail"
    deep = verdicts["RecursiveValue"]["bug-deep-chain-1200"]
    assert deep.verdict == "error" and deep.detail.startswith("RecursionError")
    assert verdicts["GoodValue"]["bug-deep-chain-1200"].verdict == PASS
    assert verdicts["TanhBugValue"]["bug-tanh-derivative"].verdict == "fail"
    assert "∂/∂x" in verdicts["TanhBugValue"]["bug-tanh-derivative"].detail


def test_hang_nan_and_exception_are_each_their_cases_result(bundled):
    library, ref = bundled
    limits = DEFAULT_LIMITS.with_overrides({"engine_seconds": "0.5"})
    picked = library.select(["act-softplus", "log-times-exp", "act-tanh", "lecture-sum-times",
                             "kink-relu-at-zero"])
    result = conformance.run(picked, [ValueAdapter.of(HangingValue)], limits, reference_run=ref,
                             probes=False)
    got = {r.case: r for r in result.results}
    assert got["act-softplus"].verdict == "timeout"          # exp never returns
    assert got["log-times-exp"].verdict == "timeout"
    assert got["act-tanh"].verdict == "error" and "tanh is broken" in got["act-tanh"].detail
    assert got["lecture-sum-times"].verdict == PASS          # the others go on
    assert got["kink-relu-at-zero"].verdict == PASS
    assert result.failed
    frame = result.frame()
    assert set(frame.columns) >= {"case", "engine", "verdict", "variable", "partial"}
    rows = frame[frame.case == "lecture-sum-times"]
    assert sorted(rows.variable) == ["x", "y", "z"] and set(rows.verdict) == {PASS}


def test_nan_is_a_failure(bundled):
    _, run = bundled
    ref = conformance.reference_of(next(cr for cr in run.runs
                                        if cr.case.name == "act-relu-positive"))
    verdict, _, detail = ref.judge(math.nan, {"x": 1.0})
    assert verdict == "fail" and "nan" in detail


def test_kink_answers_are_classified():
    ref = Reference("r", 0.0, {"x": 0.0}, kink=True, one_sided={"x": (0.0, 1.0)})
    assert ref.judge(0.0, {"x": 0.0})[:2] == (PASS, CONVENTION)
    assert ref.judge(0.0, {"x": 0.5})[:2] == (PASS, ONE_SIDED)
    assert ref.judge(0.0, {"x": 1.0})[:2] == (PASS, ONE_SIDED)
    verdict, kink, detail = ref.judge(0.0, {"x": 2.0})
    assert (verdict, kink) == ("fail", OUTSIDE) and "outside" in detail
    assert ref.judge(0.0, {"x": math.nan})[1] == OUTSIDE


def test_replay_keeps_the_cases_sharing():
    graph = parse("sin(x * x) + cos(x * x) + x")
    program = program_of(graph, {"x": 2.0}, ["x"])
    assert [op for op, _, _ in program.ops].count("mul") == 1
    built = []
    replay(program, lambda n: built.append(n) or n, float,
           lambda op, a, b, c: built.append(op) or op)
    assert built.count("x") == 1 and built.count("mul") == 1


def test_replay_drops_steps_the_output_does_not_use():
    from compare.parser import parse_steps

    program = program_of(parse_steps({"u": "log(0 * y)", "f": "x * 2"}),
                         {"x": 1.0, "y": 1.0}, ["x", "y"])
    assert "log" not in program.primitives and len(program) == 3


def test_kink_table_comes_from_the_engine(bundled):
    # A class whose relu'(0) is 1: the probe reports what the class says, not a written list.
    class RightRelu(GoodValue):
        def relu(self):
            out = type(self)(max(self.data, 0.0), (self,))
            out._backward = lambda: self._give(self, (self.data >= 0) * out.grad)
            return out

    globals()["RightRelu"] = RightRelu   # the worker finds the class by its module
    RightRelu.__qualname__ = "RightRelu"
    library, ref = bundled
    result = conformance.run(library.select(["lecture-sum-times"]), [ValueAdapter.of(RightRelu)],
                             reference_run=ref)
    row = {k.probe: k for k in result.kinks if k.engine == ValueAdapter.of(RightRelu).name}
    assert row["relu'(0)"].gradient == 1.0
    assert row["abs'(0)"].text.startswith("unsupported")
    ours = {k.probe: k for k in result.kinks if k.engine == conformance.GRADCOMPARE}
    assert ours["relu'(0)"].gradient == 0.0


def test_check_engine_cli(capsys):
    good, bad = "value:test_conformance:GoodValue", "value:test_conformance:AssignValue"
    code = cli_main(["check", "--cases", str(BUGS), "--jobs", "1", "--engine", f"{good},{bad}"])
    out = capsys.readouterr().out
    assert code == 1, out   # the buggy class fails
    assert f"{good} local class: 14 pass, 0 fail, 0 error, 0 timeout, 0 unsupported" in out
    assert "µs per node" in out
    failing = {line.split()[0] for line in out.splitlines() if f" {bad} " in line}
    assert {"bug-self-add", "bug-self-mul", "bug-reused-nonleaf"} <= failing


@pytest.mark.parametrize("spec, message", [
    ("value:no_such_module_xyz:Value", "cannot import module 'no_such_module_xyz'"),
    ("value:test_conformance:NoSuchClass", "has no class 'NoSuchClass'"),
    ("nosuchengine", "unknown engine 'nosuchengine'"),
    ("value:bad", "write value:MODULE:CLASS"),
])
def test_a_missing_engine_is_one_line_and_exit_2(spec, message, capsys):
    code = cli_main(["check", "--cases", str(BUGS), "--engine", spec])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_export_json_has_exact_values_beside_floats(tmp_path, capsys):
    out = tmp_path / "cases.json"
    assert cli_main(["export", "--format", "json", "--jobs", "1", "--cases", str(BUGS), "--case",
                     "bug-div-shared", "--case", "bug-pow-both", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    cases = {c["name"]: c for c in doc["cases"]}
    div = cases["bug-div-shared"]
    assert div["reference"]["gradient"]["x"] == {"float": 0.12, "exact": "3/25"}
    assert div["reference"]["value"] == {"float": 0.4, "exact": "2/5"}
    assert [n["op"] for n in div["nodes"]] == ["var", "var", "add", "div"]
    assert div["nodes"][3]["args"] == [0, 2] and div["output"] == 3
    assert cases["bug-pow-both"]["reference"]["gradient"]["y"]["exact"] == "8*log(2)"


def test_compare_testing_runs_a_class_in_three_lines():
    from compare.testing import check_engine, reference_cases

    picked = reference_cases(str(BUGS), names=["bug-self-mul", "bug-tanh-derivative"], jobs=1)
    for case in picked:
        check_engine(GoodValue, case)
    with pytest.raises(AssertionError, match="bug-self-mul"):
        check_engine(AssignValue, picked[0])
    with pytest.raises(AssertionError, match="bug-tanh-derivative"):
        check_engine(TanhBugValue, picked[1])
    # any engine: replay on its own objects, then check the answer
    case = picked[0]
    values = case.replay(lambda n: case.point[n], float,
                         lambda op, a, b, c: a * b if op == "mul" else None)
    case.check(values[-1], {"x": 2 * case.point["x"]})
    with pytest.raises(AssertionError):
        case.check(values[-1], {"x": case.point["x"]})


def test_unknown_engine_names_fail_before_any_work():
    with pytest.raises(Exception, match="unknown engine"):
        adapter_for("tensorflow")


# -- installed engines -------------------------------------------------------------------------
def test_micrograd_unsupported_listed_and_recursion_reported(bundled):
    pytest.importorskip("micrograd")
    library, ref = bundled
    picked = library.select([], ["engine-bugs"])
    result = conformance.run(picked, ["micrograd"], reference_run=ref, probes=False)
    got = {r.case: r for r in result.results}
    assert got["bug-deep-chain-1200"].verdict == "error"
    assert "RecursionError" in got["bug-deep-chain-1200"].detail
    assert got["bug-tanh-derivative"].verdict == UNSUPPORTED
    assert got["bug-tanh-derivative"].unsupported == ["tanh"]
    assert got["bug-pow-both"].unsupported == ["pow (variable exponent)"]
    # micrograd 0.1.0 has no tanh, exp or log: those cases are listed, every other one passes
    lacking = {c for c, r in got.items() if r.verdict == UNSUPPORTED}
    assert all(set(got[c].unsupported) <= {"tanh", "exp", "log", "pow (variable exponent)"}
               for c in lacking)
    assert {"bug-tanh-derivative", "bug-pow-both"} <= lacking
    assert {r.verdict for c, r in got.items()
            if c not in lacking and c != "bug-deep-chain-1200"} == {PASS}


def test_torch_passes_the_engine_bugs_and_kinks(bundled):
    pytest.importorskip("torch")
    library, ref = bundled
    picked = library.select([], ["engine-bugs", "kink"])
    result = conformance.run(picked, ["torch"], reference_run=ref)
    assert {r.verdict for r in result.results} == {PASS}
    assert all(r.kink in ("", CONVENTION) for r in result.results)
    torch_kinks = {k.probe: k.gradient for k in result.kinks if k.engine == "torch"}
    assert torch_kinks["relu'(0)"] == 0.0 and torch_kinks["max(x, y) at x = y = 1: ∂/∂x"] == 0.5
    assert result.speed("torch")[0] > 0


def test_a_case_without_reference_is_skipped_and_not_a_pass(tmp_path, capsys):
    path = tmp_path / "odd.yaml"
    path.write_text("cases:\n  - name: log-at-zero\n    expression: log(x) + y\n"
                    "    at: {x: 0, y: 1}\n")
    args = ["check", "--cases", str(path), "--jobs", "1", "--engine",
            "value:test_conformance:GoodValue"]
    assert cli_main(args) == 1
    out = capsys.readouterr().out
    assert "skipped" in out and "no exact reference" in out
    assert cli_main(args + ["--allow-unverified"]) == 0


def test_report_page_only_when_engines_are_asked_for(bundled, tmp_path):
    from compare.report import write_report

    library, ref = bundled
    picked = library.select(["lecture-sum-times", "kink-relu-at-zero", "act-tanh"])
    run = run_library(picked, ["naive", "backprop"], jobs=1, record=True)
    result = conformance.run(picked, [ValueAdapter.of(TanhBugValue)], reference_run=run)
    write_report(run, tmp_path, handout_tag=None, conformance=result)
    page = (tmp_path / "conformance.md").read_text()
    assert "## At the kinks, as each engine answers" in page and "relu'(0)" in page
    assert "fail: ∂/∂x" in page and "µs per node" in page
    assert "(conformance.md)" in (tmp_path / "README.md").read_text()
    write_report(run, tmp_path, handout_tag=None)   # no engines: no page, no link
    assert not (tmp_path / "conformance.md").exists()
    assert "conformance.md" not in (tmp_path / "README.md").read_text()


def test_the_bundled_adapters_map_every_primitive():
    """A primitive added to compare.primitives must be mapped (or be unsupported on purpose)."""
    from compare.engines.base import OPERATORS
    from compare.engines.jax import JaxAdapter
    from compare.engines.torch import TorchAdapter
    from compare.primitives import PRIMITIVES

    assert set(TorchAdapter.ops) == set(PRIMITIVES) == set(JaxAdapter.ops)
    assert OPERATORS <= set(PRIMITIVES)


def test_an_engine_answering_an_infinite_side_is_one_sided_not_outside():
    """torch's sqrt'(0) = inf is the right-hand derivative, (none, inf): one-sided, a pass."""
    ref = conformance.Reference(case="sqrt-at-0", value=0.0, gradient={"x": None}, kink=True,
                                one_sided={"x": (None, math.inf)}, rel_tol=1e-9, abs_tol=1e-12)
    assert ref._between("x", math.inf) and not ref._between("x", 5.0)


def test_an_engine_hanging_from_its_first_run_times_out_per_case_not_at_load(bundled):
    """The warm-up runs under a case's deadline: an engine whose backward hangs from the start
    is judged by its cases (timeouts), not refused after minutes as 'could not be loaded'."""
    library, ref = bundled
    limits = DEFAULT_LIMITS.with_overrides({"engine_seconds": "0.5"})
    picked = library.select(["lecture-sum-times", "act-relu-positive"])
    result = conformance.run(picked, [ValueAdapter.of(BackwardHangsValue)], limits,
                             reference_run=ref, probes=False)
    assert {r.case: r.verdict for r in result.results} == {
        "lecture-sum-times": "timeout", "act-relu-positive": "timeout"}
