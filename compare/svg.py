"""The computational graph as an SVG circuit, drawn the way CS231n's notes draw theirs.

Each operation is a box (its step name, and its operation written with its arguments' names,
`1 / f5`, so argument order is visible); each wire carries the value of the node it leaves
(green, above the wire) and that node's gradient ∂f/∂node (red, below it); where a wire enters
an operation it carries the local derivative ∂operation/∂argument (blue, on the wire).  A node
used twice shows its gradient as the sum of what each use sends back (`2 + 3 = 5`): gradients
add where paths meet.  Constants are not drawn as boxes: they are written into the operation
that uses them (`1 + f4`).  The output's wire ends in the seed 1.

Left to right when that fits `MAX_WIDTH` (an A4 page's text width at full size), else top
down (values left of the wire, gradients right).  Text is `FONT_PX` = 12 CSS px = 9 pt printed
and the drawing is meant to be shown at its own size (its width/height are CSS pixels).

Layout is a small layered (Sugiyama-style) drawing: ranks by longest path, a dummy slot in
every rank a long wire crosses, barycentre ordering and placement in a fixed number of sweeps.
Each step is linear in nodes + edges + dummies per sweep; graphs above `MAX_NODES` drawn nodes
are not drawn (None), so dummies stay bounded.  No recursion; output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Callable, Mapping, Optional, Sequence

from .cotangent import BackRow
from .diagram import BLANK, node_names, operation_text
from .fmt import format_number
from .graph import Graph

FONT_PX = 12              # 12 CSS px = 9 pt when printed at 100 %
LINE_H = 16
PAD = 8
MAX_WIDTH = 680           # CSS px: A4 (210 mm) less 2 × 14 mm margins is 182 mm ≈ 688 px
MAX_NODES = 40
SWEEPS = 4
STEM_REACH = 24           # px from a wire to the far edge of the labels above or below it
STAGGER = 6               # px between the bends of wires entering the same rank
FONT = '"Noto Sans", "DejaVu Sans", "Liberation Sans", "Segoe UI", Arial, sans-serif'
COLOR = {"value": "#116329", "grad": "#b3261e", "local": "#0a4fa3", "wire": "#57606a",
         "text": "#1f2328", "box": "#1f2328", "op": "#ffffff", "input": "#e4effc",
         "output": "#fff1e0"}


BLANK_W, BLANK_H = 52, 20  # a blank to write in by hand: a box, not a few underscores


def text_width(text: str, px: float = FONT_PX) -> float:
    """A generous estimate of the drawn width (DejaVu Sans is wide: digits are 0.64 em)."""
    if text == BLANK:
        return float(BLANK_W)
    return sum(0.64 if ch.isascii() else 0.72 for ch in text) * px


def number(x: Optional[float]) -> str:
    """A number as the drawing writes it: with a true minus sign."""
    return format_number(x).replace("-", "−")


@dataclass
class _Item:
    """A box (a graph node) or a dummy slot (a long wire crossing a rank)."""

    node: Optional[int]
    rank: int
    lines: list[str] = field(default_factory=list)
    ports: list[tuple[int, int]] = field(default_factory=list)    # (child item, position)
    main: float = 0.0          # extent along the flow
    cross: float = 0.0         # extent across it
    v: float = 0.0             # centre across the flow
    order: float = 0.0


@dataclass
class _Wire:
    child: int                 # graph node
    parent: int
    pos: int
    items: list[int]           # item ids from child to parent (dummies between)


class _Layout:
    def __init__(self, graph: Graph, names: Mapping[int, str], labels: "_Labels",
                 direction: str) -> None:
        self.graph, self.names, self.labels, self.lr = graph, names, labels, direction == "LR"
        live = graph.live()
        out = graph.output
        drawn = [i for i in range(len(graph))
                 if live[i] and (i not in graph.exact or i == out)]
        self.drawn = drawn
        self.items: list[_Item] = []
        self.item_of: dict[int, int] = {}
        rank: dict[int, int] = {}
        for i in drawn:                       # tape order is topological
            if graph.is_leaf(i):
                rank[i] = 0
            else:
                rank[i] = 1 + max((rank[c] for c in graph.args(i) if c in rank), default=0)
        parents: dict[int, list[int]] = {}
        for i in drawn:
            for c in graph.args(i):
                if c in rank:
                    parents.setdefault(c, []).append(i)
        for i in drawn:                       # an input sits just before its first use
            if graph.is_leaf(i) and i in parents:
                rank[i] = max(min(rank[p] for p in parents[i]) - 1, 0)
        for i in drawn:
            self.item_of[i] = len(self.items)
            self.items.append(_Item(i, rank[i], self._lines(i)))
        self.wires: list[_Wire] = []
        self.wire_at: dict[tuple[int, int, int], _Wire] = {}   # (item, child item, position)
        for p in drawn:
            for pos, c in enumerate(graph.args(p)):
                if c not in rank:
                    continue
                chain = [self.item_of[c]]
                for r in range(rank[c] + 1, rank[p]):
                    chain.append(len(self.items))
                    self.items.append(_Item(None, r))
                chain.append(self.item_of[p])
                self.items[self.item_of[p]].ports.append((chain[-2], pos))
                self.wires.append(_Wire(c, p, pos, chain))
                self.wire_at[(chain[-1], chain[-2], pos)] = self.wires[-1]
        self.ranks = max(it.rank for it in self.items) + 1
        self._measure()
        self._order()
        self._place_ranks()
        self._place_across()

    # -- sizes -------------------------------------------------------------------------------
    def _lines(self, i: int) -> list[str]:
        g, name = self.graph, self.names[i]
        if g.is_leaf(i):
            return [name]
        return [name, operation_text(g, i, self.names)]

    def _measure(self) -> None:
        lab = self.labels
        for k, it in enumerate(self.items):
            if it.node is None:
                it.main, it.cross = 0.0, 2.0 * PAD
                continue
            w = max(text_width(s) for s in it.lines) + 2 * PAD
            h = len(it.lines) * LINE_H + PAD
            n = len(it.ports)
            if self.lr:
                it.main, it.cross = w, max(h, n * (LINE_H + 6))
            else:
                widest = max((text_width(lab.local(self.wire_into(k, j)))
                              for j in range(n)), default=0.0)
                it.main, it.cross = h, max(w, n * (widest + 10))

    def wire_into(self, item: int, port: int) -> _Wire:
        child_item, pos = self.items[item].ports[port]
        return self.wire_at[(item, child_item, pos)]

    # -- ordering within ranks (barycentres) -------------------------------------------------
    def _layers(self) -> list[list[int]]:
        layers: list[list[int]] = [[] for _ in range(self.ranks)]
        for k, it in enumerate(self.items):
            layers[it.rank].append(k)
        return layers

    def _segments(self) -> list[tuple[int, int, int]]:
        """(from item, to item, port index at `to` or -1 for a dummy) for every wire piece."""
        segs = []
        for w in self.wires:
            for a, b in zip(w.items, w.items[1:]):
                port = -1
                if self.items[b].node is not None:
                    port = self.items[b].ports.index((a, w.pos))
                segs.append((a, b, port))
        return segs

    def _order(self) -> None:
        layers = self._layers()
        for layer in layers:
            for j, k in enumerate(layer):
                self.items[k].order = float(j)
        segs = self._segments()
        preds: dict[int, list[int]] = {}
        succs: dict[int, list[int]] = {}
        for a, b, _ in segs:
            preds.setdefault(b, []).append(a)
            succs.setdefault(a, []).append(b)
        for sweep in range(SWEEPS):
            forward = sweep % 2 == 0
            rng = range(1, self.ranks) if forward else range(self.ranks - 2, -1, -1)
            for r in rng:
                nbr = preds if forward else succs
                key = {}
                for k in layers[r]:
                    ns = nbr.get(k, [])
                    key[k] = (sum(self.items[n].order for n in ns) / len(ns) if ns
                              else self.items[k].order)
                layers[r].sort(key=lambda k: (key[k], self.items[k].order))
                for j, k in enumerate(layers[r]):
                    self.items[k].order = float(j)
        self.layers = layers
        for it in self.items:                      # ports top to bottom by the child's order
            it.ports.sort(key=lambda p: (self.items[p[0]].order, p[1]))
        self.segs = self._segments()

    # -- coordinates ---------------------------------------------------------------------------
    def port_offset(self, item: int, port: int) -> float:
        it = self.items[item]
        if port < 0 or len(it.ports) < 2:
            return 0.0
        step = it.cross / len(it.ports)
        return -it.cross / 2 + step * (port + 0.5)

    def _place_ranks(self) -> None:
        lab = self.labels
        self.rank_start: list[float] = []
        self.local_len: list[float] = [0.0] * self.ranks
        self.entering: list[int] = [0] * self.ranks
        for a, b, _ in self.segs:
            self.entering[self.items[b].rank] += 1
        for w in self.wires:
            r = self.items[self.item_of[w.parent]].rank
            tall = BLANK_H if lab.local(w) == BLANK else LINE_H
            need = max(text_width(lab.local(w)) + 20, 40) if self.lr else tall + 10
            self.local_len[r] = max(self.local_len[r], need)
        stem = [0.0] * self.ranks
        for i in self.drawn:
            it = self.items[self.item_of[i]]
            if self.lr:
                need = max(text_width(lab.value(i)), text_width(lab.grad(i)), 28) + 16
            else:
                need = LINE_H + 8
            stem[it.rank] = max(stem[it.rank], need)
        u = self._margin_main()
        self.rank_main = [0.0] * self.ranks
        for it in self.items:
            self.rank_main[it.rank] = max(self.rank_main[it.rank], it.main)
        for r in range(self.ranks):
            if r:
                u += stem[r - 1] + self.local_len[r] + STAGGER * max(self.entering[r] - 1, 0)
            self.rank_start.append(u)
            u += self.rank_main[r]
        out_rank = self.items[self.item_of[self.graph.output]].rank
        self.out_stem = stem[out_rank] + 24
        u += LINE_H if not self.lr else 0
        self.main_size = u + self.out_stem + self._margin_main() + (12 if self.lr else 0)

    def _margin_main(self) -> float:
        return 10.0 if self.lr else LINE_H + 6

    def _gap(self, a: int, b: int) -> float:
        """Room between neighbours a (first) and b across the flow."""
        lab, ia, ib = self.labels, self.items[a], self.items[b]
        if self.lr:     # a stem's labels reach STEM_REACH above and below its wire
            return (10.0 + max(STEM_REACH - ia.cross / 2, 0.0)
                    + max(STEM_REACH - ib.cross / 2, 0.0))
        right = left = 0.0
        if ia.node is not None:
            right = max(text_width(lab.grad(ia.node)) + 6 - ia.cross / 2, 0.0)
        if ib.node is not None:
            left = max(text_width(lab.value(ib.node)) + 6 - ib.cross / 2, 0.0)
        return 14.0 + right + left

    def _resolve(self, layer: list[int], desired: dict[int, float]) -> None:
        prev: Optional[int] = None
        placed = {}
        for k in layer:
            it = self.items[k]
            v = desired[k]
            if prev is not None:
                p = self.items[prev]
                v = max(v, placed[prev] + p.cross / 2 + self._gap(prev, k) + it.cross / 2)
            placed[k] = v
            prev = k
        shift = sum(desired[k] - placed[k] for k in layer) / len(layer) if layer else 0.0
        if layer:   # never undo the separation: shift the whole layer
            for k in layer:
                self.items[k].v = placed[k] + shift

    def _place_across(self) -> None:
        for layer in self.layers:
            self._resolve(layer, {k: 0.0 for k in layer})
        preds: dict[int, list[tuple[int, int]]] = {}
        succs: dict[int, list[tuple[int, int]]] = {}
        for a, b, port in self.segs:
            preds.setdefault(b, []).append((a, port))
            succs.setdefault(a, []).append((b, port))
        for sweep in range(SWEEPS):
            forward = sweep % 2 == 0
            rng = range(1, self.ranks) if forward else range(self.ranks - 2, -1, -1)
            for r in rng:
                desired = {}
                for k in self.layers[r]:
                    if forward:
                        ns = [self.items[a].v - self.port_offset(k, p)
                              for a, p in preds.get(k, [])]
                    else:
                        ns = [self.items[b].v + self.port_offset(b, p)
                              for b, p in succs.get(k, [])]
                    desired[k] = sum(ns) / len(ns) if ns else self.items[k].v
                self._resolve(self.layers[r], desired)
        low = min(it.v - it.cross / 2 for it in self.items)
        high = max(it.v + it.cross / 2 for it in self.items)
        if self.lr:
            margin = LINE_H + 6
        else:
            margin = max([text_width(self.labels.value(i)) for i in self.drawn]
                         + [text_width(self.labels.grad(i)) for i in self.drawn]) + 10
        for it in self.items:
            it.v += margin - low
        self.cross_size = high - low + 2 * margin

    # -- drawing -----------------------------------------------------------------------------
    def xy(self, u: float, v: float) -> tuple[float, float]:
        return (u, v) if self.lr else (v, u)

    def near(self, k: int) -> float:
        return self.rank_start[self.items[k].rank]

    def far(self, k: int) -> float:
        it = self.items[k]
        return self.rank_start[it.rank] + (it.main if it.node is not None
                                           else self.rank_main[it.rank])

    def svg(self) -> str:
        lab, out = self.labels, self.graph.output
        width, height = self.xy(self.main_size, self.cross_size)
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="circuit" '
                 f'width="{width:.0f}" height="{height:.0f}" '
                 f'viewBox="0 0 {width:.0f} {height:.0f}" font-family=\'{FONT}\' '
                 f'font-size="{FONT_PX}" role="img" data-direction="{"LR" if self.lr else "TD"}">']
        wires, texts = [], []
        # the bends of the wires entering a rank are staggered so they never overlap
        bend_index: dict[int, int] = {}
        slots: dict[tuple[int, int, int], int] = {}
        for a, b, port in sorted(self.segs, key=lambda s: (self.items[s[1]].rank,
                                                           self.items[s[1]].v
                                                           + self.port_offset(s[1], s[2]))):
            r = self.items[b].rank
            slots[(a, b, port)] = bend_index.get(r, 0)
            bend_index[r] = bend_index.get(r, 0) + 1
        for w in self.wires:
            pts = [(self.far(w.items[0]), self.items[w.items[0]].v)]
            for a, b in zip(w.items, w.items[1:]):
                port = -1 if self.items[b].node is None else self.items[b].ports.index(
                    (a, w.pos))
                r = self.items[b].rank
                bend = (self.rank_start[r] - self.local_len[r]
                        - STAGGER * slots[(a, b, port)])
                v_in = self.items[b].v + self.port_offset(b, port)
                pts += [(bend, pts[-1][1]), (bend, v_in)]
                if self.items[b].node is not None:
                    pts.append((self.near(b), v_in))
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (self.xy(u, v) for u, v in pts))
            wires.append(f'<polyline points="{path}" fill="none" stroke="{COLOR["wire"]}" '
                         f'stroke-width="1.4"/>')
            wires.append(self._arrow(*pts[-1]))
            u_mid = self.near(w.items[-1]) - self.local_len[self.items[w.items[-1]].rank] / 2
            texts.append(self._on_wire(lab.local(w), u_mid, pts[-1][1], COLOR["local"]))
        for i in self.drawn:
            k = self.item_of[i]
            it = self.items[k]
            if any(w.child == i for w in self.wires) or i == out:
                texts += self._stem(i, self.far(k), it.v)
        it = self.items[self.item_of[out]]
        end = self.far(self.item_of[out]) + self.out_stem
        wires.append(f'<line x1="{self.xy(self.far(self.item_of[out]), it.v)[0]:.1f}" '
                     f'y1="{self.xy(self.far(self.item_of[out]), it.v)[1]:.1f}" '
                     f'x2="{self.xy(end, it.v)[0]:.1f}" y2="{self.xy(end, it.v)[1]:.1f}" '
                     f'stroke="{COLOR["wire"]}" stroke-width="1.4"/>')
        wires.append(self._arrow(end, it.v))
        if self.names[out] != "f":       # the lecture: the last step "is our f"
            x, y = self.xy(end + 4, it.v)
            if self.lr:
                texts.append(_text(x, y + FONT_PX / 2 - 2, "f", COLOR["text"], "start"))
            else:
                texts.append(_text(x, y + FONT_PX, "f", COLOR["text"], "middle"))
        boxes = [self._box(self.item_of[i]) for i in self.drawn]
        parts += wires + boxes + texts + ["</svg>"]
        return "\n".join(parts)

    def _arrow(self, u: float, v: float) -> str:
        pts = [(u, v), (u - 7, v - 4), (u - 7, v + 4)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (self.xy(a, b) for a, b in pts))
        return f'<polygon points="{path}" fill="{COLOR["wire"]}"/>'

    def _stem(self, i: int, u: float, v: float) -> list[str]:
        out = []
        value, grad = self.labels.value(i), self.labels.grad(i)
        if self.lr:
            if value == BLANK:
                out.append(_blank(u + 5 + BLANK_W / 2, v - BLANK_H / 2 - 3, COLOR["value"]))
            elif value:
                out.append(_text(u + 5, v - 5, value, COLOR["value"], "start"))
            if grad == BLANK:
                out.append(_blank(u + 5 + BLANK_W / 2, v + BLANK_H / 2 + 3, COLOR["grad"]))
            elif grad:
                out.append(_text(u + 5, v + 5 + FONT_PX, grad, COLOR["grad"], "start"))
        else:
            base = u + LINE_H
            if value:
                out.append(_text(v - 5, base, value, COLOR["value"], "end"))
            if grad:
                out.append(_text(v + 5, base, grad, COLOR["grad"], "start"))
        return out

    def _on_wire(self, text: str, u: float, v: float, color: str) -> str:
        if not text:
            return ""
        x, y = self.xy(u, v)
        if text == BLANK:
            return _blank(x, y, color)
        return (f'<text x="{x:.1f}" y="{y + FONT_PX / 2 - 2:.1f}" text-anchor="middle" '
                f'fill="{color}" stroke="#ffffff" stroke-width="4" paint-order="stroke" '
                f'font-style="italic">{escape(text)}</text>')

    def _box(self, k: int) -> str:
        it, g = self.items[k], self.graph
        i = it.node
        assert i is not None
        fill = (COLOR["output"] if i == g.output else COLOR["input"] if g.is_leaf(i)
                else COLOR["op"])
        w, h = (it.main, it.cross) if self.lr else (it.cross, it.main)
        x0, y0 = self.xy(self.near(k), it.v - it.cross / 2)
        rx = h / 2 if g.is_leaf(i) else 6
        out = [f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx:.1f}" '
               f'fill="{fill}" stroke="{COLOR["box"]}" stroke-width="1.2"/>']
        top = y0 + h / 2 - len(it.lines) * LINE_H / 2 + FONT_PX - 1
        for j, line in enumerate(it.lines):
            weight = ' font-weight="bold"' if j == 0 else ""
            out.append(f'<text x="{x0 + w / 2:.1f}" y="{top + j * LINE_H:.1f}" '
                       f'text-anchor="middle" fill="{COLOR["text"]}"{weight}>'
                       f'{escape(line)}</text>')
        return "\n".join(out)


def _blank(x: float, y: float, color: str) -> str:
    """An empty box centred on (x, y), drawn in the colour of what goes in it."""
    return (f'<rect data-blank="1" x="{x - BLANK_W / 2:.1f}" y="{y - BLANK_H / 2:.1f}" '
            f'width="{BLANK_W}" height="{BLANK_H}" rx="3" fill="#ffffff" stroke="{color}" '
            f'stroke-dasharray="3 2"/>')


def _text(x: float, y: float, text: str, color: str, anchor: str) -> str:
    if text == BLANK:
        shift = {"start": BLANK_W / 2, "end": -BLANK_W / 2}.get(anchor, 0.0)
        return _blank(x + shift, y - FONT_PX / 2 + 2, color)
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{color}">'
            f'{escape(text)}</text>')


class _Labels:
    """The numbers the drawing writes, or blanks in an exercise."""

    def __init__(self, graph: Graph, values: Optional[Sequence[float]],
                 grads: Optional[Mapping[int, float]], rows: Optional[Sequence[BackRow]],
                 blank: bool, write: Callable[[Optional[float]], str]) -> None:
        self.graph, self.values, self.grads, self.blank = graph, values, grads, blank
        self.write = write
        self.rows = {(r.parent, r.pos): r for r in rows or ()}
        self.into: dict[int, list[BackRow]] = {}
        for r in rows or ():
            self.into.setdefault(r.child, []).append(r)

    def value(self, i: int) -> str:
        if self.values is None:
            return ""
        given = i in self.graph.var_name or i in self.graph.exact
        return BLANK if self.blank and not given else self.write(self.values[i])

    def grad(self, i: int) -> str:
        if self.grads is None or i not in self.grads:
            return ""
        if i == self.graph.output:
            return self.write(self.grads[i])            # the seed 1
        if self.blank:
            return BLANK
        parts = self.into.get(i, [])
        if len(parts) > 1:                           # gradients add where paths meet
            terms = [self.write(r.product) for r in parts]
            terms[1:] = [f"({t})" if t.startswith("−") else t for t in terms[1:]]
            return " + ".join(terms) + f" = {self.write(self.grads[i])}"
        return self.write(self.grads[i])

    def local(self, w: _Wire) -> str:
        if self.grads is None:
            return ""
        row = self.rows.get((w.parent, w.pos))
        if row is None:
            return ""
        return BLANK if self.blank else self.write(row.local)


def circuit(graph: Graph, values: Optional[Sequence[float]] = None,
            grads: Optional[Mapping[int, float]] = None,
            rows: Optional[Sequence[BackRow]] = None, *,
            names: Optional[Mapping[int, str]] = None, blank: bool = False,
            direction: str = "auto", max_nodes: int = MAX_NODES,
            write: Callable[[Optional[float]], str] = number) -> Optional[str]:
    """The SVG text of `graph` as a circuit, or None above `max_nodes` drawn nodes.

    `values[i]` and `grads[i]` are node i's value and ∂f/∂node (the engine's Trace); `rows`
    are the reverse sweep's edges (BackRow), whose `local` is written on each wire.  Without
    `grads` only values are drawn; with `blank` every number but the inputs and the seed is a
    blank to fill in.  `direction` is "LR", "TD" or "auto" (LR when it fits MAX_WIDTH).
    `write` writes a number (a page passes its language's way: 0,5 in Vietnamese).
    """
    live = graph.live()
    if names is None:
        names = node_names(graph, live)
    count = sum(1 for i in range(len(graph)) if live[i] and i not in graph.exact)
    if count > max_nodes:
        return None
    labels = _Labels(graph, values, grads, rows, blank, write)
    if direction == "auto":
        lr = _Layout(graph, names, labels, "LR")
        if lr.main_size <= MAX_WIDTH:
            return lr.svg()
        td = _Layout(graph, names, labels, "TD")
        return (td if td.cross_size < lr.main_size else lr).svg()
    return _Layout(graph, names, labels, direction).svg()


__all__ = ["FONT_PX", "MAX_WIDTH", "circuit", "number", "text_width"]
