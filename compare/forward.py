"""The forward pass: every live operation node evaluated once, in topological order."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Optional

from .graph import Graph
from .primitives import CONST, OPS, VAR
from .result import DOMAIN, NONFINITE, OK, OVERFLOW

KINKED = frozenset(i for i, p in enumerate(OPS) if p is not None and p.kink_tangent is not None)


@dataclass
class Forward:
    values: list[float]
    live: list[bool]
    output: int
    operations: int = 0                 # operation nodes evaluated (leaves are not counted)
    status: str = OK
    node: Optional[int] = None          # where trouble happened
    message: str = ""
    kinks: list[int] = field(default_factory=list)   # live nodes sitting on a kink

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def value(self) -> Optional[float]:
        return self.values[self.output] if self.ok else None


def forward(graph: Graph, point: Mapping[str, float]) -> Forward:
    """Evaluate the graph at `point` (variable name -> number).

    Stops at the first node outside its domain, overflowing or non-finite, and says which.
    """
    n = len(graph)
    live = graph.live()
    values = [0.0] * n
    op, a, b = graph.op, graph.a, graph.b
    result = Forward(values, live, graph.output)
    count = 0
    for i in range(n):
        if not live[i]:
            continue
        code = op[i]
        if code == VAR:
            values[i] = float(point[graph.var_name[i]])
            continue
        if code == CONST:
            values[i] = graph.const[i]
            continue
        prim = OPS[code]
        av = values[a[i]]
        bv = values[b[i]] if b[i] >= 0 else None
        count += 1
        try:
            out = prim.evaluate(av) if bv is None else prim.evaluate(av, bv)
        except OverflowError:
            return _stop(result, count, OVERFLOW, i, graph,
                         f"{prim.name} overflows at {graph.describe(i)}")
        except (ValueError, ZeroDivisionError):
            reason = prim.domain(av, bv) or f"{prim.name} is undefined here"
            return _stop(result, count, DOMAIN, i, graph, f"{reason} at {graph.describe(i)}")
        if not math.isfinite(out):
            status = OVERFLOW if math.isinf(out) and math.isfinite(av) and (
                bv is None or math.isfinite(bv)) else NONFINITE
            return _stop(result, count, status, i, graph,
                         f"{prim.name} gives {out} at {graph.describe(i)}")
        values[i] = out
        if code in KINKED and prim.kink(av, bv):
            result.kinks.append(i)
    result.operations = count
    return result


def _stop(result: Forward, count: int, status: str, node: int, graph: Graph,
          message: str) -> Forward:
    result.operations = count
    result.status = status
    result.node = node
    result.message = message
    return result
