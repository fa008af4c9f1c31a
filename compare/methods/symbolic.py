"""SymPy's symbolic derivative: the exact reference, and a measure of expression swell.

The expression is built from the same graph (compare.sympy_bridge), differentiated with
`sympy.diff` for each variable and evaluated at the point with the case's decimals as exact
rationals.  Its size is reported by `count_ops` before and after common-subexpression
elimination (`cse`).  A swollen derivative is never evaluated by substitution into the whole
tree: evaluation goes through the cse form, exactly while it is small, at 40 significant digits
beyond `exact_max_ops`.  The work runs in a child process under the time budget, so a runaway
computation is really stopped.
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping, Optional

import sympy

from ..graph import Graph
from ..isolation import CRASHED, TIMEOUT as DEADLINE, call_with_deadline
from ..limits import DEFAULT_LIMITS, Limits
from ..result import DOMAIN, ERROR, NONDIFFERENTIABLE, OK, TIMEOUT, TOO_LARGE, Result
from ..sympy_bridge import exact_number, oversized_power, to_sympy

NAME = "sympy"
DIGITS = 40
SHORT_EXACT = 60   # exact values up to this many characters are shown as text


def _evaluate_cse(replacements: list, reduced: list, env: dict, exact: bool) -> list:
    """Evaluate cse output in order, each replacement once (no swollen substitution)."""
    env = dict(env)
    for sym, rhs in replacements:
        value = rhs.xreplace(env)
        env[sym] = value if exact else value.evalf(DIGITS)
    out = []
    for expr in reduced:
        value = expr.xreplace(env)
        out.append(value if exact else value.evalf(DIGITS))
    return out


def _as_float(v: Any) -> tuple[Optional[float], str]:
    """A real SymPy number as float, or None and what is wrong with it."""
    if v.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        return None, f"SymPy gives {v}"
    num = sympy.N(v, DIGITS)
    if not num.is_real:
        if num.is_number and sympy.im(num) != 0:
            return None, f"SymPy gives the non-real value {sympy.N(v, 6)}"
        return None, f"SymPy cannot reduce it to a number ({sympy.sstr(v)[:60]})"
    f = float(num)
    if not math.isfinite(f):
        return None, "SymPy's value is too large for a float"
    return f, ""


def symbolic_work(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  exact_max_ops: int) -> dict[str, Any]:
    """Everything SymPy does for one case; returns plain data (it may cross a process)."""
    expr, syms = to_sympy(graph)
    derivs = [sympy.diff(expr, syms[v]) if v in syms else sympy.Integer(0) for v in wrt]
    size_raw = sum(sympy.count_ops(d) for d in derivs)
    replacements, reduced = sympy.cse([expr, *derivs])
    size_cse = sum(sympy.count_ops(rhs) for _, rhs in replacements) + sum(
        sympy.count_ops(r) for r in reduced[1:])
    exact = size_raw <= exact_max_ops
    env = {syms[name]: (exact_number(val) if exact else sympy.Float(repr(float(val)), DIGITS))
           for name, val in point.items() if name in syms}
    values = _evaluate_cse(replacements, reduced, env, exact)
    out: dict[str, Any] = {"size_raw": int(size_raw), "size_cse": int(size_cse),
                           "evaluated": "exact" if exact else f"{DIGITS} digits",
                           "derivatives": {}, "exact": {}, "gradient": {}, "problems": []}
    value, problem = _as_float(values[0])
    out["value"] = value
    if problem:
        out["problems"].append(f"value: {problem}")
    for name, d, v in zip(wrt, derivs, values[1:]):
        text = sympy.sstr(d)
        out["derivatives"][name] = text if len(text) <= 2_000 else text[:2_000] + " …"
        g, problem = _as_float(v)
        out["gradient"][name] = g
        if problem:
            out["problems"].append(f"∂/∂{name}: {problem}")
        if exact:
            shown = sympy.sstr(sympy.nsimplify(v) if v.is_Rational else v)
            if len(shown) <= SHORT_EXACT:
                out["exact"][name] = shown
    if exact:
        shown = sympy.sstr(values[0])
        if len(shown) <= SHORT_EXACT:
            out["value_exact"] = shown
    out["heaviside_at_zero"] = any(
        h.args and h.args[0].xreplace(env) == 0 for d in derivs for h in d.atoms(sympy.Heaviside))
    return out


def differentiate(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  limits: Optional[Limits] = None, isolate: bool = True) -> Result:
    limits = limits or DEFAULT_LIMITS
    t0 = time.perf_counter()
    result = Result(NAME, None, {v: None for v in wrt}, counts=None)
    live_nodes = sum(graph.live())
    if live_nodes > limits.sympy_max_nodes:
        result.status = TOO_LARGE
        result.note = (f"{live_nodes:,} nodes, above sympy_max_nodes = "
                       f"{limits.sympy_max_nodes:,}; not handed to SymPy")
        return result
    big = oversized_power(graph, limits.max_constant_exponent)
    if big is not None:
        result.status = TOO_LARGE
        result.node = graph.name(big)
        result.note = (f"constant exponent at {graph.name(big)} is above "
                       f"max_constant_exponent = {limits.max_constant_exponent:g}")
        return result
    args = (graph, dict(point), list(wrt), limits.exact_max_ops)
    if isolate:
        status, data = call_with_deadline(symbolic_work, args, limits.sympy_seconds)
    else:
        try:
            status, data = "done", symbolic_work(*args)
        except RecursionError:
            status, data = CRASHED, "RecursionError: the expression is too deep for SymPy"
    result.seconds = time.perf_counter() - t0
    if status == DEADLINE:
        result.status = TIMEOUT
        result.note = f"SymPy did not finish within {limits.sympy_seconds:g} s"
        return result
    if status == CRASHED:
        result.status = ERROR
        result.note = f"SymPy failed: {data}"
        return result
    result.value = data["value"]
    result.gradient = dict(data["gradient"])
    result.details = {k: data[k] for k in ("size_raw", "size_cse", "evaluated", "derivatives",
                                           "exact")}
    if "value_exact" in data:
        result.details["value_exact"] = data["value_exact"]
    if data["problems"]:
        result.status = DOMAIN
        result.note = "; ".join(data["problems"])
    elif data["heaviside_at_zero"]:
        result.status = NONDIFFERENTIABLE
        result.note = "SymPy's derivative has Heaviside(0) = 1/2 at the point"
    else:
        result.status = OK
    return result
