"""Forward mode and central differences (issue 14): the floors, pinned.

forward == backprop to 1e-12 relative with counts equal to `predict_forward`, on the bundled
library and on generated expressions; numeric agrees with the exact gradient to its own
tolerance on every smooth case, with the exact methods' status at kinks and domain edges.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import compare
from compare.cases import default_cases_path, load_library
from compare.counting import predict_forward
from compare.engine import gradient_check, run_case
from compare.methods import METHODS, backprop, forward_mode, numeric
from compare.result import HAS_GRADIENT

from test_properties import SETTINGS, _ok_point, _setup, expressions, points

FEWER = SETTINGS.__class__(SETTINGS, max_examples=60)   # the suite's time: a few seconds


@pytest.fixture(scope="module")
def answers():
    """backprop, forward and numeric on every bundled case, once."""
    library = load_library(default_cases_path())
    assert library.cases and not library.errors
    return [(case, {m: METHODS[m](case.graph, case.at, case.wrt)
                    for m in ("backprop", "forward", "numeric")}) for case in library.cases]


def _counts(c):
    return (c.derivatives, c.multiplications, c.additions, c.passes)


def _same(a, b, rel=1e-12):
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def test_forward_equals_backprop_and_its_prediction_on_every_bundled_case(answers):
    compared = 0
    for case, r in answers:
        b, f = r["backprop"], r["forward"]
        assert f.status == b.status, case.name
        assert _counts(f.counts) == _counts(predict_forward(case.graph, case.wrt)), case.name
        if b.ok:
            compared += 1
            assert f.value == b.value
            for v in case.wrt:
                assert _same(f.gradient[v], b.gradient[v]), (case.name, v)
    assert compared >= 80


def test_numeric_status_matches_the_exact_methods_everywhere(answers):
    for case, r in answers:
        assert r["numeric"].status == r["backprop"].status, (case.name, r["numeric"].note)


def test_numeric_agrees_to_its_tolerance_on_every_smooth_case(answers):
    smooth = 0
    for case, r in answers:
        b, n = r["backprop"], r["numeric"]
        if b.status != "ok":
            continue
        smooth += 1
        for v in case.wrt:
            assert numeric.agrees(n, v, b.gradient[v]), (case.name, v, n.gradient[v])
            tol = n.numeric.tolerance.get(v)
            # Its own tolerance, derived from the step: never the exact methods' 1e-9.
            assert tol is None or tol > 1e-9 * abs(b.gradient[v]) or tol > 1e-12
    assert smooth >= 60


def test_at_every_kink_the_exact_value_lies_between_the_one_sided_differences(answers):
    kinks = 0
    for case, r in answers:
        b, n = r["backprop"], r["numeric"]
        if b.status != "nondifferentiable" or b.gradient[case.wrt[0]] is None:
            continue
        kinks += 1
        for v in case.wrt:
            assert n.numeric.sides[v] is not None
            assert numeric.between(n, v, b.gradient[v]) is True, (case.name, v)
    assert kinks >= 8


def test_relu_at_zero_one_sided_differences():
    r = compare.differentiate("relu(x)", "numeric", at={"x": 0.0})
    assert r.status == "nondifferentiable"
    left, right = r.numeric.sides["x"]
    assert (left, right) == (0.0, 1.0)
    assert r.gradient["x"] == 0.5          # the central difference straddles the kink
    assert numeric.between(r, "x", 0.0) and numeric.between(r, "x", 1.0)
    assert not numeric.between(r, "x", 1.5)


def test_domain_edge_says_so_instead_of_a_number():
    # sqrt at 0: sqrt(-h) is undefined; the exact methods stop there too.
    exact = compare.differentiate("sqrt(x)", "backprop", at={"x": 0.0})
    r = compare.differentiate("sqrt(x)", "numeric", at={"x": 0.0})
    assert r.status == exact.status and r.gradient["x"] is None
    assert "domain edge" in r.note and "x − h" in r.note
    # log at 1e-300: the function is fine, but x − h leaves the domain for every step tried.
    assert compare.differentiate("log(x)", "backprop", at={"x": 1e-300}).status == "ok"
    r = compare.differentiate("log(x)", "numeric", at={"x": 1e-300})
    assert r.status == "domain" and r.gradient["x"] is None and "domain edge" in r.note
    # log at 1e-8: a smaller step keeps x ± h inside, and the note says it was shrunk.
    r = compare.differentiate("log(x)", "numeric", at={"x": 1e-8})
    assert r.status == "ok" and "shrunk" in r.note
    assert numeric.agrees(r, "x", 1e8)


def test_step_and_counts_follow_the_definitions():
    r = compare.differentiate("sin(x) * y", "numeric", at={"x": 0.5, "y": 4.0})
    h = r.numeric.step["x"]
    assert h == numeric.step(0.5) and (0.5 + h) - 0.5 == h
    assert numeric.step(1e6) == pytest.approx(1e6 * numeric.EPS ** (1 / 3))
    # Tame: h and 2h suffice, 2 passes each, per variable; 2 operations per pass.
    assert r.counts.passes == 8
    assert r.counts.evaluations == 8 * 2
    assert r.counts.additions == r.counts.multiplications == 4
    assert r.counts.derivatives == 0
    assert r.counts.total == 16 + 8


def test_relative_error_is_cs231n():
    assert numeric.relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert numeric.relative_error(0.0, 0.0) == 0.0
    assert numeric.relative_error(None, 1.0) is None


def test_lecture_example_three_sweeps_side_by_side_with_backprop():
    at = {"x": 3, "y": -4, "z": 5}
    f = compare.differentiate("(x + y) * z", "forward", at=at, wrt=["x", "y", "z"])
    b = compare.differentiate("(x + y) * z", "backprop", at=at, wrt=["x", "y", "z"])
    assert f.gradient == b.gradient == {"x": 5.0, "y": 5.0, "z": -1.0}
    assert f.counts.passes == 3 and b.counts.passes == 1
    # x: (x+y)←x, f←(x+y); y: the same two; z: f←z.  Nothing meets twice in one sweep.
    assert _counts(f.counts) == (5, 5, 0, 3)
    assert _counts(b.counts) == (4, 4, 0, 1)


def test_sweep_table_for_a_handout():
    g = compare.parse("(x + y) * z")
    t = forward_mode.sweep_table(g, {"x": 3, "y": -4, "z": 5}, ["x", "y", "z"])
    assert t.variables == ["x", "y", "z"] and not t.note
    out = t.tangents[t.rows.index(g.output)]
    assert out == {"x": 5.0, "y": 5.0, "z": -1.0}
    assert sum(c[0] for c in t.counts.values()) == 5
    x_row = t.tangents[t.rows.index(g.variables["x"])]
    assert x_row == {"x": 1.0, "y": 0.0, "z": 0.0}
    bad = forward_mode.sweep_table(compare.parse("log(x)"), {"x": -1.0}, ["x"])
    assert bad.rows == [] and bad.note


def test_gradient_check_rows_for_a_handout():
    library = load_library(default_cases_path()).select(["lecture-sum-times"], [])
    run = run_case(library.cases[0], ("backprop",))
    rows = gradient_check(run)
    assert [r.variable for r in rows] == ["x", "y", "z"]
    for row in rows:
        assert row.exact_method == "backprop" and row.agrees is True
        assert row.rel_error < 1e-8 and row.tolerance > 0 and row.step > 0
    kink = run_case(load_library(default_cases_path()).select(["kink-relu-at-zero"], []).cases[0],
                    ("backprop", "numeric"))
    (row,) = gradient_check(kink)
    assert row.sides == (0.0, 1.0) and row.between is True and row.agrees is None


def test_numeric_is_never_the_reference_when_an_exact_method_answered():
    case = load_library(default_cases_path()).select(["lecture-sum-times"], []).cases[0]
    run = run_case(case, ("numeric", "forward"))
    assert run.reference == "forward" and run.passed
    alone = run_case(case, ("numeric",))
    assert alone.reference == "" and alone.passed     # judged against `expect`


@FEWER
@given(text=expressions(), point=points, wrt_mask=st.integers(0, 7))
def test_forward_matches_backprop_and_prediction_on_generated_expressions(text, point,
                                                                           wrt_mask):
    g, point, wrt = _setup(text, point, wrt_mask)
    _ok_point(g, point)
    f = forward_mode.differentiate(g, point, wrt)
    b = backprop.differentiate(g, point, wrt)
    assert f.status == b.status
    if f.status in HAS_GRADIENT and None not in f.gradient.values():
        assert _counts(f.counts) == _counts(predict_forward(g, wrt))
        scale = _terms(g, point, wrt)
        for v in wrt:
            fv, bv = f.gradient[v], b.gradient[v]
            assert (math.isnan(fv) and math.isnan(bv)) or _same(fv, bv, 1e-12) or \
                abs(fv - bv) <= 1e-12 * scale, (v, fv, bv, scale)


def _terms(g, point, wrt) -> float:
    """Σ |upstream × local| over backprop's edges: the size of what is summed into the
    gradients.  Where those terms cancel (sin(y) − y near 0) the two orders of summation are
    each right to the terms' rounding, and 1e-12 relative to the tiny result is not a
    meaningful demand; 1e-12 relative to the terms is."""
    from compare.cotangent import sweep
    from compare.forward import forward

    s = sweep(g, forward(g, point).values, g.depends_bytes(wrt), record=True)
    return sum(abs(r.product) for r in s.rows or [])


def test_round_off_is_judged_from_the_values_differenced_not_only_those_at_the_point():
    # Every value at x = 0 is 0, but f(±h) is not: the tolerance must not collapse to 0.
    r = compare.differentiate("tanh(tanh(x)) + tanh(tanh(x))", "numeric", at={"x": 0.0})
    assert r.status == "ok" and r.gradient["x"] != 2.0
    assert numeric.agrees(r, "x", 2.0)
    assert r.numeric.tolerance["x"] < 1e-9


@pytest.mark.parametrize("methods", ["forward", "numeric"])
def test_every_command_works_with_only_one_method(methods, tmp_path, capsys):
    from compare.cli import main

    case = ["--case", "lecture-sum-times"]
    assert main(["run", *case, "--methods", methods, "--table", "costs", "--format", "json",
                 "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert f'"method": "{methods}"' in out and '"method": "backprop"' not in out
    assert main(["check", *case, "--methods", methods, "--jobs", "1"]) == 0
    assert main(["report", *case, "--methods", methods, "--jobs", "1",
                 "--out", str(tmp_path / "r")]) == 0
    page = (tmp_path / "r" / "cases" / "lecture-sum-times.md").read_text()
    assert f"| {methods} " in page
    assert main(["scale", "fanout", "--sizes", "1:2", "--methods", methods, "--no-memory",
                 "--format", "csv"]) == 0
    assert main(["descend", "lecture-sigmoid-neuron-loss", "--method", methods,
                 "--steps", "1", "--format", "csv"]) == 0
    assert main(["numeric", "lecture-sum-times"]) == 0


def test_lecture_case_page_shows_forward_and_backprop_side_by_side(tmp_path):
    from compare.cli import main

    assert main(["report", "--case", "lecture-sum-times-steps", "--jobs", "1",
                 "--methods", "naive,backprop,forward,numeric",
                 "--out", str(tmp_path)]) == 0
    page = " ".join((tmp_path / "cases" / "lecture-sum-times-steps.md").read_text().split(" "))
    page = __import__("re").sub(r" +", " ", page)
    assert "| forward | ok | 5 | 5 | 0 | — | 3 | 10 |" in page
    assert "| backprop | ok | 4 | 4 | 0 | — | 1 | 8 |" in page
    assert "naive / backprop = 1.25, forward / backprop = 1.25" in page
    assert "## Gradient check (central differences)" in page
    index = (tmp_path / "README.md").read_text()
    assert "forward-mode / backprop" in index


def test_numeric_command_prints_the_v_and_plots_it(tmp_path, capsys):
    from compare.cli import main

    target = tmp_path / "v.svg"
    assert main(["numeric", "log-times-exp", "--plot", str(target)]) == 0
    out = capsys.readouterr().out
    errors = [float(line.split()[1]) for line in out.splitlines()
              if line.startswith("1e-")]
    assert len(errors) == 14
    low = errors.index(min(errors))
    assert 0 < low < 13 and errors[0] > 1e3 * errors[low] < errors[-1] / 1e3
    assert "numeric chose h = 1.21e-05" in out
    assert target.read_bytes().startswith(b"<?xml")
    assert main(["numeric", "no-such-case"]) == 2


def test_scale_fanin_ratio_rises_linearly_fanout_stays_one():
    from compare.scale import growth, sweep

    df = sweep(["fanin", "fanout"], [4, 8, 16, 32], ("forward", "backprop"), memory=False)
    g = growth(df).set_index(["family", "series"])
    fan = g.loc[("fanin", "forward / backprop operations")]
    assert fan["last"] > fan["min"] * 4
    assert 0.2 < fan["difference_per_step"] < 0.3        # linear: a constant per step of n
    out = g.loc[("fanout", "forward / backprop operations")]
    assert out["min"] == out["max"] == 1.0


@pytest.mark.parametrize("text, at", [("x * x + 1e30 - 1e30", {"x": 3.0}),
                                      ("(x - 1) ^ 7 * 1e20", {"x": 1.0000001})])
def test_numeric_that_resolves_nothing_is_imprecise_not_a_verdict(text, at):
    """Values far above the gradient leave the differences no digit: the estimate must not
    verify (or refute) anything, so it is `imprecise`, with no gradient counted as agreeing."""
    r = METHODS["numeric"](compare.parse(text), at, list(at))
    assert r.status == "imprecise" and "cannot resolve" in r.note


@pytest.mark.parametrize("method, per_input", [("forward", 1), ("numeric", 4)])
def test_inputs_times_nodes_runs_under_a_budget(method, per_input):
    """O(inputs × nodes): above sweep_budget the method says what it would cost, and does not
    run; at the budget it runs."""
    from compare.limits import Limits

    g = compare.parse(" + ".join(f"x{i} * x{i}" for i in range(40)))
    point = {f"x{i}": 0.5 for i in range(40)}
    visits = per_input * 40 * len(g)
    over = METHODS[method](g, point, list(point), Limits(sweep_budget=visits - 1))
    assert over.status == "over_budget" and over.counts is None
    assert f"{visits:,} node visits" in over.note and set(over.gradient.values()) == {None}
    at = METHODS[method](g, point, list(point), Limits(sweep_budget=visits))
    assert at.status == "ok" and at.gradient["x3"] == pytest.approx(1.0)
