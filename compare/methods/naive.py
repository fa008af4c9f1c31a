"""The lecture's first way: the chain rule per variable and per path, nothing reused.

For every variable separately, every path from the output down to it is walked; along a path the
product starts from 1 and each edge's local derivative is evaluated again and multiplied in;
the paths' products are summed.  Shared derivatives (∂f2/∂f1 for x and again for y) are
recomputed each time, which is exactly the waste backprop removes.  Paths are enumerated with an
explicit stack, never by recursion.  The cost is predicted first (compare.counting); above the
budget the method does not run and reports the prediction.
"""

from __future__ import annotations

import time
from typing import Mapping, Optional

from ..counting import predict_naive
from ..fmt import count_text
from ..graph import Graph
from ..limits import DEFAULT_LIMITS, Limits
from ..result import OVER_BUDGET, Result
from .common import derivative_failure, finish, local, start

NAME = "naive"


def differentiate(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  limits: Optional[Limits] = None) -> Result:
    limits = limits or DEFAULT_LIMITS
    t0 = time.perf_counter()
    fw, failed = start(NAME, graph, point, wrt)
    if failed:
        failed.seconds = time.perf_counter() - t0
        return failed
    predicted, _ = predict_naive(graph, wrt)
    result = Result(NAME, fw.values[graph.output], {})
    if predicted.total > limits.naive_budget:
        result.counts = predicted
        result.predicted = True
        result.status = OVER_BUDGET
        result.gradient = {v: None for v in wrt}
        result.note = (f"predicted {count_text(predicted.total)} operations, over the budget "
                       f"of {limits.naive_budget:,}; not executed")
        result.seconds = time.perf_counter() - t0
        return result

    values = fw.values
    counts = result.counts
    parents = graph.parents()   # once: each variable then visits only the nodes above it
    for name in wrt:
        total: Optional[float] = None
        for path in graph.paths_to(name, parents):
            product = 1.0   # the running product starts from 1 at the output
            for parent, pos in path:
                try:
                    d = local(graph, values, parent, pos)   # evaluated again, every time
                except (ValueError, ZeroDivisionError, OverflowError) as err:
                    result.seconds = time.perf_counter() - t0
                    return derivative_failure(result, graph, values, parent, err, wrt)
                counts.derivatives += 1
                product *= d
                counts.multiplications += 1
            if total is None:
                total = product
            else:
                total += product
                counts.additions += 1
        result.gradient[name] = total if total is not None else 0.0
    result.seconds = time.perf_counter() - t0
    return finish(result, graph, fw)
