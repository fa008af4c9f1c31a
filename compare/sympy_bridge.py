"""Graph -> SymPy expression, through the primitive table's `sympy_rule` entries.

Built node by node in topological order (no recursion on our side).  SymPy sees only
expressions assembled from its own constructors, never text from a case.  The table names its
SymPy counterparts without importing SymPy (importing it takes about half a second); this module
is where the names are resolved, once, when symbolic work first runs.  It imports SymPy only
inside the functions that build SymPy objects, so the size checks (`written_out_size`,
`oversized_power`) cost no import.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Callable, Optional

from .graph import Graph
from .primitives import (AT_TIE, AT_ZERO, CONST, CONSTANTS, OPS, PRIMITIVES, VAR, Primitive,
                         TableError)

if TYPE_CHECKING:  # pragma: no cover
    import sympy


def sympy_function(prim: Primitive) -> Callable[..., Any]:
    """The SymPy counterpart of a table entry, as a function of SymPy arguments."""
    import sympy

    rule = prim.sympy_rule
    if callable(rule):
        return partial(rule, sympy)
    fn = getattr(sympy, rule, None)
    if not callable(fn):
        raise TableError(f"primitive '{prim.name}': sympy has no function '{rule}'")
    return fn


@lru_cache(maxsize=None)
def sympy_ops() -> tuple[Optional[Callable[..., Any]], ...]:
    """`sympy_function` of every op code (None for the leaves), resolved once."""
    return tuple(None if p is None else sympy_function(p) for p in OPS)


def sympy_constant(name: str) -> Any:
    """The exact SymPy value of a named constant (pi, E)."""
    import sympy

    return getattr(sympy, CONSTANTS[name].sympy_name)


@lru_cache(maxsize=None)
def kink_functions() -> tuple[type, ...]:
    """The SymPy functions that mark kinks in a derivative, as the table's entries declare
    them (Heaviside for relu, max and min; sign for abs)."""
    import sympy

    found: dict[str, type] = {}
    for prim in PRIMITIVES.values():
        for name in prim.kink_atoms:
            fn = getattr(sympy, name, None)
            if not (isinstance(fn, type) and issubclass(fn, sympy.Function)):
                raise TableError(f"primitive '{prim.name}': kink atom '{name}' is not a SymPy "
                                 f"function")
            found[name] = fn
    return tuple(found.values())


def symbol(name: str) -> sympy.Symbol:
    """A real symbol: a case's variables are real numbers (so abs' is sign, not a complex
    form)."""
    import sympy

    return sympy.Symbol(name, real=True)


def constant_values(graph: Graph) -> list[Optional[float]]:
    """Float values of the constant-only nodes (inf where they overflow), None elsewhere."""
    n = len(graph)
    vals: list[Optional[float]] = [None] * n
    for i in range(n):
        code = graph.op[i]
        if code == VAR:
            continue
        if code == CONST:
            vals[i] = graph.const[i]
            continue
        args = graph.args(i)
        if any(vals[c] is None for c in args):
            continue
        try:
            vals[i] = OPS[code].evaluate(*[vals[c] for c in args])
        except OverflowError:
            vals[i] = math.inf
        except (ValueError, ZeroDivisionError):
            vals[i] = math.nan
    return vals


def oversized_power(graph: Graph, max_exponent: float) -> Optional[int]:
    """A live pow node whose constant exponent is above the limit (SymPy would expand it)."""
    pow_code = next(i for i, p in enumerate(OPS) if p is not None and p.name == "pow")
    consts = constant_values(graph)
    live = graph.live()
    for i in range(len(graph)):
        if live[i] and graph.op[i] == pow_code:
            e = consts[graph.b[i]]
            if e is not None and not (abs(e) <= max_exponent):
                return i
    return None


def exact_constant(graph: Graph, i: int) -> Any:
    """A constant leaf's exact SymPy value: the number as written (3/10), or pi, E."""
    import sympy

    exact = graph.exact[i]
    if isinstance(exact, str):
        return sympy_constant(exact)
    return sympy.Rational(exact.numerator, exact.denominator)


def to_sympy(graph: Graph) -> tuple[Any, dict[str, sympy.Symbol]]:
    """The graph's output as a SymPy expression, and the symbol of each variable."""
    live = graph.live()
    syms = {name: symbol(name) for name in graph.variables}
    exprs: list[Any] = [None] * len(graph)
    ops = sympy_ops()
    for i in range(len(graph)):
        if not live[i]:
            continue
        code = graph.op[i]
        if code == VAR:
            exprs[i] = syms[graph.var_name[i]]
        elif code == CONST:
            exprs[i] = exact_constant(graph, i)
        else:
            exprs[i] = ops[code](*[exprs[c] for c in graph.args(i)])
    return exprs[graph.output], syms


def written_out_size(graph: Graph) -> int:
    """Nodes of the output's expression written out as a tree (shared nodes repeated).

    This is how SymPy holds the expression, so it predicts its work: the logistic map's
    16 iterations are 88 graph nodes but 6.5 million tree nodes.  Counted by paths over the
    graph in reverse topological order, with Python integers (no recursion, no overflow).
    """
    out = graph.output
    if out < 0:
        return 0
    copies = [0] * (out + 1)
    copies[out] = 1
    total = 0
    a, b = graph.a, graph.b
    for i in range(out, -1, -1):
        c = copies[i]
        if not c:
            continue
        total += c
        if a[i] >= 0:
            copies[a[i]] += c
            if b[i] >= 0:
                copies[b[i]] += c
    return total


def expression_size(expr: Any, memo: Optional[dict] = None) -> int:
    """Operations in a SymPy expression written out as a tree: the "SymPy size".

    Every non-atomic node with k arguments counts max(k − 1, 1): a sum or product of k terms
    is k − 1 operations, a power or function call one.  Shared subexpressions count each time
    they appear, as when printed, but are *computed* once (memo), so the size of a swollen
    derivative is found in time proportional to its distinct subexpressions.
    """
    memo = {} if memo is None else memo
    stack = [expr]
    while stack:
        u = stack[-1]
        if u in memo:
            stack.pop()
            continue
        args = u.args
        pending = [x for x in args if x not in memo]
        if pending:
            stack.extend(pending)
            continue
        memo[u] = (max(len(args) - 1, 1) + sum(memo[x] for x in args)) if args else 0
        stack.pop()
    return memo[expr]


# -- exact evaluation on the graph, node by node ---------------------------------------------
# SymPy simplifies as it builds (b/(b + b) becomes 1/2, log(x) − log(x) vanishes), so an
# expression can be defined where the graph as written is not.  The passes below never build the
# expression: they carry exact *numbers* node by node over the tape, check each node against its
# primitive's domain and kink, and take derivatives by the chain rule over the same tape.

GUARD_DIGITS = 80          # digits kept when an exact value is too large to carry exactly
EXACT_TERM_OPS = 30        # an exact value larger than this (as a tree) is carried as digits
MAX_EXACT_BITS = 4_000     # a rational whose integers are longer is carried as digits
FLOAT_MAX = 1.7976931348623157e308


def float_point(value: float) -> sympy.Rational:
    """The exact rational of the float the numeric methods use (0.3 is 5404319552844595/2^54)."""
    import sympy

    num, den = float(value).as_integer_ratio()
    return sympy.Rational(num, den)


def is_zero(v: Any) -> bool:
    """Is an exact value exactly 0?  Decided by SymPy, else at GUARD_DIGITS digits."""
    z = v.is_zero
    if z is not None:
        return bool(z)
    return abs(v.evalf(GUARD_DIGITS)) < 10 ** (10 - GUARD_DIGITS)


def _sign(v: Any) -> int:
    if is_zero(v):
        return 0
    pos = v.is_positive
    if pos is None:
        pos = v.evalf(GUARD_DIGITS) > 0
    return 1 if pos else -1


def faithful_float(v: Any) -> float:
    """A float with the exact value's sign, zero-ness and integer-ness (for the table's domain
    rules, which take floats): a tiny positive value is the smallest positive float, not 0."""
    s = _sign(v)
    if s == 0:
        return 0.0
    f = float(v.evalf(20))
    if f == 0.0:
        return math.copysign(5e-324, s)
    if math.isinf(f):
        return math.copysign(FLOAT_MAX, s)
    if f.is_integer() and not v.is_integer:
        off = _sign(v - f)
        if off:
            f = math.nextafter(f, math.inf if off > 0 else -math.inf)
    return f


def settle(v: Any) -> Any:
    """Keep a value exact while it is small; carry a large one with GUARD_DIGITS digits."""
    import sympy

    if v.is_Rational:
        if max(v.p.bit_length(), v.q.bit_length()) <= MAX_EXACT_BITS:
            return v
        return v.evalf(GUARD_DIGITS)
    if isinstance(v, sympy.Float):
        return v
    # Small, and no function of a function: tanh(tanh(1/5)) makes evalf work adaptively
    # through every level again for every node above it.
    if expression_size(v) <= EXACT_TERM_OPS and not any(
            not arg.is_Rational for f in v.atoms(sympy.Function) for arg in f.args):
        return v
    return v.evalf(GUARD_DIGITS)


def finite_real(v: Any) -> bool:
    import sympy

    return not v.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan, sympy.I)


def overflows(v: Any) -> bool:
    """Is the value beyond the largest float (the float evaluation would give inf)?"""
    return math.isinf(float(abs(v).evalf(20)))


class ExactPass:
    """Every live node's exact value at the point, or the first node where the graph as
    written is undefined (`status` 'domain' or 'overflow') with the forward pass's message."""

    __slots__ = ("values", "status", "node", "message", "kinks")

    def __init__(self, values: list) -> None:
        self.values = values
        self.status = ""
        self.node: Optional[int] = None
        self.message = ""
        self.kinks: list[int] = []


def exact_kink(prim: Primitive, a: Any, b: Any) -> bool:
    """The primitive's kink test on exact values: a = 0 and a = b decided exactly; any other
    place by the table's own test on floats that keep the exact values' sign and zero-ness."""
    if not prim.kink_at:
        return False
    if prim.kink_at == AT_ZERO:
        return is_zero(a)
    if prim.kink_at == AT_TIE:
        return is_zero(a - b)
    return prim.kink(faithful_float(a), None if b is None else faithful_float(b))


def exact_values(graph: Graph, point: dict[str, Any]) -> ExactPass:
    """Exact value of every live node at `point` (variable -> exact number), in tape order.

    Each node is checked before it is computed, with the table's own domain rule fed a float
    that keeps the exact value's sign and zero-ness; a node whose exact value is beyond the
    largest float overflows, as in the float pass.  Nothing is simplified across nodes.
    """
    live = graph.live()
    vals: list[Any] = [None] * len(graph)
    run = ExactPass(vals)
    ops = sympy_ops()
    for i in range(len(graph)):
        if not live[i]:
            continue
        code = graph.op[i]
        if code == VAR:
            vals[i] = point[graph.var_name[i]]
            continue
        if code == CONST:
            vals[i] = exact_constant(graph, i)
            continue
        prim = OPS[code]
        args = [vals[c] for c in graph.args(i)]
        a, b = args[0], (args[1] if len(args) > 1 else None)
        reason = prim.domain(faithful_float(a), None if b is None else faithful_float(b))
        value = None if reason else ops[code](*args)
        if value is None or not finite_real(value):
            run.status, run.node = "domain", i
            run.message = f"{reason or prim.name + ' is undefined here'} at {graph.describe(i)}"
            return run
        if overflows(value):
            run.status, run.node = "overflow", i
            run.message = f"{prim.name} overflows at {graph.describe(i)}"
            return run
        vals[i] = settle(value)
        if prim.kink_at and exact_kink(prim, a, b):
            run.kinks.append(i)
    return run


@lru_cache(maxsize=None)
def _symbolic_partials(code: int) -> tuple:
    """∂/∂a and ∂/∂b of a primitive's SymPy counterpart, in dummy arguments (built once)."""
    import sympy

    prim = OPS[code]
    a, b = sympy.Dummy("a", real=True), sympy.Dummy("b", real=True)
    args = (a, b)[:prim.arity]
    f = sympy_ops()[code](*args)
    if prim.name == "pow":
        # SymPy writes ∂(a^b)/∂a as a^b·b/a, which is 0/0 at a = 0; b·a^(b − 1) is the same
        # function and defined there.  (∂/∂b at a = 0 is handled in exact_partial.)
        return (b * a ** (b - 1), f * sympy.log(a)), args
    return tuple(sympy.diff(f, x) for x in args), args


def exact_partial(code: int, position: int, a: Any, b: Any) -> Any:
    """∂ node / ∂ argument `position` at exact argument values (may be zoo or nan: undefined).

    Heaviside and sign of a nonzero number are resolved here; at 0 they are kinks, which the
    callers handle with the table's one-sided rule instead.
    """
    import sympy

    prim = OPS[code]
    if prim.name == "pow" and position == 1 and is_zero(a) and _sign(b) > 0:
        return sympy.Integer(0)      # 0^b is 0 for every b > 0: its slope in b is 0
    if prim.name == "pow" and position == 0 and is_zero(b):
        return sympy.Integer(0)      # a^0 is 1 for every a: its slope in a is 0 (also at 0)
    partials, args = _symbolic_partials(code)
    env = {args[0]: a} if b is None else {args[0]: a, args[1]: b}
    return resolve(partials[position].xreplace(env))


def resolve(v: Any) -> Any:
    """Decide Heaviside, sign and Piecewise whose arguments are numbers (SymPy leaves them
    unevaluated when it cannot prove a sign, and float() then fails): by the sign of the
    argument, exactly when SymPy can, else at GUARD_DIGITS digits; Heaviside(0) = 1/2."""
    import sympy

    if not v.has(sympy.Heaviside, sympy.sign, sympy.Piecewise):
        return v

    def heaviside(e: Any) -> Any:
        s = _sign(e.args[0])
        return sympy.Rational(1, 2) if s == 0 else sympy.Integer(1 if s > 0 else 0)

    def sign(e: Any) -> Any:
        return sympy.Integer(_sign(e.args[0]))

    def piecewise(e: Any) -> Any:
        for expr, cond in e.args:
            if cond == sympy.true or (isinstance(cond, sympy.core.relational.Relational)
                                      and _holds(cond)):
                return expr
        return sympy.nan

    v = v.replace(lambda e: isinstance(e, sympy.Heaviside) and e.args[0].is_number, heaviside)
    v = v.replace(lambda e: isinstance(e, sympy.sign) and e.args[0].is_number, sign)
    return v.replace(lambda e: isinstance(e, sympy.Piecewise) and e.is_number, piecewise)


def _holds(rel: Any) -> bool:
    s = _sign(rel.lhs - rel.rhs)
    return {"<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0, "==": s == 0,
            "!=": s != 0}[rel.rel_op]


def _exact_number(x: Any) -> Any:
    """A kink rule's float answer (0.0, inf, nan) as SymPy's, so sums stay exact."""
    import sympy

    if isinstance(x, float):
        if math.isnan(x):
            return sympy.nan
        if math.isinf(x):
            return sympy.oo if x > 0 else -sympy.oo
        return sympy.Rational(x)
    return x


def exact_tangent(graph: Graph, run: ExactPass, node: int, direction: int) -> Any:
    """d(output)/d(direction · e_node) from that side, exactly: forward mode over the tape with
    the table's one-sided rule at the kinks (relu: max(t, 0), abs: |t|, …)."""
    import sympy

    vals = run.values
    tangent: dict[int, Any] = {node: sympy.Integer(direction)}
    kinks = set(run.kinks)
    for i in range(node + 1, graph.output + 1):
        if vals[i] is None or graph.a[i] < 0:
            continue
        args = graph.args(i)
        ts = [tangent.get(c) for c in args]
        if all(t is None or t == 0 for t in ts):
            continue
        ts = [sympy.Integer(0) if t is None else t for t in ts]
        a = vals[args[0]]
        b = vals[args[1]] if len(args) > 1 else None
        code = graph.op[i]
        if i in kinks and not all(finite_real(t) for t in ts):
            t = sympy.nan      # a side already undefined below stays undefined
        elif i in kinks:
            # The table's one-sided rule compares tangents (max(t, 0)): on numbers SymPy cannot
            # order exactly it is given GUARD_DIGITS digits.
            ts = [t if t.is_Rational else t.evalf(GUARD_DIGITS) for t in ts]
            t = _exact_number(OPS[code].kink_tangent(a, b, ts[0], ts[1] if b is not None
                                                     else 0))
        else:
            t = sympy.Integer(0)
            for pos, tp in enumerate(ts):
                if tp != 0:
                    t += exact_partial(code, pos, a, b) * tp
        tangent[i] = settle(t) if finite_real(t) else t
    return tangent.get(graph.output, sympy.Integer(0))


def exact_gradient(graph: Graph, run: ExactPass, wrt: list[str]
                   ) -> tuple[dict[str, Any], Optional[int]]:
    """The chain rule over the tape in exact arithmetic (reverse mode), visiting what the
    numeric sweep visits, in its order: every edge into a node that depends on `wrt`, from
    nodes that received a gradient.  At a kink the local derivative is SymPy's
    (Heaviside(0) = 1/2, sign(0) = 0).  Returns the gradient, or {} and the first node whose
    local derivative is undefined or infinite (sqrt at 0: a kink; log'(…) of a negative base:
    outside the domain), as the numeric sweep stops there."""
    import sympy

    vals = run.values
    dep = graph.depends_bytes(wrt)
    grad: dict[int, Any] = {graph.output: sympy.Integer(1)} if dep[graph.output] else {}
    for u in range(graph.output, -1, -1):
        g = grad.get(u)
        if g is None or graph.a[u] < 0:
            continue
        args = graph.args(u)
        a = vals[args[0]]
        b = vals[args[1]] if len(args) > 1 else None
        for pos, c in enumerate(args):
            if not dep[c]:
                continue
            d = exact_partial(graph.op[u], pos, a, b)
            if not finite_real(d):
                return {}, u
            grad[c] = settle(grad.get(c, 0) + g * d)
    return {v: grad.get(graph.variables[v], sympy.Integer(0)) if v in graph.variables
            else sympy.Integer(0) for v in wrt}, None
