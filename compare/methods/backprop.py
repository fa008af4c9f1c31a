"""Cached reverse mode (backpropagation): one backward sweep from the seed 1 at the output.

Each node's gradient is accumulated once and then *reused* by every edge below it ("copied from
the parent", as the lecture says), never recomputed.  Counting follows compare.counting: one
local derivative and one multiplication per relevant edge, k − 1 additions for a node receiving
k contributions.
"""

from __future__ import annotations

import time
from typing import Mapping

from ..graph import Graph
from ..primitives import OPS
from ..result import Result
from .common import derivative_failure, finish, start

NAME = "backprop"


def differentiate(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  limits: object = None) -> Result:
    t0 = time.perf_counter()
    fw, failed = start(NAME, graph, point, wrt)
    if failed:
        failed.seconds = time.perf_counter() - t0
        return failed
    values = fw.values
    dep = graph.depends_on(wrt)
    live = fw.live
    n = len(graph)
    grad = [0.0] * n
    received = [False] * n
    op, ga, gb = graph.op, graph.a, graph.b
    out = graph.output
    grad[out] = 1.0
    received[out] = True
    derivs = mults = adds = 0
    result = Result(NAME, values[out], {})
    for u in range(out, -1, -1):
        if not (live[u] and dep[u] and received[u]) or ga[u] < 0:
            continue
        prim = OPS[op[u]]
        g = grad[u]
        av = values[ga[u]]
        bv = values[gb[u]] if gb[u] >= 0 else None
        for pos, v in ((0, ga[u]), (1, gb[u])):
            if v < 0 or not dep[v]:
                continue
            try:
                d = prim.partials[pos](av, bv, values[u])
            except (ValueError, ZeroDivisionError, OverflowError) as err:
                return _timed(derivative_failure(result, graph, u, err), t0, derivs, mults, adds)
            derivs += 1
            c = g * d
            mults += 1
            if received[v]:
                grad[v] += c
                adds += 1
            else:
                grad[v] = c
                received[v] = True
    for name in wrt:
        node = graph.variables.get(name)
        result.gradient[name] = grad[node] if node is not None else 0.0
    _timed(result, t0, derivs, mults, adds)
    return finish(result, graph, fw)


def _timed(result: Result, t0: float, derivs: int, mults: int, adds: int) -> Result:
    result.counts.derivatives = derivs
    result.counts.multiplications = mults
    result.counts.additions = adds
    result.seconds = time.perf_counter() - t0
    return result
