"""Batched evaluation: one graph's value and backprop gradient at many points in one pass.

The scalar engine (compare.forward, compare.cotangent) walks the tape once per point; here each
node is evaluated once for a whole array of points, with the `batched` rule its primitive
declares in the table (compare.primitives), so the table stays the one place an operation is
defined.  This is what contour grids (500 × 500 points) and data sets need.

Trouble is reported per point, never as a failure of the batch: a point whose evaluation leaves
the domain (log(0), sqrt(−1), 1/0), overflows or turns non-finite gets that status and NaN for
its value and gradient, named at the first node where it happened, exactly as the scalar
forward pass names it; a point on a kink gets `nondifferentiable` and the table's convention.
To stay fast, values are only summed per node while evaluating; the few points whose sum is not
finite are evaluated again node by node to find where they went wrong.

numpy is imported here and nowhere in the package's import path: `import compare` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .graph import Graph
from .primitives import AT_ROOT, AT_TIE, AT_ZERO, CONST, OPS
from .result import DOMAIN, NONDIFFERENTIABLE, NONFINITE, OK, OVERFLOW, Status

# Status codes per point: index into STATUSES (int8 arrays are cheap at 10^6 points).
STATUSES: tuple[Status, ...] = (OK, NONDIFFERENTIABLE, DOMAIN, OVERFLOW, NONFINITE)
_CODE = {s: k for k, s in enumerate(STATUSES)}
CHUNK = 32_768     # points per pass: each node's array stays in the processor's cache

_EVALUATE = [p.batched.evaluate if p is not None and p.batched else None for p in OPS]
_PARTIALS = [p.batched.partials if p is not None and p.batched else () for p in OPS]


@dataclass
class Batch:
    """Value and gradient of one graph at `points` points, with a status per point.

    `value[k]` and `gradient[v][k]` are NaN where point k has no value (status domain, overflow,
    nonfinite) or no finite gradient.  `node[k]` is where point k's trouble happened, or its
    first kink, else −1.  `reason` holds the scalar domain message of each troubled point.
    """

    points: int
    value: np.ndarray
    gradient: dict[str, np.ndarray]
    status: np.ndarray
    node: np.ndarray
    reason: dict[int, str]

    def status_of(self, k: int) -> Status:
        return STATUSES[int(self.status[k])]

    @property
    def ok(self) -> np.ndarray:
        """Points with a value and a gradient (kinks included, with the stated convention)."""
        return self.status <= _CODE[NONDIFFERENTIABLE]

    def note(self, k: int, graph: Graph) -> str:
        """What happened at point k, worded as the scalar engine words it."""
        i = int(self.node[k])
        if i < 0:
            return ""
        prim = OPS[graph.op[i]]
        if self.status_of(k) == NONDIFFERENTIABLE:
            return f"{graph.describe(i)}: {prim.kink_note}"
        return f"{self.reason.get(k, prim.name + ' gives no finite value')} at " \
               f"{graph.describe(i)}"


def evaluate(graph: Graph, columns: Mapping[str, Any], wrt: Optional[Sequence[str]] = None,
             chunk: int = CHUNK) -> Batch:
    """The graph at every point given by `columns` (variable name -> array or number).

    Every variable of the graph needs a column; numbers are the same at every point.  With
    `wrt`, the backprop gradient with respect to those variables too (one reverse sweep per
    chunk of points, visiting the same edges as compare.cotangent).
    """
    missing = [v for v in graph.variables if v not in columns]
    if missing:
        raise ValueError(f"no column for {', '.join(missing)}")
    arrays = {v: np.asarray(columns[v], dtype=float) for v in graph.variables}
    shapes = [a.shape for a in arrays.values() if a.ndim]
    if any(len(s) != 1 for s in shapes):
        raise ValueError("columns must be numbers or one-dimensional arrays")
    n = max((s[0] for s in shapes), default=1)
    if any(s[0] != n for s in shapes):
        raise ValueError("columns of different lengths")
    wrt = list(wrt or ())
    live = graph.live()
    dep = graph.depends_bytes(wrt) if wrt else None
    value = np.empty(n)
    gradient = {v: np.empty(n) for v in wrt}
    status = np.zeros(n, dtype=np.int8)
    node = np.full(n, -1, dtype=np.int64)
    reason: dict[int, str] = {}
    with np.errstate(all="ignore"):
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            part = {v: (a[start:stop] if a.ndim else float(a)) for v, a in arrays.items()}
            _chunk(graph, part, stop - start, live, wrt, dep, start, value, gradient, status,
                   node, reason)
    return Batch(n, value, gradient, status, node, reason)


def _leaves(graph: Graph, columns: Mapping[str, Any]) -> list:
    values: list = [None] * len(graph)
    for i, name in graph.var_name.items():
        values[i] = columns[name]
    for i, c in graph.const.items():
        values[i] = c
    return values


def _forward(graph: Graph, values: list, live: list[bool], size: int) -> np.ndarray:
    """Evaluate every live operation node in place; returns the sum of their values."""
    acc = np.zeros(size)
    op, ga, gb = graph.op, graph.a, graph.b
    for i in range(len(op)):
        code = op[i]
        if code > CONST and live[i]:
            y = gb[i]
            out = _EVALUATE[code](np, values[ga[i]], values[y] if y >= 0 else None)
            values[i] = out
            acc += out
    return acc


def _chunk(graph: Graph, columns: Mapping[str, Any], size: int, live: list[bool],
           wrt: list[str], dep: Optional[bytearray], offset: int, value: np.ndarray,
           gradient: dict[str, np.ndarray], status: np.ndarray, node: np.ndarray,
           reason: dict[int, str]) -> None:
    here = slice(offset, offset + size)
    values = _leaves(graph, columns)
    acc = _forward(graph, values, live, size)
    out = graph.output
    value[here] = values[out] if out >= 0 else np.nan
    troubled = np.flatnonzero(~np.isfinite(acc))
    if troubled.size:
        _classify(graph, columns, troubled, live, offset, status, node, reason)
    st = status[here]
    kinked = _kinks(graph, values, live, size)
    if kinked is not None:
        where, first = kinked
        newly = where & (st == 0)
        st[newly] = _CODE[NONDIFFERENTIABLE]
        node[here][newly] = first[newly]
    if wrt:
        assert dep is not None
        grads = _sweep(graph, values, dep, size)
        bad = st > _CODE[NONDIFFERENTIABLE]
        unfinished = np.zeros(size, dtype=bool)
        for v in wrt:
            g = grads[v]
            unfinished |= ~np.isfinite(g)
            gradient[v][here] = np.where(bad, np.nan, g)
        # A gradient that is not finite at a point with a value: a kink's infinite slope
        # (sqrt at 0) keeps `nondifferentiable`, anything else is `nonfinite`.
        newly = unfinished & (st == 0)
        st[newly] = _CODE[NONFINITE]
        for v in wrt:
            gradient[v][here][unfinished] = np.nan
    value[here][st > _CODE[NONDIFFERENTIABLE]] = np.nan


def _classify(graph: Graph, columns: Mapping[str, Any], troubled: np.ndarray,
              live: list[bool], offset: int, status: np.ndarray, node: np.ndarray,
              reason: dict[int, str]) -> None:
    """Find, for the troubled points only, the first live node that went wrong and why."""
    sub = {v: (c[troubled] if isinstance(c, np.ndarray) else c) for v, c in columns.items()}
    values = _leaves(graph, sub)
    first = np.full(troubled.size, -1, dtype=np.int64)
    op, ga, gb = graph.op, graph.a, graph.b
    for i in range(len(op)):
        code = op[i]
        if code <= CONST or not live[i]:
            continue
        y = gb[i]
        av, bv = values[ga[i]], values[y] if y >= 0 else None
        out = _EVALUATE[code](np, av, bv)
        values[i] = out
        fine = np.isfinite(av) & (np.isfinite(bv) if bv is not None else True)
        newly = np.flatnonzero((first < 0) & fine & ~np.isfinite(out))
        if newly.size == 0:
            continue
        first[newly] = i
        prim = OPS[code]
        a_at, b_at = (np.broadcast_to(v, troubled.shape)[newly]
                      for v in (av, bv if bv is not None else np.nan))
        for k, a, b in zip(newly.tolist(), a_at.tolist(), b_at.tolist()):
            point = int(troubled[k]) + offset
            status[point], reason[point] = _why(prim, a, None if bv is None else b)
            node[point] = i


def _why(prim: Any, a: float, b: Optional[float]) -> tuple[int, str]:
    """Status code and message of a troubled point, from the scalar entry itself (only the few
    troubled points get here), so the wording is the scalar forward pass's."""
    try:
        out = prim.evaluate(a) if b is None else prim.evaluate(a, b)
    except OverflowError:
        return _CODE[OVERFLOW], f"{prim.name} overflows"
    except (ValueError, ZeroDivisionError):
        return _CODE[DOMAIN], prim.domain(a, b) or f"{prim.name} is undefined here"
    if out in (np.inf, -np.inf):
        return _CODE[OVERFLOW], f"{prim.name} gives {out}"
    return _CODE[NONFINITE], f"{prim.name} gives {out}"


def _kinks(graph: Graph, values: list, live: list[bool], size: int
           ) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """Points sitting on a kink of a live node, and the first such node per point."""
    where = None
    first = None
    op, ga, gb = graph.op, graph.a, graph.b
    for i in range(len(op)):
        code = op[i]
        if code <= CONST or not live[i]:
            continue
        place = OPS[code].kink_at
        if not place:
            continue
        a = values[ga[i]]
        if place == AT_ZERO:
            hit = a == 0
        elif place == AT_TIE:
            hit = a == values[gb[i]]
        else:   # AT_ROOT
            b = values[gb[i]]
            hit = (a == 0) & (b > 0) & (b < 1)
        hit = np.broadcast_to(hit, (size,))
        if not hit.any():
            continue
        if where is None:
            where, first = hit.copy(), np.where(hit, i, -1)
        else:
            first = np.where(hit & ~where, i, first)
            where |= hit
    return None if where is None else (where, first)


def _sweep(graph: Graph, values: list, dep: bytearray, size: int) -> dict[str, np.ndarray]:
    """The reverse sweep of compare.cotangent, on arrays: the same edges, in the same order."""
    n = len(graph)
    out = graph.output
    grad: list = [None] * n
    if out >= 0 and dep[out]:
        grad[out] = 1.0
    op, ga, gb = graph.op, graph.a, graph.b
    for u in range(out, -1, -1):
        g = grad[u]
        if g is None or op[u] <= CONST:
            continue
        partials = _PARTIALS[op[u]]
        x, y = ga[u], gb[u]
        av, bv, o = values[x], values[y] if y >= 0 else None, values[u]
        for pos, child in ((0, x), (1, y)):
            if child < 0 or not dep[child]:
                continue
            d = partials[pos](np, av, bv, o)
            if isinstance(d, float):
                c = g if d == 1.0 else -g if d == -1.0 else g * d
            else:
                c = g * d
            prev = grad[child]
            grad[child] = c if prev is None else prev + c
        grad[u] = None              # an operation's gradient is spent once passed down
    result = {}
    for name, i in graph.variables.items():
        g = grad[i]
        result[name] = np.broadcast_to(np.asarray(0.0 if g is None else g, dtype=float),
                                       (size,))
    return result


def grid(graph: Graph, x: str, xs: np.ndarray, y: str, ys: np.ndarray,
         fixed: Optional[Mapping[str, float]] = None) -> np.ndarray:
    """Values on the grid xs × ys (rows follow ys, as matplotlib's contour wants), NaN where
    the function has no value; every other variable at its `fixed` value."""
    gx, gy = np.meshgrid(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    columns: dict[str, Any] = dict(fixed or {})
    columns[x], columns[y] = gx.ravel(), gy.ravel()
    batch = evaluate(graph, {v: columns[v] for v in graph.variables})
    return batch.value.reshape(gx.shape)


__all__ = ["Batch", "CHUNK", "STATUSES", "evaluate", "grid"]
