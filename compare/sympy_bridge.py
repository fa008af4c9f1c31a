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
from fractions import Fraction
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Callable, Optional

from .graph import Graph
from .primitives import CONST, CONSTANTS, OPS, PRIMITIVES, VAR, Primitive, TableError

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


def exact_number(value: float) -> sympy.Rational:
    """The number a user wrote: 0.3 is 3/10 (the shortest decimal of the float)."""
    import sympy

    f = Fraction(repr(float(value)))
    return sympy.Rational(f.numerator, f.denominator)


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


def to_sympy(graph: Graph) -> tuple[Any, dict[str, sympy.Symbol]]:
    """The graph's output as a SymPy expression, and the symbol of each variable."""
    import sympy

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
            exact = graph.exact[i]
            if isinstance(exact, str):
                exprs[i] = sympy_constant(exact)
            else:
                exprs[i] = sympy.Rational(exact.numerator, exact.denominator)
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
