"""The primitive table, entry by entry.

Every test here is parametrized over `compare.primitives.PRIMITIVES` (or `FUNCTIONS`), so an
operation added to the table is checked with no new test: its local partials against central
finite differences of `evaluate` and against SymPy's derivative of its `sympy_rule`, `evaluate`
against the SymPy counterpart, its expression-language formulas (parsed and evaluated) against
its numeric partials, the SymPy kink markers it declares against those its derivative really
holds, how it is drawn (drawings parse back to the same value), and, where it declares kinks, the
kink predicate and the one-sided `kink_tangent` against one-sided finite differences.  The
table's validation (`check_primitive`) is tested on bad entries that never enter the table.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sympy

import compare
from compare import primitives
from compare.diagram import operation_text
from compare.forward import forward
from compare.methods import backprop, naive
from compare.primitives import (AT_ROOT, AT_TIE, AT_ZERO, CONSTANTS, FUNCTIONS, INFIX, PRIMITIVES,
                                Primitive, TableError, check_primitive)
from compare.formulas import display, render_formula
from compare.sympy_bridge import kink_functions, sympy_constant, sympy_function

NAMES = list(PRIMITIVES)
DIGITS = 30

# Candidate arguments: generic values (no integers, no ties, well away from 0), a few integers
# (so pow is also tried with integer exponents and negative bases) and the usual kink places.
GENERIC = [-2.3, -0.7, 0.4, 1.3, 2.9]
INTEGERS = [-1.0, 2.0, 3.0]
KINK_CANDIDATES = [0.0, 1.0, -1.5]


def _call(prim: Primitive, args: tuple[float, ...]) -> float:
    return prim.evaluate(*args)


def _ab(args: tuple[float, ...]) -> tuple[float, float | None]:
    return args[0], (args[1] if len(args) > 1 else None)


def _defined(prim: Primitive, args: tuple[float, ...]) -> bool:
    """In the domain, evaluable and finite."""
    a, b = _ab(args)
    if prim.domain(a, b) is not None:
        return False
    try:
        out = _call(prim, args)
    except (ValueError, ZeroDivisionError, OverflowError):
        return False
    return math.isfinite(out)


def _step(x: float) -> float:
    return 1e-5 * max(1.0, abs(x))


def _neighbourhood_regular(prim: Primitive, args: tuple[float, ...]) -> bool:
    """Defined and kink-free at the point and at every finite-difference probe around it."""
    probes = [args]
    for k in range(prim.arity):
        for s in (-1.0, 1.0):
            for scale in (1.0, 2.0):
                moved = list(args)
                moved[k] += s * scale * _step(args[k])
                probes.append(tuple(moved))
    for p in probes:
        if not _defined(prim, p) or prim.kink(*_ab(p)):
            return False
    return True


def regular_points(prim: Primitive) -> list[tuple[float, ...]]:
    values = GENERIC + INTEGERS
    if prim.arity == 1:
        candidates = [(v,) for v in values]
    else:
        candidates = [(a, b) for a, b in itertools.product(values, values) if a != b]
    return [c for c in candidates if _neighbourhood_regular(prim, c)]


def kink_points(prim: Primitive) -> list[tuple[float, ...]]:
    values = KINK_CANDIDATES + GENERIC
    if prim.arity == 1:
        candidates = [(v,) for v in values]
    else:
        candidates = list(itertools.product(values, values))
    return [c for c in candidates if _defined(prim, c) and prim.kink(*_ab(c))]


def _partial(prim: Primitive, k: int, args: tuple[float, ...]) -> float:
    a, b = _ab(args)
    return prim.partials[k](a, b, _call(prim, args))


def _central(prim: Primitive, k: int, args: tuple[float, ...]) -> tuple[float, float]:
    """Central difference with step h and its Richardson-extrapolated (h, 2h) refinement."""
    h = _step(args[k])

    def at(delta: float) -> float:
        moved = list(args)
        moved[k] += delta
        return _call(prim, tuple(moved))

    d1 = (at(h) - at(-h)) / (2 * h)
    d2 = (at(2 * h) - at(-2 * h)) / (4 * h)
    return d1, (4 * d1 - d2) / 3


def _symbols(prim: Primitive) -> list[sympy.Symbol]:
    return [sympy.Symbol(n, real=True) for n in "ab"[:prim.arity]]


def _subs(syms: list[sympy.Symbol], args: tuple[float, ...]) -> dict:
    # sympy.Float(float, n) is the float's exact binary value carried to n digits.
    return {s: sympy.Float(v, DIGITS) for s, v in zip(syms, args)}


def _sympy_number(expr) -> complex | float:
    value = sympy.N(expr, DIGITS)
    if value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        return math.nan
    if value.is_real:
        return float(value)
    return complex(value)


def _regular_params():
    out = []
    for name in NAMES:
        prim = PRIMITIVES[name]
        for args in regular_points(prim):
            for k in range(prim.arity):
                out.append(pytest.param(name, args, k, id=f"{name}-d{'ab'[k]}-{args}"))
    return out


def _point_params():
    return [pytest.param(name, args, id=f"{name}-{args}")
            for name in NAMES for args in regular_points(PRIMITIVES[name])]


REGULAR = _regular_params()
POINTS = _point_params()
KINKED = [n for n in NAMES if PRIMITIVES[n].kink_tangent is not None]


@pytest.mark.parametrize("name", NAMES)
def test_enough_regular_points(name):
    """The candidate grid gives every primitive several points to be tested at."""
    prim = PRIMITIVES[name]
    points = regular_points(prim)
    assert len(points) >= 3, f"{name}: only {points} usable; extend GENERIC"
    # Every argument position must be checked somewhere (pow's d/db needs a positive base).
    for k in range(prim.arity):
        usable = []
        for args in points:
            try:
                usable.append(math.isfinite(_partial(prim, k, args)))
            except (ValueError, ZeroDivisionError, OverflowError):
                usable.append(False)
        assert sum(usable) >= 3, f"{name}: partial {k} usable at fewer than 3 points"


@pytest.mark.parametrize("name, args, k", REGULAR)
def test_partial_matches_central_difference(name, args, k):
    prim = PRIMITIVES[name]
    try:
        d = _partial(prim, k, args)
    except (ValueError, ZeroDivisionError, OverflowError):
        # A partial may only refuse where the function is not defined on both sides along that
        # argument (pow's d/db at a negative base with an integer exponent).
        h = _step(args[k])
        sides = []
        for s in (-1.0, 1.0):
            moved = list(args)
            moved[k] += s * h
            sides.append(_defined(prim, tuple(moved)))
        assert not all(sides), f"{name}: partial {k} refused at {args} in a regular region"
        return
    d1, rich = _central(prim, k, args)
    scale = max(1.0, abs(_call(prim, args)), abs(d))
    # Truncation error of the Richardson estimate is O(h^4), rounding about eps*|f|/h.
    assert abs(d - rich) <= 1e-6 * scale, (name, args, k, d, rich, d1)


@pytest.mark.parametrize("name, args, k", REGULAR)
def test_partial_matches_sympy(name, args, k):
    prim = PRIMITIVES[name]
    syms = _symbols(prim)
    expr = sympy.diff(sympy_function(prim)(*syms), syms[k])
    expected = _sympy_number(expr.subs(_subs(syms, args)))
    try:
        d = _partial(prim, k, args)
    except (ValueError, ZeroDivisionError, OverflowError):
        # Refusing is right only where the real derivative does not exist.
        assert not (isinstance(expected, float) and math.isfinite(expected)), (
            f"{name}: partial {k} refused at {args}, SymPy gives {expected}")
        return
    assert isinstance(expected, float), f"{name} at {args}: SymPy's derivative is {expected}"
    assert d == pytest.approx(expected, rel=1e-13, abs=1e-14), (name, args, k)


@pytest.mark.parametrize("name, args", POINTS)
def test_evaluate_matches_sympy(name, args):
    prim = PRIMITIVES[name]
    syms = _symbols(prim)
    expected = _sympy_number(sympy_function(prim)(*syms).subs(_subs(syms, args)))
    assert isinstance(expected, float), f"{name} at {args}: SymPy's value is {expected}"
    assert _call(prim, args) == pytest.approx(expected, rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_table_entry_shape(name):
    prim = PRIMITIVES[name]
    assert prim.name == name
    others = {n: p for n, p in PRIMITIVES.items() if n != name}
    check_primitive(prim, others)   # what _declare checked, still true
    assert len(display(prim)) == prim.arity
    for formula in display(prim):
        assert isinstance(formula, str) and formula
        formula.format(a="a", b="b", out="out")  # only the documented placeholders
        if prim.arity == 1:
            assert "{b}" not in formula
    syms = _symbols(prim)
    assert sympy_function(prim)(*syms).free_symbols <= set(syms)


@pytest.mark.parametrize("name", NAMES)
def test_kink_place_is_declared_with_its_one_sided_rule(name):
    """A primitive names where its kinks are (the forward pass screens graphs by it) exactly
    when it gives the one-sided rule there; the kink test follows the declared place."""
    prim = PRIMITIVES[name]
    assert prim.kink_at in ("", AT_ZERO, AT_TIE, AT_ROOT)
    assert bool(prim.kink_at) == (prim.kink_tangent is not None)
    b = (0.5 if prim.kink_at == AT_ROOT else 0.0) if prim.arity == 2 else None
    assert prim.kink(0.0, b) == bool(prim.kink_at)
    assert prim.kink(-0.0, b) == bool(prim.kink_at)
    assert not prim.kink(0.25, -0.5 if prim.arity == 2 else None)


@pytest.mark.parametrize("name", KINKED)
def test_kink_points_exist(name):
    """A primitive declaring a kink rule really has a kink on the candidate grid."""
    assert kink_points(PRIMITIVES[name])


TANGENTS = [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0), (1.0, 1.0), (2.0, -1.0),
            (-1.0, 3.0), (-0.5, -0.25), (0.0, 0.0)]


def _one_sided_difference(prim: Primitive, args, ta: float, tb: float) -> float:
    """lim_{h->0+} (f(p + h t) - f(p)) / h, estimated; nan where f is undefined at p + h t."""
    f0 = _call(prim, args)
    estimates = []
    for h in (1e-6, 1e-8):
        moved = (args[0] + h * ta,) + ((args[1] + h * tb,) if prim.arity == 2 else ())
        if not _defined(prim, moved):
            return math.nan
        estimates.append((_call(prim, moved) - f0) / h)
    if abs(estimates[1]) > 3 * max(1.0, abs(estimates[0])):
        return math.inf  # blows up as h shrinks: an infinite slope
    return estimates[1]


@pytest.mark.parametrize("name", KINKED)
def test_kink_tangent_matches_one_sided_differences(name):
    prim = PRIMITIVES[name]
    for args in kink_points(prim):
        a, b = _ab(args)
        for ta, tb in TANGENTS:
            if prim.arity == 1:
                tb = 0.0
            expected = _one_sided_difference(prim, args, ta, tb)
            got = prim.kink_tangent(a, b, ta, tb)
            where = f"{name}{args} along ({ta}, {tb})"
            if math.isnan(expected):
                assert math.isnan(got), f"{where}: undefined on that side, got {got}"
            elif math.isinf(expected):
                assert got == expected, f"{where}: expected {expected}, got {got}"
            else:
                assert got == pytest.approx(expected, rel=1e-6, abs=1e-6), where


@pytest.mark.parametrize("name", KINKED)
def test_kink_convention_lies_between_one_sided_slopes(name):
    """Where a convention value is given at a kink, it is a subgradient-like choice: between
    the left and the right partial derivative along that argument."""
    prim = PRIMITIVES[name]
    for args in kink_points(prim):
        a, b = _ab(args)
        for k in range(prim.arity):
            try:
                d = _partial(prim, k, args)
            except (ValueError, ZeroDivisionError, OverflowError):
                continue  # sqrt'(0): no finite convention
            e = [0.0, 0.0]
            e[k] = 1.0
            right = prim.kink_tangent(a, b, e[0], e[1])
            left = -prim.kink_tangent(a, b, -e[0], -e[1])
            assert min(left, right) <= d <= max(left, right), (name, args, k, left, d, right)


# -- the documented conventions -------------------------------------------------------------

def test_relu_convention_at_zero():
    relu = PRIMITIVES["relu"]
    assert relu.kink(0.0, None)
    assert relu.partials[0](0.0, None, relu.evaluate(0.0)) == 0.0
    assert relu.kink_tangent(0.0, None, 1.0, 0.0) == 1.0
    assert relu.kink_tangent(0.0, None, -1.0, 0.0) == 0.0


def test_abs_convention_at_zero():
    ab = PRIMITIVES["abs"]
    assert ab.kink(0.0, None)
    assert ab.partials[0](0.0, None, ab.evaluate(0.0)) == 0.0
    assert ab.kink_tangent(0.0, None, 1.0, 0.0) == 1.0
    assert ab.kink_tangent(0.0, None, -1.0, 0.0) == 1.0  # |−h| = h


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("tie", [0.0, 1.5, -2.0])
def test_max_min_tie_share_half(name, tie):
    prim = PRIMITIVES[name]
    assert prim.kink(tie, tie)
    out = prim.evaluate(tie, tie)
    assert out == tie
    assert prim.partials[0](tie, tie, out) == 0.5
    assert prim.partials[1](tie, tie, out) == 0.5


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_choose_one_argument_off_tie(name):
    prim = PRIMITIVES[name]
    for a, b in [(1.0, 2.0), (2.0, 1.0), (-3.0, 0.5)]:
        out = prim.evaluate(a, b)
        chosen_a = out == a
        assert prim.partials[0](a, b, out) == (1.0 if chosen_a else 0.0)
        assert prim.partials[1](a, b, out) == (0.0 if chosen_a else 1.0)


@pytest.mark.parametrize("text, point", [("relu(x)", {"x": 0.0}), ("abs(x)", {"x": 0.0}),
                                         ("max(x, y)", {"x": 1.0, "y": 1.0}),
                                         ("min(x, y)", {"x": 1.0, "y": 1.0})])
def test_methods_use_the_convention_and_say_so(text, point):
    g = compare.parse(text)
    expected = {"relu": {"x": 0.0}, "abs": {"x": 0.0},
                "max": {"x": 0.5, "y": 0.5}, "min": {"x": 0.5, "y": 0.5}}[text.split("(")[0]]
    for method in (naive, backprop):
        r = method.differentiate(g, point, list(g.variables))
        assert r.status == "nondifferentiable", (method.NAME, r.status, r.note)
        assert r.gradient == expected
        assert r.node == text


@pytest.mark.parametrize("method", [naive, backprop], ids=["naive", "backprop"])
def test_sqrt_at_zero_reported_as_not_differentiable(method):
    g = compare.parse("sqrt(x)")
    r = method.differentiate(g, {"x": 0.0}, ["x"])
    assert r.status == "nondifferentiable", (r.status, r.note)
    assert r.node == "sqrt(x)"


# -- parsing and domain statuses --------------------------------------------------------------

@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_every_function_parses(name):
    prim = FUNCTIONS[name]
    args = ", ".join(["x", "y"][:prim.arity])
    for spelling in (name, *prim.aliases):
        g = compare.parse(f"{spelling}({args})")
        assert g.primitive(g.output) is prim
        assert [g.var_name[c] for c in g.args(g.output)] == ["x", "y"][:prim.arity]
    # Wrong argument counts are parse errors, not crashes.
    for count in (0, prim.arity + 1):
        with pytest.raises(compare.ParseError):
            compare.parse(f"{name}({', '.join(['x', 'y', 'z'][:count])})")


DOMAIN_CASES = [
    # text, point, status, the failing node as described
    ("log(x)", {"x": 0.0}, "domain", "log(x)"),
    ("sqrt(x)", {"x": -1.0}, "domain", "sqrt(x)"),
    ("1/x", {"x": 0.0}, "domain", "1 / x"),
    ("x**0.5", {"x": -8.0}, "domain", "x ^ 0.5"),
    ("exp(x)", {"x": 1000.0}, "overflow", "exp(x)"),
    ("y + 2*log(x)", {"x": 0.0, "y": 1.0}, "domain", "log(x)"),
    ("sin(y) * sqrt(x - y)", {"x": 1.0, "y": 2.0}, "domain", "sqrt(x − y)"),
    ("y / (x - 1)", {"x": 1.0, "y": 2.0}, "domain", "y / (x − 1)"),
    ("(x*y)**0.5", {"x": -2.0, "y": 4.0}, "domain", "(x · y) ^ 0.5"),
    ("exp(x*x) + y", {"x": 40.0, "y": 0.0}, "overflow", "exp(x · x)"),
    ("log(0)", {}, "domain", "log(0)"),
    ("sqrt(-1)", {}, "domain", "sqrt(−1)"),
    ("1/0", {}, "domain", "1 / 0"),
    ("exp(1000)", {}, "overflow", "exp(1000)"),
]


@pytest.mark.parametrize("text, point, status, node", DOMAIN_CASES,
                         ids=[c[0] for c in DOMAIN_CASES])
@pytest.mark.parametrize("method", [naive, backprop], ids=["naive", "backprop"])
def test_domain_status_names_node(method, text, point, status, node):
    g = compare.parse(text)
    wrt = list(g.variables)
    r = method.differentiate(g, point, wrt)
    assert r.status == status, (r.status, r.note)
    assert r.node is not None
    assert r.value is None
    assert r.gradient == {v: None for v in wrt}
    fw = forward(g, point)
    assert fw.status == status and r.node == g.describe(fw.node)
    # The description is the node's expression (ASCII and display spellings of − and · aside).
    normal = r.node.replace("−", "-").replace("·", "*")
    assert normal.replace(" ", "") == node.replace("−", "-").replace("·", "*").replace(" ", "")
    assert r.node in r.note


@pytest.mark.parametrize("method", [naive, backprop], ids=["naive", "backprop"])
def test_negative_base_constant_domain_status(method):
    g = compare.parse("(-8)**0.5")
    r = method.differentiate(g, {}, [])
    assert r.status == "domain", (r.status, r.note)
    assert r.node is not None and "^" in r.node and "8" in r.node


def test_negative_base_constant_node_text_reparses_to_same_failure():
    g = compare.parse("(-8)**0.5")
    r = backprop.differentiate(g, {}, [])
    again = compare.parse(r.node.replace("−", "-").replace("^", "**"))
    assert forward(again, {}).status == "domain", f"{r.node!r} parses to a defined expression"


def test_div_partial_at_extreme_magnitudes():
    div = PRIMITIVES["div"]
    for a, b in [(1e-200, 1e-200), (1e200, 1e200), (3e-160, -2e-160)]:
        out = div.evaluate(a, b)
        assert div.partials[1](a, b, out) == pytest.approx(-a / b / b, rel=1e-15), (a, b)
    g = compare.parse("x/y")
    r = backprop.differentiate(g, {"x": 1e-200, "y": 1e-200}, ["x", "y"])
    assert r.status == "ok", (r.status, r.note)


@pytest.mark.parametrize("method", [naive, backprop], ids=["naive", "backprop"])
def test_derivative_failure_lists_every_variable(method):
    g = compare.parse("x**y + z")
    r = method.differentiate(g, {"x": -2.0, "y": 2.0, "z": 1.0}, ["x", "y", "z"])
    assert r.status == "domain" and r.node == "x ^ y", (r.status, r.node)
    assert r.gradient == {"x": None, "y": None, "z": None}


# -- the table's validation -------------------------------------------------------------------

def _bad_entries():
    """(id, entry) pairs, each breaking one rule; made with dataclasses.replace, never declared."""
    sin, mul, relu, add, neg = (PRIMITIVES[n] for n in ("sin", "mul", "relu", "add", "neg"))
    return [
        ("arity-3", dataclasses.replace(sin, arity=3)),
        ("partials-count", dataclasses.replace(sin, arity=2)),
        ("formulas-count", dataclasses.replace(mul, partial_formulas=("b",))),
        ("formula-and-override", dataclasses.replace(relu, partial_formulas=("1",))),
        ("no-formula", dataclasses.replace(sin, partial_formulas=())),
        ("typeset-formula", dataclasses.replace(sin, partial_formulas=("cos(a)·1",))),
        ("unary-formula-uses-b", dataclasses.replace(sin, partial_formulas=("cos(b)",))),
        ("override-placeholder", dataclasses.replace(relu, display_override=("[{x} > 0]",))),
        ("override-unary-b", dataclasses.replace(relu, display_override=("[{b} > 0]",))),
        ("kink-without-note", dataclasses.replace(relu, kink_note="")),
        ("kink-without-tangent", dataclasses.replace(relu, kink_tangent=None)),
        ("tangent-without-kink", dataclasses.replace(sin, kink_tangent=lambda a, b, ta, tb: ta)),
        ("note-without-kink", dataclasses.replace(sin, kink_note="sin has no kink")),
        ("unknown-kink-place", dataclasses.replace(relu, kink_at="a = 1")),
        ("unary-tie", dataclasses.replace(relu, kink_at=AT_TIE)),
        ("atoms-without-kink", dataclasses.replace(sin, kink_atoms=("Heaviside",))),
        ("infix-unary", dataclasses.replace(neg, notation=INFIX, spellings=("~",))),
        ("infix-no-symbol", dataclasses.replace(add, name="plus", symbol="", spellings=("++",))),
        ("infix-no-spelling", dataclasses.replace(add, name="plus", spellings=())),
        ("infix-atom-precedence", dataclasses.replace(add, name="plus", spellings=("++",),
                                                      precedence=primitives.ATOM)),
        ("call-with-other-symbol", dataclasses.replace(sin, name="sine", symbol="sin")),
        ("call-with-precedence", dataclasses.replace(sin, name="sine", precedence=2)),
        ("call-with-spelling", dataclasses.replace(sin, name="sine", spellings=("~",))),
        ("unknown-notation", dataclasses.replace(sin, notation="postfix")),
        ("unknown-associativity", dataclasses.replace(add, name="plus", spellings=("++",),
                                                      associativity="none")),
        ("sympy-rule-text", dataclasses.replace(sin, sympy_rule="sin(a)")),
        ("bad-name", dataclasses.replace(sin, name="Sin")),
    ]


@pytest.mark.parametrize("entry", [e for _, e in _bad_entries()],
                         ids=[i for i, _ in _bad_entries()])
def test_check_primitive_rejects_a_bad_entry(entry):
    with pytest.raises(TableError, match=f"primitive '{entry.name}'"):
        check_primitive(entry, {})


def test_check_primitive_rejects_names_and_spellings_already_declared():
    with pytest.raises(TableError, match="already declared"):
        check_primitive(PRIMITIVES["sin"], PRIMITIVES)
    plus = dataclasses.replace(PRIMITIVES["add"], name="plus")   # spells itself '+' too
    with pytest.raises(TableError, match=r"spelling.*'\+'.*already declared"):
        check_primitive(plus, PRIMITIVES)


def test_declare_refuses_a_bad_entry_and_leaves_the_table_alone():
    before = dict(PRIMITIVES)
    with pytest.raises(TableError):
        primitives._declare(dataclasses.replace(PRIMITIVES["relu"], name="relu2", kink_note=""))
    assert PRIMITIVES == before


def test_table_check_rejects_an_unknown_name_in_a_formula():
    sine = dataclasses.replace(PRIMITIVES["sin"], partial_formulas=("coz(a)",))
    with pytest.raises(TableError, match="coz"):
        primitives._check_table({"sin": sine}, CONSTANTS)
    primitives._check_table(PRIMITIVES, CONSTANTS)


# -- formulas: expression-language text, checked against the numeric partials ---------------

FORMULAS = [pytest.param(name, k, id=f"{name}-d{'ab'[k]}")
            for name in NAMES for k in range(len(PRIMITIVES[name].partial_formulas))]
OVERRIDDEN = [name for name in NAMES if PRIMITIVES[name].display_override]


def formula_points(prim: Primitive, count: int = 12, seed: int = 7) -> list[tuple[float, ...]]:
    """The grid's regular points and random ones, inside the domain and away from kinks."""
    rng = random.Random(f"{prim.name}-{seed}")
    points = list(regular_points(prim))
    tries = 0
    while len(points) < len(regular_points(prim)) + count and tries < 10_000:
        tries += 1
        args = tuple(rng.uniform(-4.0, 4.0) for _ in range(prim.arity))
        if _neighbourhood_regular(prim, args):
            points.append(args)
    return points


def formula_mismatches(prim: Primitive, k: int, text: str,
                       points: list[tuple[float, ...]]) -> list[tuple]:
    """Where the formula `text`, parsed and run by the forward pass, differs from the table's
    numeric partial k by more than 1e-12 relative (points where the partial refuses are skipped:
    the formula is checked where the derivative exists)."""
    graph = compare.parse(text)
    bad = []
    for args in points:
        a, b = _ab(args)
        out = _call(prim, args)
        try:
            expected = prim.partials[k](a, b, out)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        point = {"a": a, "b": b, "out": out}
        fw = forward(graph, {name: point[name] for name in graph.variables})
        if not fw.ok or not math.isclose(fw.value, expected, rel_tol=1e-12, abs_tol=1e-300):
            bad.append((args, fw.status, fw.value, expected))
    return bad


@pytest.mark.parametrize("name, k", FORMULAS)
def test_formula_matches_numeric_partial(name, k):
    prim = PRIMITIVES[name]
    points = formula_points(prim)
    assert len(points) >= 10
    text = prim.partial_formulas[k]
    allowed = {"a", "out"} | ({"b"} if prim.arity == 2 else set())
    assert set(compare.parse(text).variables) <= allowed, text
    assert not formula_mismatches(prim, k, text, points)


@pytest.mark.parametrize("name, k, wrong", [
    ("sqrt", 0, "1/sqrt(a)"), ("tanh", 0, "1 - out"), ("pow", 1, "log(a)"),
    ("div", 1, "-a/b"), ("sigmoid", 0, "sigmoid(a)*(1 + sigmoid(a))"), ("cos", 0, "sin(a)")])
def test_formula_check_catches_a_wrong_formula(name, k, wrong):
    prim = PRIMITIVES[name]
    assert formula_mismatches(prim, k, wrong, formula_points(prim))


@pytest.mark.parametrize("name", OVERRIDDEN)
def test_only_indicators_override_the_display(name):
    """The documented exceptions: partials the language cannot write, each with a kink."""
    assert name in ("relu", "abs", "max", "min")
    assert PRIMITIVES[name].kink_at and not PRIMITIVES[name].partial_formulas


# The display form handout.py shows, as it was written by hand before it was derived.
DISPLAY = {
    "add": ("1", "1"), "sub": ("1", "-1"), "mul": ("{b}", "{a}"), "div": ("1/{b}", "−{a}/{b}²"),
    "pow": ("{b}·{a}^({b}−1)", "{out}·ln({a})"), "neg": ("-1",), "exp": ("exp({a})",),
    "log": ("1/{a}",), "sqrt": ("1/(2·√{a})",), "sin": ("cos({a})",), "cos": ("−sin({a})",),
    "tan": ("1 + tan²({a})",), "tanh": ("1 − tanh²({a})",),
    "sigmoid": ("σ({a})·(1 − σ({a}))",), "relu": ("[{a} > 0]",), "abs": ("sign({a})",),
    "max": ("[{a} ≥ {b}]", "[{b} ≥ {a}]"), "min": ("[{a} ≤ {b}]", "[{b} ≤ {a}]"),
}


@pytest.mark.parametrize("name", list(DISPLAY))
def test_display_formulas_are_derived_unchanged(name):
    assert display(PRIMITIVES[name]) == DISPLAY[name]
    assert display(PRIMITIVES[name])[0].format(a="f1", b="f2", out="f3")


@pytest.mark.parametrize("text, shown", [
    ("sqrt(a + 1)", "√({a} + 1)"), ("2^(a*b)", "2^({a}·{b})"), ("(a + b)^2", "({a} + {b})²"),
    ("a - (b - out)", "{a} − ({b} − {out})"), ("-(a + b)", "−({a} + {b})"),
    ("exp(a)^3", "exp³({a})"), ("a^b^2", "{a}^({b}²)"), ("(a^b)^2", "({a}^{b})²"),
    ("1/3*a", "1/3·{a}"), ("max(a, b)", "max({a}, {b})")])
def test_render_formula(text, shown):
    assert render_formula(text) == shown


# -- SymPy: named in the table, resolved lazily -------------------------------------------------

MARKERS = ("Heaviside", "sign", "DiracDelta")


@pytest.mark.parametrize("name", NAMES)
def test_kink_atoms_are_what_the_sympy_derivative_holds(name):
    """A primitive declares exactly the kink markers its SymPy derivative introduces."""
    prim = PRIMITIVES[name]
    syms = _symbols(prim)
    expr = sympy_function(prim)(*syms)
    found = {m for m in MARKERS for s in syms
             if sympy.diff(expr, s).atoms(getattr(sympy, m))}
    assert found == set(prim.kink_atoms)


def test_kink_functions_come_from_the_table():
    assert set(kink_functions()) == {sympy.Heaviside, sympy.sign}


def test_exact_kinks_follow_the_table():
    """The exact pass finds kinks at the table's places, decided on exact values."""
    from compare.sympy_bridge import exact_kink
    half, third = sympy.Rational(1, 2), sympy.Rational(1, 3)
    assert exact_kink(PRIMITIVES["relu"], sympy.Integer(0), None)
    assert exact_kink(PRIMITIVES["abs"], sympy.log(2) + sympy.log(3) - sympy.log(6), None)
    assert not exact_kink(PRIMITIVES["relu"], sympy.Rational(1, 10**40), None)
    assert exact_kink(PRIMITIVES["max"], third, sympy.Integer(1) / 3)
    assert not exact_kink(PRIMITIVES["min"], third, third + sympy.Rational(1, 10**30))
    assert exact_kink(PRIMITIVES["pow"], sympy.Integer(0), half)
    assert not exact_kink(PRIMITIVES["pow"], sympy.Integer(0), sympy.Integer(2))
    assert not exact_kink(PRIMITIVES["exp"], sympy.Integer(0), None)


@pytest.mark.parametrize("name", list(CONSTANTS))
def test_constants_float_and_sympy_values_agree(name):
    value, _ = CONSTANTS[name]   # unpacks as the (float, exact) pair it replaced
    assert isinstance(value, float) and float(sympy_constant(name)) == value


def test_a_sympy_rule_naming_no_function_fails_with_the_primitive_name():
    ghost = dataclasses.replace(PRIMITIVES["sin"], sympy_rule="sine")
    with pytest.raises(TableError, match="'sin'.*'sine'"):
        sympy_function(ghost)


ROOT = Path(__file__).resolve().parent.parent
_SYMPY_LOADED = "import {modules}, sys; print('sympy' in sys.modules)"
# Loads the modules without running compare/__init__.py (which imports the methods).
_WITHOUT_PACKAGE_INIT = ("import sys, types; pkg = types.ModuleType('compare'); "
                         "pkg.__path__ = [{path!r}]; sys.modules['compare'] = pkg; ")
_CORE = "compare.primitives, compare.graph, compare.parser"


def _sympy_loaded(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""}, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_table_graph_and_parser_do_not_import_sympy():
    prefix = _WITHOUT_PACKAGE_INIT.format(path=str(ROOT / "compare"))
    code = prefix + _SYMPY_LOADED.format(modules=_CORE + ", compare.sympy_bridge")
    assert _sympy_loaded(code) == "False"
    # Drawing a display formula parses it: still no SymPy.
    code = prefix + ("import compare.primitives as p, compare.formulas as f, sys; "
                     "f.display(p.PRIMITIVES['sqrt']); print('sympy' in sys.modules)")
    assert _sympy_loaded(code) == "False"


def test_importing_the_table_through_the_package_does_not_import_sympy():
    assert _sympy_loaded(_SYMPY_LOADED.format(modules=_CORE)) == "False"


# -- drawing: the table's precedence, associativity and symbols -------------------------------

INFIX_NAMES = [n for n in NAMES if PRIMITIVES[n].infix]


def _python_text(drawn: str) -> str:
    return drawn.replace("−", "-").replace("·", "*")


@pytest.mark.parametrize("outer", INFIX_NAMES + ["neg"])
@pytest.mark.parametrize("inner", INFIX_NAMES + ["neg"])
def test_drawings_parse_back_to_the_same_value(outer, inner):
    """describe() puts exactly the parentheses needed: its text, parsed again, has the same
    value, whatever operation sits inside whatever other, on either side."""
    point = {"x": 1.7, "y": 0.6, "z": 1.3}
    for side in range(PRIMITIVES[outer].arity):
        g = compare.Graph()
        x, y, z = (g.variable(n) for n in "xyz")
        kid = g.apply(inner, x, y) if PRIMITIVES[inner].arity == 2 else g.apply(inner, x)
        args = [kid] if PRIMITIVES[outer].arity == 1 else ([kid, z] if side == 0 else [z, kid])
        g.output = g.apply(outer, *args)
        drawn = g.describe(g.output, limit=1000)
        again = compare.parse(_python_text(drawn))
        expected, got = forward(g, point).value, forward(again, point).value
        if expected is None:        # outside the domain, (−x)^z: the same again
            assert got is None, (drawn, got)
        else:
            assert got == pytest.approx(expected, rel=1e-14), (drawn, expected, got)


@pytest.mark.parametrize("name", NAMES)
def test_operation_text_draws_each_primitive_from_its_entry(name):
    prim = PRIMITIVES[name]
    g = compare.parse(f"{name}(x, y)" if name in FUNCTIONS and prim.arity == 2 else
                      f"{name}(x)" if name in FUNCTIONS else
                      "-x" if name == "neg" else f"x {prim.spellings[0]} y")
    text = operation_text(g, g.output, {0: "x", 1: "y", g.output: "f"})
    assert text == prim.draw(["x", "y"][:prim.arity])
    assert prim.symbol in text
