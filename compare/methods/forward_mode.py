"""Forward mode (tangent propagation): one sweep from the leaves to the output per variable.

For each variable v in `wrt`, compare.tangent's interpreter carries d(node)/dv from the seed 1
at v up to the output, reading the primitive table's partials (no per-primitive code here).
Forward mode pays one sweep per *input*, reverse mode (backprop) one per *output*: on a
gradient of n inputs it does about n times backprop's work.  Counting (compare.counting,
`predict_forward`): in v's sweep every edge whose parent is live and whose child depends on v
costs one local derivative and one multiplication; a node where k contributions meet (k = 2
for a binary operation whose arguments both depend on v) costs k − 1 additions.  At a kink it
uses the same conventions as backprop (the table's partials), so both give the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Optional, Sequence

from ..graph import Graph
from ..result import Result
from ..tangent import Tangents, tangents
from .common import derivative_failure, finish, over_sweep_budget, start_fused

NAME = "forward"


def differentiate(graph: Graph, point: Mapping[str, float], wrt: list[str],
                  limits: object = None) -> Result:
    t0 = time.perf_counter()
    fw, _, failed = start_fused(NAME, graph, point, wrt)
    if failed is not None:
        failed.seconds = time.perf_counter() - t0
        return failed
    values, live = fw.values, graph.live()
    refused = over_sweep_budget(NAME, graph, values[graph.output], wrt, 1, limits)
    if refused is not None:
        refused.seconds = time.perf_counter() - t0
        return refused
    result = Result(NAME, values[graph.output], {})
    counts = result.counts
    counts.passes = 0
    for name, t in _sweeps(graph, values, live, wrt):
        if t is None:
            result.gradient[name] = 0.0        # not in the function: no sweep, no work
            continue
        counts.passes += 1
        counts.derivatives += t.edges
        counts.multiplications += t.edges
        counts.additions += t.additions
        if not t.ok:
            assert t.failed is not None and t.error is not None
            derivative_failure(result, graph, values, t.failed, t.error, wrt)
            result.seconds = time.perf_counter() - t0
            return result
        result.gradient[name] = t.tangent[graph.output]
    result.seconds = time.perf_counter() - t0
    return finish(result, graph, fw)


def _sweeps(graph: Graph, values: list[float], live: Sequence[bool], wrt: list[str]
            ) -> Iterator[tuple[str, Optional[Tangents]]]:
    """Each variable's structural sweep, in `wrt` order; None for a variable the function does
    not use (no sweep, no work).  The method and the handout's table both read these."""
    for name in wrt:
        node = graph.variables.get(name)
        if node is None or not live[node]:
            yield name, None
        else:
            yield name, tangents(graph, values, {node: 1.0}, live, structural=True)


@dataclass
class SweepTable:
    """Forward mode written out for a handout: one column per sweep (variable), one row per
    node the sweeps reached, in topological order; `tangents[k][v]` is d(rows[k])/dv (0.0
    where node rows[k] does not depend on v).  `counts[v]` is (local derivatives,
    multiplications, additions) of v's sweep."""

    variables: list[str]
    rows: list[int]
    tangents: list[dict[str, float]]
    counts: dict[str, tuple[int, int, int]]
    note: str = ""          # why the table is empty or stops (a failed forward pass or sweep)
    swept: list[str] = field(default_factory=list)   # the variables that got a sweep, in order

    def total(self) -> tuple[int, int, int]:
        """(local derivatives, multiplications, additions) of all the sweeps: the forward
        method's counts."""
        d, m, a = zip(*self.counts.values()) if self.counts else ((), (), ())
        return sum(d), sum(m), sum(a)


def sweep_table(graph: Graph, point: Mapping[str, float], wrt: list[str]) -> SweepTable:
    """The per-sweep tangent table of a case (what a handout's forward-mode section shows)."""
    fw, _, failed = start_fused(NAME, graph, point, wrt)
    if failed is not None:
        return SweepTable(list(wrt), [], [], {}, note=failed.note)
    live = graph.live()
    columns: dict[str, list[float]] = {}
    reached = bytearray(len(graph))
    table = SweepTable(list(wrt), [], [], {})
    for name, t in _sweeps(graph, fw.values, live, wrt):
        if t is None:
            table.counts[name] = (0, 0, 0)
            continue
        table.counts[name] = (t.edges, t.edges, t.additions)
        table.swept.append(name)
        if not t.ok:
            table.note = f"the local derivative of {graph.describe(t.failed)} is undefined"
            return table
        columns[name] = t.tangent
        dep = graph.depends_bytes([name])
        for i in range(len(graph)):
            if dep[i] and live[i]:
                reached[i] = 1
    table.rows = [i for i in range(len(graph)) if reached[i]]
    table.tangents = [{v: (columns[v][i] if v in columns else 0.0) for v in wrt}
                      for i in table.rows]
    return table
