"""An independent reference, and the exact reference's regressions (issue 13).

The reference here is written separately from compare.sympy_bridge: it evaluates the graph's
tape node by node with mpmath at 50 digits (its own table of functions, its own domain and
kink tests) at the exact value of each float, and takes derivatives with mpmath's numerical
differentiation at that precision, so it shares neither SymPy nor the primitive table's
partials with the methods it checks.  Random expressions are built as steps, each step reusing
earlier ones (sharing), from a seeded generator.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import mpmath
import pytest

from compare.cases import Written, load_text
from compare.engine import run_case
from compare.limits import DEFAULT_LIMITS
from compare.methods import backprop, naive, symbolic
from compare.parser import parse, parse_steps
from compare.primitives import CONST, OPS, VAR

DPS = 50


class Undefined(Exception):
    """The graph is undefined (or on a kink) at the point: no reference value."""


# These tests judge correctness, not speed: SymPy gets time enough on a loaded machine (the
# library-wide budget would otherwise turn late items into timeouts).
UNHURRIED = DEFAULT_LIMITS.with_overrides({"sympy_seconds": "120", "sympy_total_seconds": "3600"})


def _kink(x) -> None:
    if x == 0:
        raise Undefined("kink")


def _log(a):
    if a <= 0:
        raise Undefined("log")
    return mpmath.log(a)


def _sqrt(a):
    if a < 0:
        raise Undefined("sqrt")
    _kink(a)
    return mpmath.sqrt(a)


def _div(a, b):
    if b == 0:
        raise Undefined("div")
    return a / b


def _pow(a, b):
    if a < 0 and b != int(b) or a == 0 and b <= 0:
        raise Undefined("pow")
    if a == 0 and 0 < b < 1:
        raise Undefined("root")
    return mpmath.power(a, b)


def _max(a, b):
    _kink(a - b)
    return max(a, b)


def _min(a, b):
    _kink(a - b)
    return min(a, b)


def _relu(a):
    _kink(a)
    return max(a, 0)


def _abs(a):
    _kink(a)
    return abs(a)


MP = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
      "div": _div, "pow": _pow, "neg": lambda a: -a, "exp": mpmath.exp, "log": _log,
      "sqrt": _sqrt, "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan,
      "tanh": mpmath.tanh, "sigmoid": lambda a: 1 / (1 + mpmath.exp(-a)), "relu": _relu,
      "abs": _abs, "max": _max, "min": _min}
CONSTANT = {"pi": lambda: mpmath.pi, "e": lambda: mpmath.e}


def mp_value(graph, point: dict) -> mpmath.mpf:
    """The output at `point` (name -> mpf), node by node; Undefined off the domain or on a
    kink."""
    vals: list = [None] * len(graph)
    for i in range(len(graph)):
        code = graph.op[i]
        if code == VAR:
            vals[i] = point[graph.var_name[i]]
        elif code == CONST:
            ex = graph.exact[i]
            vals[i] = CONSTANT[ex]() if isinstance(ex, str) else (
                mpmath.mpf(ex.numerator) / ex.denominator)
        else:
            vals[i] = MP[OPS[code].name](*[vals[c] for c in graph.args(i)])
            if not mpmath.isfinite(vals[i]) or abs(vals[i]) > 1.7e308:
                raise Undefined("overflow")
    return vals[graph.output]


def mp_reference(graph, point: dict, wrt: list[str]):
    """Value and gradient at the floats of `point`, at 50 digits (numerical differentiation
    of the 50-digit evaluation)."""
    with mpmath.workdps(DPS):
        at = {n: mpmath.mpf(float(v)) for n, v in point.items()}
        value = mp_value(graph, at)
        grad = {}
        for v in wrt:
            if v not in graph.variables:
                grad[v] = mpmath.mpf(0)
                continue
            def f(t, v=v):
                return mp_value(graph, {**at, v: t})
            grad[v] = mpmath.diff(f, at[v])
        return value, grad


# -- a seeded generator of expressions with sharing -------------------------------------------
UNARY = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "-")
BINARY = ("+", "-", "*", "/")
NUMBERS = ("0.5", "1.5", "2", "3", "0.25")


def random_steps(rng: random.Random, variables=("x", "y"), steps=(2, 5), unary=UNARY,
                 binary=BINARY, numbers=NUMBERS, extra=()) -> dict[str, str]:
    """Steps f1..fk, each an operation on variables, numbers and earlier steps (so later steps
    share earlier ones); `extra` adds calls like relu, abs, max, min."""
    names = list(variables)
    out: dict[str, str] = {}
    for k in range(1, rng.randint(*steps) + 1):
        def operand() -> str:
            r = rng.random()
            if r < 0.15:
                return rng.choice(numbers)
            return rng.choice(names[-3:] if r < 0.6 else names)
        kind = rng.random()
        if kind < 0.35:
            u = rng.choice(unary)
            text = f"-({operand()})" if u == "-" else f"{u}({operand()})"
        elif kind < 0.85 or not extra:
            text = f"({operand()}) {rng.choice(binary)} ({operand()})"
        else:
            f = rng.choice(extra)
            text = f"{f}({operand()}, {operand()})" if f in ("max", "min") else \
                f"{f}({operand()})"
        out[f"f{k}"] = text
        names.append(f"f{k}")
    return out


def _decimal(rng: random.Random) -> Written:
    text = f"{rng.uniform(-2, 2):.3f}"
    return Written(float(text), text)


def _in_domain_cases(n: int, seed: int = 13):
    rng = random.Random(seed)
    found = []
    while len(found) < n:
        steps = random_steps(rng)
        graph = parse_steps(steps)
        point = {v: _decimal(rng) for v in graph.variables}
        wrt = list(graph.variables)
        try:
            ref = mp_reference(graph, point, wrt)
        except (Undefined, ZeroDivisionError, ValueError):
            continue
        if any(abs(float(g)) > 1e12 for g in ref[1].values()) or abs(float(ref[0])) > 1e12:
            continue
        found.append((graph, point, wrt, ref))
    return found


def _close(got, want, rel=1e-9, floor=1e-12) -> bool:
    return got is not None and abs(got - float(want)) <= max(rel * abs(float(want)), floor)


def test_every_method_agrees_with_an_independent_50_digit_reference_on_500_cases():
    cases = _in_domain_cases(500)
    assert sum(len(g) > 4 for g, *_ in cases) > 300     # not only trivial graphs
    exact = symbolic.differentiate_many([(g, p, w) for g, p, w, _ in cases], UNHURRIED, jobs=2)
    flagged = 0
    for (graph, point, wrt, (value, grad)), s in zip(cases, exact):
        where = (graph.describe(graph.output), dict(point))
        answers = [naive.differentiate(graph, point, wrt), backprop.differentiate(graph, point, wrt), s]
        assert all(r.status != "error" for r in answers), where
        if s.status == "ill_conditioned":
            flagged += 1
            assert s.details.condition and s.details.decimal, where
            continue
        assert s.status == "ok", (where, s.status, s.note)
        for r in answers:
            assert r.status == "ok", (where, r.method, r.status, r.note)
            assert _close(r.value, value), (where, r.method, r.value, value)
            for v in wrt:
                assert _close(r.gradient[v], grad[v]), (where, r.method, v, r.gradient, grad)
    assert flagged < 25    # ill-conditioning is flagged where it is, not everywhere


EDGE_POINTS = (0.0, 0.0, 1.0, -1.0, 0.5, 2.0)


def _edge_cases(n: int, seed: int = 7):
    """Random graphs at points on kinks and domain edges: variables at 0, ±1, ties."""
    rng = random.Random(seed)
    found = []
    while len(found) < n:
        steps = random_steps(rng, unary=("log", "sqrt", "exp", "tanh", "-", "abs", "relu"),
                             binary=("+", "-", "*", "/", "**"), numbers=("0", "1", "2", "0.5"),
                             extra=("relu", "abs", "max", "min"))
        graph = parse_steps(steps)
        first = rng.choice(EDGE_POINTS)
        point = {v: (first if rng.random() < 0.5 else rng.choice(EDGE_POINTS))
                 for v in graph.variables}
        found.append((graph, point, list(graph.variables)))
    return found


def test_naive_backprop_and_sympy_give_the_same_status_at_300_kinks_and_domain_edges():
    cases = _edge_cases(300)
    exact = symbolic.differentiate_many(cases, UNHURRIED, jobs=2)
    kinds = set()
    for (graph, point, wrt), s in zip(cases, exact):
        n = naive.differentiate(graph, point, wrt)
        b = backprop.differentiate(graph, point, wrt)
        where = (graph.describe(graph.output), point, n.note, s.note)
        assert n.status == b.status == s.status, (where, n.status, b.status, s.status)
        kinds.add(str(s.status))
    assert {"ok", "domain", "nondifferentiable"} <= kinds, kinds


# -- each example of issue 13, as a regression ------------------------------------------------
def _all(text: str, at: dict, wrt=None):
    graph = parse(text)
    wrt = wrt or list(graph.variables)
    return graph, {m.NAME: m.differentiate(graph, at, wrt) if m is not symbolic else
                   symbolic.differentiate(graph, at, wrt, isolate=False)
                   for m in (naive, backprop, symbolic)}


@pytest.mark.parametrize("text, at, node", [
    ("b/(b + b)", {"b": 0.0}, "b / (b + b)"),
    ("(w + t)/(w + t)", {"w": 0.3, "t": -0.3}, "(w + t) / (w + t)"),
    ("log(x) - log(x) + x", {"x": 0.0}, "log(x)"),
    ("y/y + x", {"x": 1.0, "y": 0.0}, "y / y"),
])
def test_sympy_is_never_defined_where_the_graph_is_not(text, at, node):
    _, rs = _all(text, at)
    for m, r in rs.items():
        assert r.status == "domain" and r.node == node, (m, r.status, r.note)
        assert r.value is None and set(r.gradient.values()) == {None}


def test_a_kink_under_a_cancellation_is_a_kink_like_the_graph():
    _, rs = _all("sqrt(log(z)) - sqrt(log(z))", {"z": 1.0})
    assert {m: r.status for m, r in rs.items()} == dict.fromkeys(rs, "nondifferentiable")
    assert rs["sympy"].node == "sqrt(log(z))"


def test_an_unevaluated_heaviside_of_a_number_is_resolved():
    _, rs = _all("min(t, 1/(t + sigmoid(w)))", {"t": -0.719, "w": 0.654})
    s, b = rs["sympy"], rs["backprop"]
    assert s.status == "ok" and "Error" not in s.note
    for v in ("t", "w"):
        assert s.gradient[v] == pytest.approx(b.gradient[v], rel=1e-12)


@pytest.mark.parametrize("text, at", [("x**y", {"x": 0.0, "y": 2.0}), ("0**y", {"y": 2.0})])
def test_zero_to_a_positive_power_has_its_partials(text, at):
    _, rs = _all(text, at)
    for m, r in rs.items():
        assert r.status == "ok", (m, r.note)
        assert set(r.gradient.values()) == {0.0}


def test_the_reference_is_exact_at_the_float_and_shows_the_decimal_beside_it():
    cases, _ = load_text("cases:\n  - name: ill\n    expression: -e + sin(sin(exp(e/y)) + y)\n"
                         "    at: {y: 0.07546}\n")
    cr = run_case(cases[0])
    s = cr.results["sympy"]
    assert s.status == "ill_conditioned" and cr.ill_conditioned
    assert s.details.condition > 1e9 and "κ ≈" in s.note
    assert s.details.decimal["value"] == pytest.approx(-2.65925152, rel=1e-8)
    with mpmath.workdps(60):   # the float 0.07546's exact value, not the decimal's
        y = mpmath.mpf(0.07546)
        want = -mpmath.e + mpmath.sin(mpmath.sin(mpmath.exp(mpmath.e / y)) + y)
    assert s.value == pytest.approx(float(want), rel=1e-12)
    assert cr.verdict.value == "pass"    # flagged, and the float disagreement excused


def test_log_of_the_smallest_float_is_taken_at_the_float():
    _, rs = _all("log(x)", {"x": 5e-324})
    assert rs["sympy"].value == pytest.approx(-744.4400719213812, rel=1e-15)
    assert {r.status for r in rs.values()} == {"overflow"}   # 1/x is past the largest float


@pytest.mark.parametrize("text, at", [("exp(x)", {"x": 710.0}), ("exp(x) * 0", {"x": 800.0})])
def test_overflow_is_overflow_in_every_method(text, at):
    _, rs = _all(text, at)
    assert {m: r.status for m, r in rs.items()} == dict.fromkeys(rs, "overflow")


def test_sqrt_and_the_power_one_half_agree_at_zero():
    for text in ("sqrt(x)", "x**0.5"):
        cases, _ = load_text(f"cases:\n  - name: r\n    expression: {text} + relu(x)\n"
                             f"    at: {{x: 0}}\n")
        cr = run_case(cases[0])
        assert {r.status for r in cr.results.values()} == {"nondifferentiable"}, text
        assert cr.one_sided["x"] == (None, math.inf), text
        assert all("raised" not in r.note and "Error" not in r.note
                   for r in cr.results.values())


@pytest.mark.parametrize("text, at, wrt, grad", [
    ("max(x, x)", {"x": 1.0}, None, {"x": 1.0}),
    ("abs(x)^2", {"x": 0.0}, None, {"x": 0.0}),
    ("relu(x)*0 + x", {"x": 0.0}, None, {"x": 1.0}),
    ("relu(y - 1)*x", {"x": 2.0, "y": 1.0}, ["x"], {"x": 0.0}),
])
def test_a_kink_with_agreeing_one_sided_derivatives_is_ok_with_a_note(text, at, wrt, grad):
    _, rs = _all(text, at, wrt)
    for m, r in rs.items():
        assert r.status == "ok" and "one-sided derivatives agree" in r.note, (m, r.note)
        assert r.gradient == grad, m


def test_a_kink_with_differing_sides_stays_nondifferentiable():
    _, rs = _all("relu(y - 1)*x", {"x": 2.0, "y": 1.0})
    assert {r.status for r in rs.values()} == {"nondifferentiable"}
    assert rs["sympy"].details.sides["y"] == (0.0, 2.0)


def test_nan_beside_nan_at_a_kink_is_not_a_failure():
    cases, _ = load_text("cases:\n  - name: k\n    expression: sqrt(abs(x)) + min(x, y)\n"
                         "    at: {x: 0, y: 0}\n")
    cr = run_case(cases[0])
    assert {r.status for r in cr.results.values()} == {"nondifferentiable"}
    assert cr.verdict.value != "fail" and not cr.problems


def test_counts_of_a_stopped_method_are_labelled_partial():
    import pandas as pd
    from compare.engine import run_library
    from compare.tables import case_table, cost_table
    cases, _ = load_text("cases:\n  - name: s\n    expression: sqrt(x) * y + y * y\n"
                         "    at: {x: 0, y: 2}\n  - name: t\n    expression: x * y\n"
                         "    at: {x: 1, y: 2}\n")
    from compare.cases import Library
    run = run_library(Library(cases, [], []), methods=["naive", "backprop"], jobs=1)
    costs = cost_table(run).set_index(["case", "method"])
    assert bool(costs.loc[("s", "backprop"), "partial"]) and bool(costs.loc[("s", "naive"), "partial"])
    assert not costs.loc[("t", "backprop"), "partial"]
    cases_t = case_table(run).set_index("case")
    assert cases_t.loc["s", "backprop_total"] is pd.NA and cases_t.loc["t", "backprop_total"] == 4


# -- the graph normalisations the counts depend on (README, compare/counting.py) -------------
def _ops(text: str) -> int:
    from compare.forward import forward
    graph = parse(text)
    return forward(graph, dict.fromkeys(graph.variables, 1.5)).operations


def test_e_to_a_power_is_the_exp_node():
    assert _ops("e^x + exp(x)") == 2          # one exp node, one addition
    assert sum(parse("e^x").live()) == sum(parse("exp(x)").live()) == 2


def test_negative_numbers_are_leaves_and_negation_of_a_variable_is_an_operation():
    assert _ops("-3 * x") == _ops("-(3) * x") == 1
    assert _ops("-x") == 1


def test_numbers_merge_by_value_and_unary_plus_is_dropped():
    assert _ops("x*2 + x*2.0 + x*2e0") == 3    # x·2 built once, then two additions
    assert _ops("+x") == 0 and _ops("+x * y") == 1


def test_operands_in_another_order_are_another_node():
    assert _ops("(x + y) * (y + x)") == 3
    assert _ops("(x + y) * (x + y)") == 2


def test_only_live_nodes_count_and_a_variable_without_a_path_costs_nothing():
    from compare.engine import run_case as run_one
    cases, _ = load_text("cases:\n  - name: d\n    steps: {u: x * x, v: exp(z), f: u + y}\n"
                         "    at: {x: 1, y: 2, z: 3}\n    wrt: [x, y, z]\n")
    cr = run_one(cases[0], methods=["naive", "backprop"])
    assert cr.forward_ops == 2                # v = exp(z) is not live
    assert cr.results["naive"].gradient["z"] == cr.results["backprop"].gradient["z"] == 0.0
    # naive: x by 2 paths of length 2 (4 + 4, 1 addition), y by 1 path of length 1 (1 + 1)
    assert cr.results["naive"].counts.total == 4 + 4 + 1 + 1 + 1
    # backprop: relevant edges f->u, f->y, u->x twice: 4 derivatives, 4 products, 1 addition
    c = cr.results["backprop"].counts
    assert (c.derivatives, c.multiplications, c.additions) == (4, 4, 1)


def test_one_table_documents_every_status():
    import re
    from pathlib import Path
    from compare.result import Status
    docs = (Path(__file__).resolve().parent.parent / "docs" / "case-format.md").read_text(
        encoding="utf-8")
    section = docs[docs.index("## Trouble at the point"):docs.index("## Limits")]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)
    assert documented == [s.value for s in [Status.OK, Status.NONDIFFERENTIABLE,
                                            Status.ILL_CONDITIONED, Status.DOMAIN,
                                            Status.OVERFLOW, Status.NONFINITE,
                                            Status.OVER_BUDGET, Status.TIMEOUT,
                                            Status.TOO_LARGE, Status.IMPRECISE, Status.SKIPPED,
                                            Status.ERROR]]
    assert sorted(documented) == sorted(s.value for s in Status)


def test_check_lists_an_ill_conditioned_case_as_passed_but_flagged(tmp_path, capsys):
    from compare.cli import main
    (tmp_path / "c.yaml").write_text("cases:\n  - name: ill\n    expression: "
                                     "-e + sin(sin(exp(e/y)) + y)\n    at: {y: 0.07546}\n",
                                     encoding="utf-8")
    code = main(["check", "--cases", str(tmp_path / "c.yaml"), "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 0 and "pass, flagged" in out and "κ ≈" in out and "1 pass" in out


def test_exact_text_names_floats_and_keeps_exact_decimals():
    """fl(0.3) for the float nearest 0.3 (the reference's point), 1/2 and 3/10 untouched."""
    from compare.fmt import float_names

    x = Fraction(0.3)
    assert float_names(f"tan({x.numerator}/{x.denominator})**2 + 1") == "tan(fl(0.3))**2 + 1"
    assert float_names("3/10 + 1/2 + x1/2") == "3/10 + 1/2 + x1/2"
    assert float_names(None) is None
    big = Fraction(1e300)          # an integer-valued float: no fraction bar, left alone
    assert float_names(f"{big.numerator}") == f"{big.numerator}"
