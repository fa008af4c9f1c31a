"""Batched evaluation (compare.batched) agrees with the scalar engine, point by point.

Each primitive's batched entry is checked against its scalar entry at many points, kinks and
domain edges included; every bundled case is checked at 1,000 random points in its domain;
trouble at some points is reported for those points only, worded as the scalar engine words it.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

import compare
from compare import batched
from compare.cases import load_library
from compare.forward import forward
from compare.methods.backprop import differentiate
from compare.primitives import PRIMITIVES

ROOT = Path(__file__).resolve().parent.parent
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 1.5, -2.5, 1e-300, -1e-300,
           1e300, -1e300, 709.0, 710.0, -745.0, math.pi / 2, 37.0, -37.0, 0.1, 1e-8]


def _scalar(call):
    """The scalar entry's answer: a float, or None where it raises (outside the domain)."""
    try:
        return float(call())
    except (ArithmeticError, ValueError):
        return None


def _same(scalar, batch):
    if scalar is None or not math.isfinite(scalar):
        return not math.isfinite(batch)
    return batch == scalar or abs(batch - scalar) <= 1e-12 * abs(scalar)


@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_each_primitives_batched_entry_matches_its_scalar_entry(name):
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(7)
    values = (SPECIAL + rng.uniform(-4, 4, 40).tolist()
              + rng.integers(-3, 4, 6).astype(float).tolist())
    pairs = (list(itertools.product(values, repeat=2)) if prim.arity == 2
             else [(a, None) for a in values])
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs]) if prim.arity == 2 else None
    rule = prim.batched
    with np.errstate(all="ignore"):
        out = np.broadcast_to(rule.evaluate(np, a, b), a.shape)
        partials = [np.broadcast_to(d(np, a, b, out), a.shape) for d in rule.partials]
    checked = 0
    for k, (x, y) in enumerate(pairs):
        args = (x,) if y is None else (x, y)
        s = _scalar(lambda: prim.evaluate(*args))
        assert _same(s, out[k]), (name, x, y, s, out[k])
        if s is None or not math.isfinite(s):
            continue
        for pos, d in enumerate(prim.partials):
            sd = _scalar(lambda: d(x, y, s))
            assert _same(sd, partials[pos][k]), (name, pos, x, y, sd, partials[pos][k])
            checked += 1
        # Both arguments plain numbers (a subexpression of constants): same answer.
        with np.errstate(all="ignore"):
            single = rule.evaluate(np, x, y)
        assert _same(s, float(single)), (name, x, y)
    assert checked > 20


def _domain_points(case, n, rng):
    """n random points near the case's point where the scalar engine gives a plain gradient."""
    names = list(case.graph.variables)
    for scale in (0.5, 0.1, 0.01, 0.001):
        pool = {v: case.at[v] + scale * max(1.0, abs(case.at[v])) * rng.uniform(-1, 1, 6 * n)
                for v in names}
        keep = []
        for k in range(6 * n):
            point = {v: float(pool[v][k]) for v in names}
            r = differentiate(case.graph, point, case.wrt)
            if r.status == "ok":
                keep.append((point, r))
                if len(keep) == n:
                    return keep
    pytest.fail(f"{case.name}: fewer than {n} points in the domain near its point")


BUNDLED = load_library(ROOT / "cases").cases


@pytest.mark.parametrize("case", BUNDLED, ids=[c.name for c in BUNDLED])
def test_batched_agrees_with_the_scalar_engine_on_every_bundled_case(case):
    """1e-12 relative, except at the few points where float64 cannot hold the answer that well.

    numpy's exp and tanh differ from the C library's in the last bits (numpy's are vectorized
    approximations a few units in the last place apart), and a formula like 1 − tanh² near
    saturation multiplies that difference by its condition number: the scalar engine is then
    itself 1e-13 … 1e-10 away from the exact value, on one side or the other.  Every miss is
    therefore judged against SymPy's exact derivative (the batched answer within 1e-6 of it),
    and misses must stay below 5 % of the points, so a wrong batched rule cannot hide.
    """
    from compare.methods.symbolic import differentiate as exact

    rng = np.random.default_rng(abs(hash(case.name)) % 2**32)
    points = _domain_points(case, 1000, rng)
    columns = {v: np.array([p[v] for p, _ in points]) for v in case.graph.variables}
    got = batched.evaluate(case.graph, columns, case.wrt)
    assert got.points == 1000 and bool(got.ok.all())
    assert (got.status == 0).all()
    conditioned = 0
    for k, (point, r) in enumerate(points):
        pairs = [("f", got.value[k], r.value)] + [
            (v, got.gradient[v][k], r.gradient[v]) for v in case.wrt]
        misses = [(name, b, s) for name, b, s in pairs if not _close(b, s)]
        if not misses:
            continue
        conditioned += 1
        ref = exact(case.graph, point, case.wrt)
        for name, b, s in misses:
            e = ref.value if name == "f" else ref.gradient[name]
            assert abs(b - e) <= 1e-6 * abs(e), (case.name, k, name, b, s, e)
    assert conditioned <= 50, f"{case.name}: {conditioned} points beyond 1e-12"


def _close(batch, scalar):
    return batch == scalar or abs(batch - scalar) <= 1e-12 * abs(scalar)


def test_trouble_is_reported_per_point_as_the_scalar_engine_reports_it():
    graph = compare.parse("log(x) + sqrt(y) + relu(x - 1) + exp(y * 1000) / (x - 2) + max(x, y)")
    xs = np.array([1.0, -1.0, 1.5, 2.0, 3.0, 0.0, 0.25, 1.5])
    ys = np.array([0.5, 0.5, -1.0, 0.5, 1.0, 1.0, 0.25, 0.0])
    got = batched.evaluate(graph, {"x": xs, "y": ys}, ["x", "y"])
    for k in range(len(xs)):
        point = {"x": xs[k], "y": ys[k]}
        r = differentiate(graph, point, ["x", "y"])
        assert got.status_of(k) == r.status, (k, got.status_of(k), r.status)
        if r.status in ("domain", "overflow", "nonfinite"):
            assert math.isnan(got.value[k]) and math.isnan(got.gradient["x"][k])
            assert got.note(k, graph) == forward(graph, point).message
        else:
            assert got.value[k] == pytest.approx(r.value, rel=1e-12)
            for v in ("x", "y"):
                if r.gradient[v] is None:       # sqrt'(0): no gradient at that point
                    assert math.isnan(got.gradient[v][k])
                else:
                    assert got.gradient[v][k] == pytest.approx(r.gradient[v], rel=1e-12)
    assert [got.status_of(k) for k in range(len(xs))] == [
        "nondifferentiable", "domain", "domain", "domain", "overflow", "domain",
        "nondifferentiable", "nondifferentiable"]
    assert "relu(x − 1)" in got.note(0, graph) and "max" in got.note(6, graph)


def test_a_kink_with_an_infinite_slope_has_no_gradient_at_that_point_only():
    graph = compare.parse("sqrt(x) * y")
    got = batched.evaluate(graph, {"x": np.array([0.0, 4.0]), "y": 3.0}, ["x", "y"])
    assert [got.status_of(k) for k in (0, 1)] == ["nondifferentiable", "ok"]
    assert math.isnan(got.gradient["x"][0]) and got.gradient["x"][1] == 0.75
    assert differentiate(graph, {"x": 0.0, "y": 3.0}, ["x", "y"]).status == "nondifferentiable"


def test_numbers_broadcast_and_chunks_join_up():
    graph = compare.parse("x * y + z")
    xs = np.arange(10.0)
    got = batched.evaluate(graph, {"x": xs, "y": 2.0, "z": 1.0}, ["x", "y", "z"], chunk=3)
    assert list(got.value) == list(2 * xs + 1)
    assert list(got.gradient["x"]) == [2.0] * 10 and list(got.gradient["y"]) == list(xs)
    assert list(got.gradient["z"]) == [1.0] * 10


def test_value_only_and_grid_shape():
    graph = compare.parse("x^2 + 10 * y")
    values = batched.grid(graph, "x", np.array([0.0, 1.0, 2.0]), "y", np.array([0.0, 1.0]))
    assert values.shape == (2, 3) and values[1, 2] == 14.0
    assert batched.evaluate(graph, {"x": 1.0, "y": 1.0}).gradient == {}


@pytest.mark.parametrize("columns, message", [
    ({"x": 1.0}, "no column for y"),
    ({"x": np.zeros(3), "y": np.zeros(4)}, "different lengths"),
    ({"x": np.zeros((2, 2)), "y": 1.0}, "one-dimensional"),
])
def test_bad_columns_are_refused_with_a_clear_message(columns, message):
    with pytest.raises(ValueError, match=message):
        batched.evaluate(compare.parse("x + y"), columns)


def test_the_table_refuses_an_entry_without_a_batched_rule():
    import dataclasses

    from compare.primitives import BatchedRule, TableError, check_primitive

    sin = PRIMITIVES["sin"]
    for bad in (dataclasses.replace(sin, batched=None),
                dataclasses.replace(sin, batched=BatchedRule(sin.batched.evaluate, ())),
                dataclasses.replace(sin, batched=BatchedRule(None, sin.batched.partials))):
        with pytest.raises(TableError, match="primitive 'sin': .*batched"):
            check_primitive(bad, {})
