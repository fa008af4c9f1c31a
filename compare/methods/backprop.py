"""Cached reverse mode (backpropagation): one backward sweep from the seed 1 at the output.

Each node's gradient is accumulated once and then *reused* by every edge below it ("copied from
the parent", as the lecture says), never recomputed.  The sweep is compare.cotangent's; counting
follows compare.counting: one local derivative and one multiplication per relevant edge, k − 1
additions for a node receiving k contributions.
"""

from __future__ import annotations

import time
from typing import Mapping

from ..cotangent import sweep
from ..graph import Graph
from ..result import Result
from .common import derivative_failure, finish, start_fused

NAME = "backprop"


def differentiate(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  limits: object = None) -> Result:
    t0 = time.perf_counter()
    fw, dep, failed = start_fused(NAME, graph, point, wrt)
    if failed:
        failed.seconds = time.perf_counter() - t0
        return failed
    values = fw.values
    result = Result(NAME, values[graph.output], {})
    s = sweep(graph, values, dep)
    if s.failed is not None:
        return _timed(derivative_failure(result, graph, values, s.failed, s.error, wrt), t0,
                      s.edges, s.additions)
    # A variable that received nothing (unused, or not in the graph) has gradient 0.
    grad = s.grad
    grad.append(0.0)              # grad[-1]: where variables missing from the graph look
    variables = graph.variables
    gradient = dict(zip(wrt, map(grad.__getitem__, [variables.get(v, -1) for v in wrt])))
    grad.pop()
    if None in gradient.values():
        gradient = {v: 0.0 if g is None else g for v, g in gradient.items()}
    result.gradient = gradient
    _timed(result, t0, s.edges, s.additions)
    return finish(result, graph, fw)


def _timed(result: Result, t0: float, edges: int, adds: int) -> Result:
    # Each relevant edge processed cost one local derivative and one multiplication.
    result.counts.derivatives = edges
    result.counts.multiplications = edges
    result.counts.additions = adds
    result.counts.passes = 1
    result.seconds = time.perf_counter() - t0
    return result
