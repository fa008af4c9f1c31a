"""The forward pass: every live operation node evaluated once, in topological order."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import count
from typing import Mapping, Optional, Sequence

from .graph import Graph
from .primitives import AT_ROOT, AT_ZERO, CONST, OPS, VAR
from .result import DOMAIN, NONFINITE, OK, OVERFLOW

KINKED = frozenset(i for i, p in enumerate(OPS) if p is not None and p.kink_at)
# The table's evaluation functions by op code (None for the leaves): the fast loop's dispatch.
EVALUATE = [p.evaluate if p is not None else None for p in OPS]


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

    Stops at the first live node outside its domain, overflowing or non-finite, and says which.

    One fast loop (`values_and_dependence`, shared with backprop) evaluates every node with the
    table's `evaluate` and checks finiteness once at the end (a single non-finite value makes
    the sum non-finite); at the first exception or non-finite sum the careful loop runs from
    the start over the live nodes, stopping at the first troubled one with its message.
    """
    live = graph.live()
    fast = values_and_dependence(graph, point, ())
    if fast is not None:
        values, _, kinks = fast
        op = graph.op
        count = sum(1 for i in range(len(op)) if op[i] > CONST and live[i])
        return Forward(values, live, graph.output, operations=count,
                       kinks=[i for i in kinks if live[i]])
    return _careful(graph, point, live)


def kinks_of(graph: Graph, values: list[float], live: Optional[list[bool]] = None) -> list[int]:
    """The live nodes sitting on a kink, in node order (`live` is computed when not given).

    Ruled out for the whole graph where the table's kink places allow it: an AT_ZERO or AT_ROOT
    kink needs an argument equal to 0, so when the graph has no tie-kinked operation and no value is 0
    there is none, and no node is tested one by one.
    """
    op = graph.op
    present = KINKED.intersection(op)
    if not present or (0.0 not in values
                       and all(OPS[code].kink_at in (AT_ZERO, AT_ROOT) for code in present)):
        return []
    a, b = graph.a, graph.b
    found = []
    for i, code in enumerate(op):
        if code in present:
            y = b[i]
            if OPS[code].kink(values[a[i]], values[y] if y >= 0 else None):
                found.append(i)
    if found:
        if live is None:
            live = graph.live()
        found = [i for i in found if live[i]]
    return found


def _careful(graph: Graph, point: Mapping[str, float], live: list[bool]) -> Forward:
    n = len(graph)
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


def values_and_dependence(graph: Graph, point: Mapping[str, float], wrt: Sequence[str]
                          ) -> Optional[tuple[list[float], bytearray, list[int]]]:
    """One fused loop for backprop: every node's value, which nodes depend on `wrt`, the kinks.

    Returns None when anything is off (an exception anywhere, a non-finite value, also in an
    unused node): the caller then takes the careful road through `forward`, which reports the
    first troubled *live* node exactly.  Nothing here is counted: the forward pass's count is
    `forward().operations`.  `dep` has one extra final 0 byte, so `dep[-1]` reads "no".
    Kinks are the live nodes sitting on a kink (liveness is computed only if there are any).
    """
    n = len(graph)
    values = [0.0] * n
    dep = bytearray(n + 1)
    var_name = graph.var_name
    for node, value in zip(var_name, map(float, map(point.__getitem__, var_name.values()))):
        values[node] = value
    for node, value in graph.const.items():
        values[node] = value
    for name in wrt:
        node = graph.variables.get(name)
        if node is not None:
            dep[node] = 1
    evaluate = EVALUATE
    try:
        for i, code, x, y in zip(count(), graph.op, graph.a, graph.b):
            if code > CONST:
                if y < 0:
                    values[i] = evaluate[code](values[x])
                    if dep[x]:
                        dep[i] = 1
                else:
                    values[i] = evaluate[code](values[x], values[y])
                    if dep[x] or dep[y]:
                        dep[i] = 1
    except (ArithmeticError, ValueError, TypeError):
        return None
    if not math.isfinite(sum(values)):
        return None
    return values, dep, kinks_of(graph, values)


def _stop(result: Forward, count: int, status: str, node: int, graph: Graph,
          message: str) -> Forward:
    result.operations = count
    result.status = status
    result.node = node
    result.message = message
    return result
