"""The cotangent interpreter: one reverse sweep over the tape, from the seed 1 at the output.

This is backpropagation's loop, and the only one: `compare.methods.backprop` runs it, and the
engine runs it with `record=True` when a report or handout needs the sweep edge by edge (one
`BackRow` per edge visited, in the order visited).  Nodes are visited in reverse topological
order (index order reversed), arguments `a` then `b`; only edges whose child depends on a
differentiated variable are visited (compare.counting calls them relevant edges).  Each visited
edge costs one local derivative and one multiplication; a node receiving k contributions costs
k − 1 additions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from .graph import Graph
from .primitives import OPS

# The table's local partials by op code: ∂/∂a and ∂/∂b (None where absent).
PARTIAL_A = [p.partials[0] if p is not None else None for p in OPS]
PARTIAL_B = [p.partials[1] if p is not None and p.arity == 2 else None for p in OPS]


@dataclass
class BackRow:
    """One edge of the backward sweep: parent → child, argument position `pos`."""

    parent: int
    pos: int
    child: int
    upstream: float            # ∂f/∂parent, copied from the parent
    local: float               # ∂parent/∂child
    product: float             # upstream × local
    before: Optional[float]    # the child's gradient before this contribution (None: first)
    total: float               # the child's gradient after it


@dataclass
class Sweep:
    """What one reverse sweep produced.

    `grad[i]` is ∂f/∂node i, or None where nothing arrived (the node does not depend on a
    differentiated variable, or is not live).  When a local derivative could not be evaluated
    (sqrt'(0), a derivative outside its domain) the sweep stops: `failed` is the parent node,
    `error` the exception, and the counts are the work done until then.
    """

    grad: list
    edges: int
    additions: int
    rows: Optional[list[BackRow]] = None
    failed: Optional[int] = None
    error: Optional[Exception] = None


def sweep(graph: Graph, values: Sequence[float], dep: "bytearray | Sequence[bool]",
          record: bool = False) -> Sweep:
    """Reverse-mode sweep given every node's value and which nodes depend on `wrt`.

    `dep` may be `Graph.depends_bytes(wrt)` (n + 1 bytes, the last 0) or a list of n flags.
    """
    n = len(graph)
    out = graph.output
    grad: list = [None] * n
    if out >= 0 and dep[out]:
        grad[out] = 1.0
    rows: Optional[list[BackRow]] = [] if record else None
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
                d = pa_of[code](av, None, values[u])
                c = g * d
                edges += 1
                gx = grad[x]
                grad[x] = c if gx is None else gx + c
                if gx is not None:
                    adds += 1
                if rows is not None:
                    rows.append(BackRow(u, 0, x, g, d, c, gx, grad[x]))
                continue
            bv = values[y]
            o = values[u]
            if dep[x]:
                d = pa_of[code](av, bv, o)
                c = g * d
                edges += 1
                gx = grad[x]
                grad[x] = c if gx is None else gx + c
                if gx is not None:
                    adds += 1
                if rows is not None:
                    rows.append(BackRow(u, 0, x, g, d, c, gx, grad[x]))
            if dep[y]:
                d = pb_of[code](av, bv, o)
                c = g * d
                edges += 1
                gy = grad[y]      # read after x's update: x == y (as in v·v) adds up right
                grad[y] = c if gy is None else gy + c
                if gy is not None:
                    adds += 1
                if rows is not None:
                    rows.append(BackRow(u, 1, y, g, d, c, gy, grad[y]))
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as err:
        return Sweep(grad, edges, adds, rows, failed=u, error=err)
    return Sweep(grad, edges, adds, rows)
