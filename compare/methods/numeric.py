"""Central differences: the gradient check (CS231n) — an approximation, judged as one.

∂f/∂v ≈ (f(v + h) − f(v − h)) / 2h, two forward passes per variable and no derivative
evaluated.  The step: h = ε^(1/3) · max(1, |v|) with ε the float64 machine epsilon, then
rounded so that v + h and v − h are exactly representable (h = (v + h) − v).  Why ε^(1/3):
the central difference's truncation error is h²·|f'''|/6 and its round-off error about
ε·|f|/h; their sum is smallest near h ~ ε^(1/3) (scaled by the variable's size), where both
are of order ε^(2/3) ≈ 3.7·10⁻¹¹ relative — so about 10 of 16 digits survive, not 16.

The step is then checked, not trusted: D(2h) beside D(h) estimates D(h)'s truncation error
as |D(2h) − D(h)|/3 (the error is c·h², so the two differ by 3c·h²).  While that estimate
exceeds the round-off estimate r(h) = ε·S/h (S = the largest of |f(v ± h)| and the |value|
of every live node at the point: a difference loses digits relative to the numbers it
subtracts and to those computed on the way), h is halved (at most
24 times, 2 forward passes each, all counted) and the estimate with the smallest truncation
error is kept.  On smooth, tame functions the first step already passes (4 passes per
variable); on the chaotic logistic map of 20 levels (f' ≈ −5.4·10⁵, oscillating on a scale of
10⁻⁶) it goes down to h ≈ 2·10⁻¹⁰.

The engine judges it with `agrees` below, never with the exact methods' 1e-9: a numeric
∂f/∂v agrees with an exact g when |a − g| ≤ K·r(h) + 2·t, t the kept truncation estimate and
K = 1000 headroom for round-off that grows through the graph (repeated squaring doubles a
relative error per level: ×4096 on repeated-squaring-12).  On the bundled smooth cases the
largest |a − g| is 0.66 of that tolerance (logistic-map-20), most are below 0.01 of it
(tests/test_forward_numeric.py pins that every one agrees).  With the default step on a
variable near 1 and S ≈ 1, K·r(h) ≈ 3.7·10⁻⁸.

At a kink (a live node on relu(0), |0|, a tie of max/min) it also reports the one-sided
differences (f(v) − f(v − h))/h and (f(v + h) − f(v))/h, and the engine checks that the exact
methods' value lies between them.  When v + h or v − h leaves the function's domain the step
is shrunk (at most 4 times by 10); if it still leaves it, the result says so (status domain,
or nondifferentiable where the troubled node sits on a kink at the point, as the exact
methods say) instead of returning a confident wrong number.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Mapping, Optional

from ..forward import forward, values_and_dependence
from ..graph import Graph
from ..primitives import OPS
from ..result import (DOMAIN, IMPRECISE, NONDIFFERENTIABLE, OK, Counts, NumericDetails,
                      Result)
from .common import finish, over_sweep_budget, start

NAME = "numeric"
EPS = sys.float_info.epsilon
K = 1000              # round-off headroom (see the module docstring)
SHRINKS = 4           # steps tried after the first, each 10 times smaller, at a domain edge
RESOLVES = 1e-3       # a tolerance above this share of max(1, |estimate|) resolves nothing
REFINE = 24           # halvings of the step at most while the truncation estimate dominates


def step(x: float, relative: float = EPS ** (1 / 3)) -> float:
    """The central-difference step for a variable at x: relative · max(1, |x|), rounded so
    that x + h is a float exactly h away from x."""
    h = relative * max(1.0, abs(x))
    return (x + h) - x


def tolerance(h: float, x: float) -> float:
    """τ = K·(ε/ĥ + ĥ²) for the relative step ĥ = h / max(1, |x|)."""
    rel = h / max(1.0, abs(x))
    return K * (EPS / rel + rel * rel)


def relative_error(a: Optional[float], b: Optional[float]) -> Optional[float]:
    """CS231n's relative error |a − b| / max(|a|, |b|) (0 when both are 0)."""
    if a is None or b is None:
        return None
    top = abs(a - b)
    bottom = max(abs(a), abs(b))
    return top / bottom if bottom else 0.0


def agrees(result: Result, variable: str, exact: Optional[float]) -> bool:
    """Whether this numeric ∂f/∂variable matches an exact value to its own tolerance."""
    a = result.gradient.get(variable)
    details = result.numeric
    if a is None or exact is None or details is None or not (
            math.isfinite(a) and math.isfinite(exact)):
        return False
    tol = details.tolerance.get(variable)
    if tol is None:          # not in the function: the gradient is an exact 0
        return a == exact
    return abs(a - exact) <= tol


def between(result: Result, variable: str, exact: Optional[float]) -> Optional[bool]:
    """At a kink: does `exact` lie between the one-sided differences (to the tolerance)?
    None when a side is unknown."""
    details = result.numeric
    sides = details.sides.get(variable) if details else None
    if sides is None or exact is None or None in sides:
        return None
    left, right = sides
    lo, hi = min(left, right), max(left, right)       # type: ignore[type-var]
    slack = details.tolerance[variable]
    return lo - slack <= exact <= hi + slack


def _value(graph: Graph, point: Mapping[str, float]) -> tuple[Optional[float], Optional[int]]:
    """f at a point, or (None, the first troubled live node)."""
    fast = values_and_dependence(graph, point, ())
    if fast is not None:
        return fast[0][graph.output], None
    fw = forward(graph, point)       # trouble only in an unused node is no trouble
    return (fw.value, None) if fw.ok else (None, fw.node)


def differentiate(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  limits: object = None) -> Result:
    t0 = time.perf_counter()
    fw, failed = start(NAME, graph, point, wrt)
    if failed:
        failed.seconds = time.perf_counter() - t0
        return failed
    values = fw.values
    f0 = values[graph.output]
    refused = over_sweep_budget(NAME, graph, f0, wrt, 4, limits)
    if refused is not None:
        refused.seconds = time.perf_counter() - t0
        return refused
    details = NumericDetails()
    result = Result(NAME, f0, {}, counts=Counts(passes=0), numeric=details)
    counts = result.counts
    assert counts is not None
    big = max((abs(v) for v, alive in zip(values, fw.live) if alive), default=0.0)
    notes = []
    for name in wrt:
        node = graph.variables.get(name)
        if node is None or not fw.live[node]:
            result.gradient[name] = 0.0        # not in the function: exactly 0, no work
            continue
        x = float(point[name])
        diff = _Differences(graph, point, name, x, counts, fw.operations)
        h = step(x)
        cur = diff.at(h)
        for _ in range(SHRINKS):
            if cur.ok:
                break
            h = step(x, h / max(1.0, abs(x)) / 10)
            cur = diff.at(h)
        if not cur.ok:
            return _edge(result, graph, values, name, x, h, cur.node, cur.plus, wrt, t0)
        if h != step(x):
            notes.append(f"step for {name} shrunk to h = {h:.3g} to keep {name} ± h in the "
                         f"domain")
        wide = diff.at(2 * h)
        if wide.ok:
            trunc = abs(wide.derivative - cur.derivative) / 3
        else:             # 2h leaves the domain: compare with h/2 instead
            half = diff.at(step(x, h / max(1.0, abs(x)) / 2))
            if half.ok:
                trunc = abs(cur.derivative - half.derivative) / 3
                cur = half
            else:     # no second estimate at all: it is only known to its own size
                trunc = abs(cur.derivative)
        best = (trunc, cur)
        for _ in range(REFINE):
            if trunc <= cur.roundoff(big) or cur.roundoff(big) >= best[0]:
                break          # converged, or round-off now outweighs the best estimate
            half = diff.at(step(x, cur.h / max(1.0, abs(x)) / 2))
            if not half.ok:
                break
            trunc = abs(cur.derivative - half.derivative) / 3
            cur = half
            if trunc < best[0]:
                best = (trunc, cur)
        trunc, cur = best
        h = cur.h
        roundoff = cur.roundoff(big)
        result.gradient[name] = cur.derivative
        details.step[name] = h
        details.tolerance[name] = K * roundoff + 2 * trunc
        if fw.kinks:
            details.sides[name] = ((f0 - cur.minus) / h, (cur.plus_value - f0) / h)
    result.note = "; ".join(notes)
    result.seconds = time.perf_counter() - t0
    finish(result, graph, fw)
    blurred = [v for v, tol in details.tolerance.items()
               if not tol <= RESOLVES * max(1.0, abs(result.gradient[v]))]
    if blurred and result.status == OK:
        # Values far larger than the gradient (x·x + 1e30 − 1e30) leave the differences no
        # digit to resolve it: such an estimate verifies nothing, whatever it says.
        v = blurred[0]
        result.status = IMPRECISE
        result.note = (f"central differences cannot resolve ∂f/∂{v}: their round-off bound "
                       f"{details.tolerance[v]:.3g} is not below {RESOLVES:g} of the estimate "
                       f"{result.gradient[v]:.6g}")
    if details.sides and result.status == NONDIFFERENTIABLE:
        # Not a convention here: a difference across the kink, and its two sides.
        sides = ", ".join(f"{v}: {left:.6g} … {right:.6g}"
                          for v, (left, right) in details.sides.items())
        result.note = (f"central difference across the kink at {result.node}; one-sided "
                       f"differences {sides}")
    return result


@dataclass
class _Central:
    h: float
    derivative: float = math.nan
    minus: float = math.nan
    plus_value: float = math.nan
    node: Optional[int] = None      # where x ± h left the domain
    plus: bool = False              # ... on the x + h side
    ok: bool = True

    def roundoff(self, big: float) -> float:
        """r(h) = ε·S/h: S the largest of f(x ± h) and the live values at the point."""
        return EPS * max(big, abs(self.plus_value), abs(self.minus), 1e-300) / self.h


class _Differences:
    """Central differences for one variable, each evaluation counted."""

    def __init__(self, graph: Graph, point: Mapping[str, float], name: str, x: float,
                 counts: Counts, operations: int) -> None:
        self.graph, self.point, self.name, self.x = graph, dict(point), name, x
        self.counts, self.operations = counts, operations

    def at(self, h: float) -> _Central:
        graph, point, name, x = self.graph, self.point, self.name, self.x
        point[name] = x + h
        fp, bad_p = _value(graph, point)
        point[name] = x - h
        fm, bad_m = _value(graph, point)
        self.counts.passes = (self.counts.passes or 0) + 2
        self.counts.evaluations += 2 * self.operations
        if fp is None:
            return _Central(h, node=bad_p, plus=True, ok=False)
        if fm is None:
            return _Central(h, node=bad_m, plus=False, ok=False)
        self.counts.additions += 1          # f(x + h) − f(x − h)
        self.counts.multiplications += 1    # ... / 2h
        return _Central(h, (fp - fm) / (2 * h), fm, fp)


def _edge(result: Result, graph: Graph, values: list[float], name: str, x: float, h: float,
          node: Optional[int], plus: bool, wrt: list[str], t0: float) -> Result:
    """x + h or x − h leaves the domain at every step tried: say so, with no number."""
    where = graph.describe(node) if node is not None else "the output"
    side = f"{name} {'+' if plus else '−'} h = {x + h if plus else x - h:.6g}"
    kinked = False
    if node is not None and OPS[graph.op[node]] is not None:
        a = values[graph.a[node]]
        b = values[graph.b[node]] if graph.b[node] >= 0 else None
        kinked = OPS[graph.op[node]].kink(a, b)
    result.status = NONDIFFERENTIABLE if kinked else DOMAIN
    result.node = where
    result.note = (f"at a domain edge: {side} leaves the domain at {where} for every step down "
                   f"to h = {h:.3g}; no central difference")
    result.gradient = {v: None for v in wrt}
    result.seconds = time.perf_counter() - t0
    return result


CURVE_STEPS = tuple(10.0 ** -k for k in range(1, 15))     # h = 1e-1 … 1e-14


def error_curve(graph: Graph, point: Mapping[str, float], variable: str,
                steps=CURVE_STEPS) -> list[tuple[float, Optional[float]]]:
    """The central difference for `variable` at each step h (rounded so that x ± h is exactly
    h away): (h, D(h)), D None where x ± h leaves the domain.  Truncation error falls as h²
    and round-off grows as 1/h: against the exact value the error draws a V."""
    x = float(point[variable])
    diff = _Differences(graph, point, variable, x, Counts(), 0)
    out: list[tuple[float, Optional[float]]] = []
    for h in steps:
        h = (x + h) - x
        c = diff.at(h)
        out.append((h, c.derivative if c.ok else None))
    return out
