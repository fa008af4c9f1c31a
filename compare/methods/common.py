"""Pieces the numeric methods share: starting from a forward pass, and local derivatives."""

from __future__ import annotations

import math
from typing import Mapping, Optional

from ..forward import Forward, forward, values_and_dependence
from ..graph import Graph
from ..primitives import OPS
from ..result import DOMAIN, NONDIFFERENTIABLE, NONFINITE, OK, OVER_BUDGET, OVERFLOW, Result
from ..tangent import one_sided, sides_agree


def start(method: str, graph: Graph, point: Mapping[str, float],
          wrt: list[str]) -> tuple[Forward, Optional[Result]]:
    """Run the forward pass; if it fails, the method's result is that failure."""
    fw = forward(graph, point)
    if not fw.ok:
        node = graph.describe(fw.node) if fw.node is not None else None
        return fw, Result(method, None, {v: None for v in wrt}, status=fw.status,
                          note=fw.message, node=node)
    return fw, None


def start_fused(method: str, graph: Graph, point: Mapping[str, float], wrt: list[str]
                ) -> tuple[Forward, bytearray, Optional[Result]]:
    """`start` by the fast road when nothing is off: one fused loop gives the values, which
    nodes depend on `wrt`, and the kinks (forward.values_and_dependence); otherwise the careful
    pass, which says exactly where the trouble is.  Returns (forward pass, dependence, the
    method's failure or None)."""
    fused = values_and_dependence(graph, point, wrt)
    if fused is not None:
        values, dep, kinks = fused
        return Forward(values, [], graph.output, kinks=kinks), dep, None  # no liveness needed
    fw, failed = start(method, graph, point, wrt)
    return fw, (graph.depends_bytes(wrt) if failed is None else bytearray()), failed


def local(graph: Graph, values: list[float], parent: int, position: int) -> float:
    """∂ parent / ∂ (its argument at `position`), evaluated from the primitive table."""
    prim = OPS[graph.op[parent]]
    assert prim is not None
    a = values[graph.a[parent]]
    b = values[graph.b[parent]] if graph.b[parent] >= 0 else None
    return prim.partials[position](a, b, values[parent])


def finish(result: Result, graph: Graph, fw: Forward) -> Result:
    """Set the status from the gradient and the kinks met on the way.

    A gradient too large for a float is an overflow (as everywhere); NaN is non-finite.  At
    kinks the exact one-sided derivatives (compare.tangent) decide: where they agree for every
    variable the function is differentiable there and the status is ok, with a note (saying
    so when the convention's value is not that derivative); where they differ it is
    nondifferentiable.
    """
    grads = result.gradient.values()
    if None not in grads and all(map(math.isfinite, grads)):
        bad = []
    else:
        bad = [v for v, g in result.gradient.items() if g is None or not math.isfinite(g)]
    if bad:
        if result.status == OK:
            infinite = all(g is not None and math.isinf(g) for v, g in result.gradient.items()
                           if v in bad)
            result.status = OVERFLOW if infinite else NONFINITE
            result.note = result.note or (
                f"∂f/∂{bad[0]} overflows a float" if infinite
                else f"gradient not finite for {', '.join(bad)}")
    elif fw.kinks and result.status == OK:
        where = "; ".join(kink_text(graph, i) for i in fw.kinks)
        wrt = list(result.gradient)
        live = fw.live or graph.live()     # backprop's fused pass does not keep liveness
        if sides_agree(graph, fw.values, live, fw.kinks, wrt):
            sides = one_sided(graph, fw.values, live, fw.kinks, wrt)
            off = [v for v, g in result.gradient.items() if g != sides[v][1]]
            result.note = (f"on a kink ({where}), but the one-sided derivatives agree for "
                           f"every variable: the function is differentiable here")
            if off:
                result.note += (f"; the convention's ∂f/∂{off[0]} = {result.gradient[off[0]]!r} "
                                f"is not that derivative ({sides[off[0]][1]!r})")
        else:
            result.status = NONDIFFERENTIABLE
            result.node = graph.describe(fw.kinks[0])
            result.note = where
    return result


def kink_text(graph: Graph, i: int) -> str:
    """`node: the convention used there`, as a kink is named in every note."""
    prim = OPS[graph.op[i]]
    assert prim is not None
    return f"{graph.describe(i)}: {prim.kink_note}"


def derivative_failure(result: Result, graph: Graph, values: list[float], parent: int,
                       err: Exception, wrt: list[str]) -> Result:
    """A local derivative could not be evaluated: at a kink (sqrt'(0)) or outside the domain.

    The whole gradient is then unknown: every variable in `wrt` is listed as None.
    """
    prim = OPS[graph.op[parent]]
    a = values[graph.a[parent]]
    b = values[graph.b[parent]] if graph.b[parent] >= 0 else None
    result.node = graph.describe(parent)
    if prim is not None and prim.kink(a, b):
        result.status = NONDIFFERENTIABLE
        result.note = kink_text(graph, parent)
    else:
        result.status = DOMAIN
        result.note = f"local derivative of {result.node} undefined"
    result.value = values[graph.output]
    result.gradient = {v: None for v in wrt}
    return result


def over_sweep_budget(method: str, graph: Graph, value: Optional[float], wrt: list[str],
                      per_input: int, limits: object) -> Optional[Result]:
    """Forward mode and central differences cost O(inputs × nodes): `per_input` visits of the
    whole graph per differentiated input.  Above `sweep_budget` the method is not run and says
    what it would have cost (naive's `over_budget`, for a polynomial instead of a path count)."""
    from ..limits import DEFAULT_LIMITS

    budget = getattr(limits or DEFAULT_LIMITS, "sweep_budget", DEFAULT_LIMITS.sweep_budget)
    inputs = sum(1 for v in wrt if v in graph.variables)
    visits = per_input * inputs * len(graph)
    if visits <= budget:
        return None
    return Result(method, value, {v: None for v in wrt}, counts=None, status=OVER_BUDGET,
                  note=f"{inputs:,} inputs × {len(graph):,} nodes"
                       f"{f' × {per_input}' if per_input > 1 else ''} = {visits:,} node visits, "
                       f"over the budget of {budget:,} (sweep_budget); not executed")
