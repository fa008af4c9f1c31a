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

import mpmath
import pytest

from compare.cases import Written, load_text
from compare.engine import run_case
from compare.methods import backprop, naive, symbolic
from compare.parser import parse, parse_steps
from compare.primitives import CONST, OPS, VAR

mp = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
DPS = 50


class Undefined(Exception):
    """The graph is undefined (or on a kink) at the point: no reference value."""


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
    exact = symbolic.differentiate_many([(g, p, w) for g, p, w, _ in cases], jobs=2)
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
    exact = symbolic.differentiate_many(cases, jobs=2)
    kinds = set()
    for (graph, point, wrt), s in zip(cases, exact):
        n = naive.differentiate(graph, point, wrt)
        b = backprop.differentiate(graph, point, wrt)
        where = (graph.describe(graph.output), point, n.note, s.note)
        assert n.status == b.status == s.status, (where, n.status, b.status, s.status)
        kinds.add(str(s.status))
    assert {"ok", "domain", "nondifferentiable"} <= kinds, kinds
