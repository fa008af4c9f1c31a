"""SymPy's symbolic derivative: the exact reference, and a measure of expression swell.

The expression is built from the same graph (compare.sympy_bridge) and differentiated with
`sympy.diff` for each variable.  The point is the exact rational of each float the numeric
methods use; before SymPy's derivative is evaluated there, the graph itself is evaluated
exactly node by node (domain, overflow, kinks, the local derivatives the chain rule needs), so
the reference is never defined where the graph is not.  Where the user's decimal is not its
float, the answer at the decimal is compared too (ill-conditioning).  Its size (compare.sympy_bridge.expression_size: operations written out as a tree)
is reported before and after common-subexpression elimination (`cse`).  A swollen derivative
is never evaluated by substitution into the whole tree: evaluation goes through the cse form,
exactly while it is small, at 40 significant digits beyond `exact_max_ops`.  The work runs in a
worker process under the time budget and a memory cap, so a runaway computation is stopped;
`differentiate_many` runs a library's cases on every core, under a library-wide budget too.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any, Mapping, Optional, Sequence

from ..fmt import count_text
from ..graph import Graph
from ..isolation import (CRASHED, DONE, SKIPPED, TIMEOUT as DEADLINE, WorkerPool,
                         available_cores, call_with_deadline)
from ..limits import DEFAULT_LIMITS, Limits
from ..cases import close
from ..result import (DOMAIN, ERROR, ILL_CONDITIONED, IMPRECISE, NONDIFFERENTIABLE, OK,
                      OVERFLOW, TIMEOUT, TOO_LARGE, Result, Status, SympyDetails)
from ..sympy_bridge import expression_size, oversized_power, to_sympy, written_out_size

NAME = "sympy"
DIGITS = 40
SHORT_EXACT = 60   # exact values up to this many characters are shown as text
EXACT_TERM_OPS = 30   # an exact intermediate value larger than this is carried as digits
GUARD_DIGITS = 2 * DIGITS


def _evaluate_cse(replacements: list, reduced: list, env: dict, exact: bool
                  ) -> tuple[list, bool]:
    """Evaluate cse output in order, each replacement once (no swollen substitution).

    Returns the values and whether an exact intermediate had to be rounded.
    Exact mode keeps rationals and small exact terms exact; an intermediate that grows into a
    large or nested symbolic term (tanh of tanh of ...) is carried with GUARD_DIGITS digits
    instead, so evaluation stays linear in the size of the cse form.
    """
    rounded = []

    def settle(value: Any) -> Any:
        if not exact:
            return value.evalf(DIGITS)
        if value.is_Rational or _small_exact(value):
            return value
        rounded.append(value)
        return value.evalf(GUARD_DIGITS)

    env = dict(env)
    for sym, rhs in replacements:
        env[sym] = settle(rhs.xreplace(env))
    values = [settle(expr.xreplace(env)) for expr in reduced]
    return values, bool(rounded)


def _small_exact(value: Any) -> bool:
    """Small, and no function of a function (tanh(tanh(1/5)) makes evalf work adaptively
    through every level, again for every term that contains it)."""
    import sympy
    if expression_size(value) > EXACT_TERM_OPS:
        return False
    return not any(arg.has(sympy.Function) for f in value.atoms(sympy.Function)
                   for arg in f.args)


def _has_long_integers(v: Any, digits: int) -> bool:
    """Does `v` hold an integer (or a rational's part) of more than about `digits` digits?

    Checked on bit lengths, before any printing: turning a many-thousand-digit integer into
    text is slow and, past 4,300 digits, refused by Python itself.
    """
    import sympy
    bits = 4 * digits   # a decimal digit carries about 3.3 bits
    return any(atom.p.bit_length() > bits or atom.q.bit_length() > bits
               for atom in v.atoms(sympy.Rational))


def short_text(v: Any, limit: int = SHORT_EXACT) -> Optional[str]:
    """SymPy's text for `v` when it is at most `limit` characters, else None.

    Sizes are checked on the integers first: an exact value with thousands of digits (the
    repeated-squaring chains) is never turned into text at all.
    """
    import sympy
    if _has_long_integers(v, limit):
        return None
    text = sympy.sstr(v)
    return text if len(text) <= limit else None


IMPRECISE_NOTE = (f"SymPy could not evaluate it to {DIGITS} significant digits (every digit "
                  "lost to cancellation)")


def _clipped_text(v: Any, limit: int) -> str:
    """SymPy's text for `v`, cut after `limit` characters.

    A swollen derivative is not printed at all: printing walks the whole tree (seconds for the
    logistic map's tenth iterate) to show a few hundred characters of it.
    """
    import sympy
    size = expression_size(v)
    if size > limit // 2:
        return f"({count_text(size)} operations written out; too long to show)"
    if _has_long_integers(v, limit):
        return "(contains integers too long to show)"
    text = sympy.sstr(v)
    return text if len(text) <= limit else text[:limit] + " …"


def _as_float(v: Any) -> tuple[Optional[float], str]:
    """A real SymPy number as float, or None and what is wrong with it."""
    import sympy
    from sympy.core.evalf import PrecisionExhausted
    if v.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        return None, f"SymPy gives {short_text(v) or 'an infinite or undefined value'}"
    try:
        # strict: a result whose digits were all lost to cancellation raises instead of
        # coming back as a confident, wrong number (such as '0.e+70').
        num = sympy.N(v, DIGITS, strict=True)
    except PrecisionExhausted:
        return None, IMPRECISE_NOTE
    if not num.is_real:
        if num.is_number and sympy.im(num) != 0:
            return None, f"SymPy gives the non-real value {sympy.N(v, 6)}"
        return None, f"SymPy cannot reduce it to a number ({short_text(v) or '…'})"
    f = float(num)
    if not math.isfinite(f):
        return None, "SymPy's value is too large for a float"
    return f, ""


def _number(v: Any) -> tuple[Optional[float], str]:
    """An exact value (already checked finite and real) as a float, or why not."""
    from ..sympy_bridge import overflows
    if overflows(v):
        return None, "overflows a float"
    return _as_float(v)


def _at(graph: Graph, wrt: list[str], point: dict, cse_form: tuple, exact: bool
        ) -> dict[str, Any]:
    """Value and gradient at one exact point: the graph's own exact pass first (domain,
    overflow, kinks node by node), then SymPy's derivative, evaluated exactly there.

    Where SymPy's closed form is indeterminate although every node and local derivative is
    defined (x^y at (0, 2) is written y·x^y/x), the exact chain rule over the graph gives the
    value instead; at kinks the exact one-sided derivatives decide.
    """
    import sympy
    from ..sympy_bridge import (exact_gradient, exact_tangent, exact_values, finite_real,
                                resolve)
    run = exact_values(graph, point)
    out: dict[str, Any] = {"status": OK, "note": "", "node": None, "value": None,
                           "gradient": {v: None for v in wrt}, "exact": {}, "value_exact": None,
                           "sides": {}}
    if run.status:
        out["status"] = DOMAIN if run.status == "domain" else OVERFLOW
        out["note"], out["node"] = run.message, graph.describe(run.node)
        return out
    value = run.values[graph.output]
    out["value"], _ = _number(value)
    out["value_exact"] = value
    # The local derivatives the graph's chain rule needs, in the numeric sweep's order.
    chained, failed = exact_gradient(graph, run, wrt)
    if failed is not None:
        out["node"] = graph.describe(failed)
        if failed in run.kinks:
            out["status"] = NONDIFFERENTIABLE
            out["note"] = f"a kink at {out['node']} with an infinite slope"
        else:
            out["status"] = DOMAIN
            out["note"] = f"local derivative of {out['node']} undefined"
        return out
    grads: dict[str, Any] = {}
    if run.kinks:
        sides = {}
        for name in wrt:
            node = graph.variables.get(name)
            if node is None:
                sides[name] = (sympy.Integer(0), sympy.Integer(0))
                continue
            sides[name] = (-exact_tangent(graph, run, node, -1), exact_tangent(graph, run, node, 1))
        agree = all(finite_real(l) and finite_real(r) and _same(l, r) for l, r in sides.values())
        out["sides"] = {n: tuple(_side(s) for s in lr) for n, lr in sides.items()}
        where = ", ".join(graph.describe(i) for i in run.kinks)
        if agree:
            grads = {n: lr[1] for n, lr in sides.items()}
            out["note"] = (f"on a kink at {where}, but the exact one-sided derivatives agree "
                           f"for every variable: the function is differentiable here")
        else:
            out["status"] = NONDIFFERENTIABLE
            out["node"] = graph.describe(run.kinks[0])
            out["note"] = (f"a kink at {where}: the one-sided derivatives differ; SymPy's "
                           f"derivative takes Heaviside(0) = 1/2 and sign(0) = 0")
    if not grads:
        env = {sym: point[name] for name, sym in cse_form[2].items()}
        values, rounded = _evaluate_cse(cse_form[0], cse_form[1], env, exact)
        out["rounded"] = rounded
        grads = {n: resolve(v) for n, v in zip(wrt, values[1:])}
        if not all(finite_real(v) for v in grads.values()):
            grads = chained
            out["note"] = out["note"] or (
                "SymPy's closed form is indeterminate here (such as 0/0); the value is the "
                "exact chain rule over the graph")
    for name, g in grads.items():
        if not finite_real(g):
            continue
        f, problem = _number(g)
        if problem == "overflows a float" and out["status"] == OK:
            out["status"], out["note"] = OVERFLOW, f"∂f/∂{name} overflows a float"
        elif problem == IMPRECISE_NOTE and out["status"] == OK:
            out["status"], out["note"] = IMPRECISE, f"∂/∂{name}: {problem}"
        out["gradient"][name] = f
        out["exact"][name] = g
    return out


def _side(v: Any) -> Optional[float]:
    """A one-sided derivative as a float: ±inf for an infinite slope, None where undefined."""
    import sympy
    from ..sympy_bridge import finite_real
    if v == sympy.oo or v == -sympy.oo:
        return math.inf if v == sympy.oo else -math.inf
    return _number(v)[0] if finite_real(v) else None


def _same(a: Any, b: Any) -> bool:
    """Equal exact values (or, carried as digits, equal to all but the last ten)."""
    from ..sympy_bridge import GUARD_DIGITS, is_zero
    if is_zero(a - b):
        return True
    scale = max(abs(a.evalf(GUARD_DIGITS)), abs(b.evalf(GUARD_DIGITS)))
    return abs((a - b).evalf(GUARD_DIGITS)) <= scale * 10 ** (10 - GUARD_DIGITS)


def symbolic_work(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  exact_max_ops: int) -> dict[str, Any]:
    """Everything SymPy does for one case; returns plain data (it may cross a process).

    The point is the exact rational of each float the numeric methods use.  When the user
    wrote a decimal that is not that float (0.1), the answer is also found at the decimal,
    and where the two differ beyond the default tolerance the case is ill-conditioned.
    """
    import sympy
    from ..sympy_bridge import float_point
    expr, syms = to_sympy(graph)
    derivs = [sympy.diff(expr, syms[v]) if v in syms else sympy.Integer(0) for v in wrt]
    memo: dict = {}
    size_raw = sum(expression_size(d, memo) for d in derivs)
    replacements, reduced = sympy.cse([expr, *derivs])
    memo = {}
    size_cse = sum(expression_size(rhs, memo) for _, rhs in replacements) + sum(
        expression_size(r, memo) for r in reduced[1:])
    exact = size_raw <= exact_max_ops
    cse_form = (replacements, reduced, syms)
    at_float = {name: float_point(val) for name, val in point.items()}
    found = _at(graph, wrt, at_float, cse_form, exact)
    how = (f"exact, nested terms at {GUARD_DIGITS} digits" if found.pop("rounded", False)
           else "exact") if exact else f"{DIGITS} digits"
    out: dict[str, Any] = {"size_raw": int(size_raw), "size_cse": int(size_cse),
                           "evaluated": how + " at the float point",
                           "derivatives": {name: _clipped_text(d, 2_000)
                                           for name, d in zip(wrt, derivs)}}
    out.update({k: found[k] for k in ("status", "note", "node", "value", "gradient", "sides")})
    out["exact"] = {n: t for n, g in found["exact"].items()
                    if exact and (t := short_text(g)) is not None}
    ve = found["value_exact"]
    out["value_exact"] = short_text(ve) if exact and ve is not None else None
    out["decimal"], out["condition"] = _decimal_check(graph, wrt, point, at_float, found,
                                                      cse_form, exact)
    return out


def _written(value: float) -> Optional[Any]:
    """The exact decimal the user wrote for a point value, when it is not the float itself."""
    import sympy
    text = getattr(value, "text", None)
    if text is None:
        return None
    f = Fraction(text)
    if f == Fraction(float(value)):
        return None
    return sympy.Rational(f.numerator, f.denominator)


def _decimal_check(graph: Graph, wrt: list[str], point: Mapping[str, float], at_float: dict,
                   found: dict, cse_form: tuple, exact: bool
                   ) -> tuple[Optional[dict], Optional[float]]:
    """The answer at the decimals the user wrote, and the condition estimate, when it differs
    from the answer at the floats beyond the default tolerance (else None, None).

    Condition estimate κ = (largest relative change of f or of a partial between the two
    points) / (largest relative change of an input): how much the case magnifies the
    difference between the decimal and its float.
    """
    decimals = {n: _written(v) for n, v in point.items()}
    if found["status"] not in (OK,) or not any(d is not None for d in decimals.values()):
        return None, None
    at_dec = {n: (d if d is not None else at_float[n]) for n, d in decimals.items()}
    there = _at(graph, wrt, at_dec, cse_form, exact)
    here_vals = [found["value"], *found["gradient"].values()]
    there_vals = [there["value"], *[there["gradient"].get(v) for v in wrt]]
    differ = there["status"] != found["status"] or not all(
        close(a, b) for a, b in zip(here_vals, there_vals))
    if not differ:
        return None, None
    dx = max(abs(float((at_dec[n] - at_float[n]) / at_float[n])) for n in at_dec
             if at_float[n] != 0 and at_dec[n] != at_float[n])
    dy = max((abs(a - b) / max(abs(a), 1e-300) for a, b in zip(here_vals, there_vals)
              if a is not None and b is not None), default=math.inf)
    shown = {"value": there["value"], **{f"∂/∂{v}": there["gradient"].get(v) for v in wrt},
             "status": str(there["status"])}
    return shown, (dy / dx if dx else math.inf)


def _precheck(graph: Graph, wrt: list[str], limits: Limits) -> tuple[Optional[Result], int]:
    """The cheap refusals, done before any SymPy work.

    Returns a finished Result (or None to go on) and the size written out as a tree, which is
    also how differentiate_many guesses which cases take longest.
    """
    result = Result(NAME, None, {v: None for v in wrt}, counts=None)
    live_nodes = sum(graph.live())
    if live_nodes > limits.sympy_max_nodes:
        result.status = TOO_LARGE
        result.note = (f"{live_nodes:,} nodes, above sympy_max_nodes = "
                       f"{limits.sympy_max_nodes:,}; not handed to SymPy")
        return result, 0
    tree = written_out_size(graph)
    if tree > limits.sympy_max_tree:
        result.status = TOO_LARGE
        result.note = (f"written out as a tree the expression has {count_text(tree)} nodes, above "
                       f"sympy_max_tree = {limits.sympy_max_tree:,}; SymPy holds expressions "
                       f"as trees and its derivative would swell past the time budget")
        return result, tree
    big = oversized_power(graph, limits.max_constant_exponent)
    if big is not None:
        result.status = TOO_LARGE
        result.node = graph.name(big)
        result.note = (f"constant exponent at {graph.name(big)} is above "
                       f"max_constant_exponent = {limits.max_constant_exponent:g}")
        return result, tree
    return None, tree


def _finish(wrt: list[str], status: str, data: Any, limits: Limits) -> Result:
    """Turn the worker's (status, data) into the method's Result."""
    result = Result(NAME, None, {v: None for v in wrt}, counts=None)
    if status == SKIPPED:
        result.status = TIMEOUT
        result.note = (f"not started: the library-wide SymPy budget sympy_total_seconds = "
                       f"{limits.sympy_total_seconds:g} s was used up")
        return result
    if status == DEADLINE:
        result.status = TIMEOUT
        result.note = f"SymPy did not finish within {limits.sympy_seconds:g} s"
        return result
    if status == CRASHED:
        # Running out of stack or memory is the expression's size, not a wrong answer.
        result.status, result.note = ERROR, f"SymPy failed: {data}"
        if data.startswith("MemoryError"):
            result.status = TOO_LARGE
            result.note = (f"SymPy ran out of memory (limit sympy_memory_mb = "
                           f"{limits.sympy_memory_mb:g})")
        elif data.startswith("RecursionError"):
            result.status = TOO_LARGE
            result.note = "SymPy ran out of stack: the expression is nested too deeply for it"
        return result
    result.value = data["value"]
    result.gradient = dict(data["gradient"])
    result.status = Status(data["status"])
    result.note, result.node = data["note"], data["node"]
    result.details = SympyDetails(data["size_raw"], data["size_cse"], data["evaluated"],
                                  data["derivatives"], data["exact"], data["value_exact"],
                                  sides=data["sides"], decimal=data["decimal"],
                                  condition=data["condition"])
    if data["decimal"] is not None and result.status == OK:
        result.status = ILL_CONDITIONED
        result.note = _ill_note(data["decimal"], data["condition"])
    return result


def _ill_note(decimal: dict, condition: Optional[float]) -> str:
    """What an ill-conditioned case's note says: the condition estimate, the decimal's answer."""
    shown = ", ".join(f"{k} = {v!r}" if isinstance(v, float) else f"{k}: {v}"
                      for k, v in decimal.items() if v is not None and k != "status")
    kappa = "∞" if condition is None or math.isinf(condition) else f"{condition:.3g}"
    return (f"ill-conditioned (κ ≈ {kappa}): the exact answer at the decimals written differs "
            f"beyond tolerance from the one at their floats ({shown})")


def differentiate(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  limits: Optional[Limits] = None, isolate: bool = True) -> Result:
    limits = limits or DEFAULT_LIMITS
    t0 = time.perf_counter()
    refused, _ = _precheck(graph, wrt, limits)
    if refused is not None:
        return refused
    args = (graph, dict(point), list(wrt), limits.exact_max_ops)
    if isolate:
        status, data = call_with_deadline(symbolic_work, args, limits.sympy_seconds,
                                          memory_mb=limits.sympy_memory_mb)
    else:
        try:
            status, data = DONE, symbolic_work(*args)
        except (RecursionError, MemoryError) as err:
            status, data = CRASHED, f"{type(err).__name__}: {err}"
    result = _finish(list(wrt), status, data, limits)
    result.seconds = time.perf_counter() - t0
    return result


Item = tuple[Graph, Mapping[str, float], list[str]]


def differentiate_many(items: Sequence[Item], limits: Optional[Limits] = None,
                       jobs: Optional[int] = None) -> list[Result]:
    """`differentiate` for many (graph, point, wrt) items, their SymPy work on `jobs` cores.

    Results come in input order, each what `differentiate` gives for its item.  The refusals
    run here; the SymPy work runs in a pool of `jobs` workers (default: every core), each case
    under `sympy_seconds`, the largest expressions (written out as trees) started first so that
    no core is left alone with a long one at the end.  Once the SymPy time summed over items
    reaches `sympy_total_seconds`, the items not yet started are reported as timeouts.
    """
    limits = limits or DEFAULT_LIMITS
    results: list[Optional[Result]] = [None] * len(items)
    checked: list[float] = [0.0] * len(items)   # seconds of the refusals, per item
    todo: list[int] = []
    sizes: list[int] = []
    for k, (graph, _, wrt) in enumerate(items):
        t0 = time.perf_counter()
        results[k], tree = _precheck(graph, list(wrt), limits)
        checked[k] = time.perf_counter() - t0
        if results[k] is None:
            todo.append(k)
            sizes.append(tree)
    if todo:
        args = [(items[k][0], dict(items[k][1]), list(items[k][2]), limits.exact_max_ops)
                for k in todo]
        largest_first = sorted(range(len(todo)), key=lambda j: -sizes[j])   # stable
        size = min(len(todo), jobs or available_cores())
        with WorkerPool(size, limits.sympy_memory_mb) as pool:
            outcomes = pool.map_timed(symbolic_work, args, limits.sympy_seconds,
                                      budget=limits.sympy_total_seconds, order=largest_first)
        for k, (status, data, seconds) in zip(todo, outcomes):
            result = _finish(list(items[k][2]), status, data, limits)
            result.seconds = checked[k] + seconds
            results[k] = result
    return [r for r in results if r is not None]
