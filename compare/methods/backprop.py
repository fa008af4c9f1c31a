"""Cached reverse mode (backpropagation): one backward sweep from the seed 1 at the output.

Each node's gradient is accumulated once and then *reused* by every edge below it ("copied from
the parent", as the lecture says), never recomputed.  Counting follows compare.counting: one
local derivative and one multiplication per relevant edge, k − 1 additions for a node receiving
k contributions.
"""

from __future__ import annotations

import time
from typing import Mapping

from ..forward import Forward, values_and_dependence
from ..graph import Graph
from ..primitives import OPS
from ..result import Result
from .common import derivative_failure, finish, start

NAME = "backprop"

# The table's local partials by op code: ∂/∂a and ∂/∂b (None where absent).
PARTIAL_A = [p.partials[0] if p is not None else None for p in OPS]
PARTIAL_B = [p.partials[1] if p is not None and p.arity == 2 else None for p in OPS]


def differentiate(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  limits: object = None) -> Result:
    t0 = time.perf_counter()
    fused = values_and_dependence(graph, point, wrt)
    if fused is not None:
        values, dep, kinks = fused
        fw = Forward(values, [], graph.output, kinks=kinks)   # liveness not needed here
    else:   # trouble somewhere: the careful forward pass says where, exactly
        fw, failed = start(NAME, graph, point, wrt)
        if failed:
            failed.seconds = time.perf_counter() - t0
            return failed
        values = fw.values
        dep = graph.depends_bytes(wrt)
    # dep[-1] is 0 (one extra byte at the end): "no argument" never depends on wrt.
    n = len(graph)
    out = graph.output
    result = Result(NAME, values[out], {})
    # grad[u] is None until u has received its first contribution.  Only nodes that received
    # one are visited, so every visited node is live and depends on wrt.
    grad: list = [None] * n
    if dep[out]:
        grad[out] = 1.0
    op, ga, gb = graph.op, graph.a, graph.b
    pa_of, pb_of = PARTIAL_A, PARTIAL_B
    edges = adds = 0
    u = out
    try:
        for u in range(out, -1, -1):
            g = grad[u]
            if g is None:
                continue
            x = ga[u]
            if x < 0:
                continue                      # a leaf: its gradient is final
            code = op[u]
            y = gb[u]
            av = values[x]
            if y < 0:
                # u depends on wrt, so its only argument does too: the edge is relevant.
                c = g * pa_of[code](av, None, values[u])
                edges += 1
                gx = grad[x]
                if gx is None:
                    grad[x] = c
                else:
                    grad[x] = gx + c
                    adds += 1
                continue
            bv = values[y]
            o = values[u]
            if dep[x]:
                c = g * pa_of[code](av, bv, o)
                edges += 1
                gx = grad[x]
                if gx is None:
                    grad[x] = c
                else:
                    grad[x] = gx + c
                    adds += 1
            if dep[y]:
                c = g * pb_of[code](av, bv, o)
                edges += 1
                gy = grad[y]      # read after x's update: x == y (as in v·v) adds up right
                if gy is None:
                    grad[y] = c
                else:
                    grad[y] = gy + c
                    adds += 1
    except (ValueError, ZeroDivisionError, OverflowError) as err:
        return _timed(derivative_failure(result, graph, values, u, err, wrt), t0, edges, adds)
    # A variable that received nothing (unused, or not in the graph) has gradient 0.
    grad.append(0.0)              # grad[-1]: where variables missing from the graph look
    variables = graph.variables
    gradient = dict(zip(wrt, map(grad.__getitem__, [variables.get(v, -1) for v in wrt])))
    if None in gradient.values():
        gradient = {v: 0.0 if g is None else g for v, g in gradient.items()}
    result.gradient = gradient
    _timed(result, t0, edges, adds)
    return finish(result, graph, fw)


def _timed(result: Result, t0: float, edges: int, adds: int) -> Result:
    # Each relevant edge processed cost one local derivative and one multiplication.
    result.counts.derivatives = edges
    result.counts.multiplications = edges
    result.counts.additions = adds
    result.seconds = time.perf_counter() - t0
    return result
