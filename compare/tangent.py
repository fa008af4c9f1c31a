"""The tangent interpreter (forward mode): one sweep from the leaves to the output carrying
d(node)/d(direction), read from the primitive table's partials.

The engine uses it for the exact one-sided derivatives at a kink (where the table's
`kink_tangent` gives the one-sided rule: relu: max(t, 0), abs: |t|, max: max(ta, tb), …);
the `forward` method (compare.methods.forward_mode) is the same sweep seeded with 1 on one
variable, run `structural`ly: an edge is visited when its child *depends* on the seeded
variable (not when its tangent happens to be 0), so the work is counted as compare.counting
defines it — one local derivative and one multiplication per visited edge, k − 1 additions
where k contributions meet.
"""

from __future__ import annotations

import math
from fractions import Fraction
from dataclasses import dataclass
from typing import Collection, Mapping, Optional, Sequence

from .graph import Graph
from .primitives import OPS


@dataclass
class Tangents:
    """Every node's tangent, or where the sweep stopped (a partial undefined at the point)."""

    tangent: list[float]
    failed: Optional[int] = None
    error: Optional[Exception] = None
    edges: int = 0          # structural sweeps: edges visited (each: a local derivative, a ×)
    additions: int = 0      # structural sweeps: k − 1 per node where k contributions meet

    @property
    def ok(self) -> bool:
        return self.failed is None


def tangents(graph: Graph, values: Sequence[float], seed: Mapping[int, float],
             live: Optional[Sequence[bool]] = None, kinks: Collection[int] = (),
             structural: bool = False, exact: bool = False) -> Tangents:
    """Propagate the tangents `seed` (node -> tangent, usually one variable) to every node.

    Nodes whose arguments all carry a zero tangent are skipped (their tangent is 0); with
    `structural`, nodes none of whose arguments depend on a seeded node are skipped instead,
    and the edges visited and additions made are counted.  At a node in `kinks` the
    primitive's one-sided rule is used instead of its partials.  `exact` sums the products of
    the (float) partials as exact fractions, so that two sides differing by 1 beside terms of
    1e217 still differ.
    """
    n = len(graph)
    tangent: list = [0.0] * n
    dep = bytearray(n) if structural else None
    for node, t in seed.items():
        tangent[node] = Fraction(t) if exact else t
        if dep is not None:
            dep[node] = 1
    op, ga, gb = graph.op, graph.a, graph.b
    first = min(seed, default=n)
    i = first
    edges = adds = 0
    try:
        for i in range(first + 1, n):
            x = ga[i]
            if x < 0 or (live is not None and not live[i]):
                continue
            y = gb[i]
            ta = tangent[x]
            tb = tangent[y] if y >= 0 else 0.0
            if dep is None:
                use_a, use_b = ta != 0.0, tb != 0.0
            else:
                use_a, use_b = dep[x] == 1, y >= 0 and dep[y] == 1
            if not use_a and not use_b:
                continue
            if dep is not None:
                dep[i] = 1
                edges += use_a + use_b
                adds += use_a and use_b
            prim = OPS[op[i]]
            a = values[x]
            b = values[y] if y >= 0 else None
            if i in kinks:
                t = prim.kink_tangent(a, b, ta, tb)
                tangent[i] = Fraction(t) if exact and math.isfinite(t) else t
                continue
            total = Fraction(0) if exact else 0.0
            if use_a:
                total += _exactly(prim.partials[0](a, b, values[i]), exact) * ta
            if use_b:
                total += _exactly(prim.partials[1](a, b, values[i]), exact) * tb
            tangent[i] = total
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as err:
        return Tangents(tangent, failed=i, error=err, edges=edges, additions=adds)
    return Tangents(tangent, edges=edges, additions=adds)


def _exactly(d: float, exact: bool) -> "float | Fraction":
    return Fraction(d) if exact and math.isfinite(d) else d


EXACT_SIDES_NODES = 5_000   # up to this many nodes the sides are summed as exact fractions


def one_sided(graph: Graph, values: Sequence[float], live: Optional[Sequence[bool]],
              kinks: Collection[int], wrt: Sequence[str]
              ) -> dict[str, tuple[Optional[float], Optional[float]]]:
    """Exact left and right partial derivatives at a point with kinks.

    Right = D(+e_v), left = −D(−e_v).  A side whose sweep meets a partial undefined at the
    point (x**0.5 at 0 beside a relu) is None: not known, never an exception.
    """
    return {name: (_float(left), _float(right))
            for name, (left, right) in _sides(graph, values, live, kinks, wrt).items()}


def sides_agree(graph: Graph, values: Sequence[float], live: Optional[Sequence[bool]],
                kinks: Collection[int], wrt: Sequence[str]) -> bool:
    """Do the left and right partial derivatives agree (and are finite) for every variable?

    On graphs of up to EXACT_SIDES_NODES nodes the products of the float partials are summed
    exactly, as fractions, and compared exactly: two sides differing by 1 beside terms of
    1e217 differ (in floats they would round to the same number).  Larger graphs sum and
    compare in floats (to 1e-12), since fraction sizes grow with the depth.
    """
    for left, right in _sides(graph, values, live, kinks, wrt).values():
        if left is None or right is None:
            return False
        if isinstance(left, Fraction) and isinstance(right, Fraction):
            if left != right:
                return False
        elif not (math.isfinite(left) and math.isfinite(right)
                  and math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-300)):
            return False
    return True


def _float(x: "Optional[float | Fraction]") -> Optional[float]:
    return None if x is None else float(x)


def _sides(graph: Graph, values: Sequence[float], live: Optional[Sequence[bool]],
           kinks: Collection[int], wrt: Sequence[str]) -> dict[str, tuple]:
    exact = len(graph) <= EXACT_SIDES_NODES
    kink_set = set(kinks)
    out: dict[str, tuple] = {}
    for name in wrt:
        node = graph.variables.get(name)
        if node is None:
            out[name] = (0.0, 0.0)
            continue
        sides: list = []
        for direction in (-1, 1):
            t = tangents(graph, values, {node: float(direction)}, live, kink_set, exact=exact)
            value = direction * t.tangent[graph.output] if t.ok else None
            sides.append(None if value is None or (isinstance(value, float)
                                                   and math.isnan(value)) else value)
        out[name] = (sides[0], sides[1])
    return out
