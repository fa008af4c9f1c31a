"""A computational graph as a Mermaid flowchart, annotated like the circuits in the CS231n notes.

Each drawn node shows its step name and operation (``f1 = x + y``), and when given, its value
after the forward pass and its gradient ∂f/∂node after the backward pass.  Inputs flow left to
right into the output.  Every piece of case text goes through `escape.mermaid_label`; the only
markup added here is the line break between a label's lines.  The output is deterministic: nodes
and edges are written in tape (topological) order.

Beyond `max_nodes` live nodes the diagram keeps the nodes nearest to the output (and the
variables) and collapses everything else into one box that says how many nodes it stands for.

Node names are shared with the handouts (`node_names`): step names from the case (f1, f2, ...);
for a case written as one expression the operation nodes are named f1, f2, ... in topological
order, as the lecture names them; unnamed helpers inside a named step are named after their
step (f1.1, f1.2, ...).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Callable, Mapping, Optional, Sequence

from .escape import mermaid_label
from .fmt import format_number
from .graph import Graph, constant_text
from .primitives import OPS

if TYPE_CHECKING:  # pragma: no cover
    from .engine import CaseRun

MAX_NODES = 40
MAX_DEPTH_LR = 8
BLANK = "____"
BREAK = "<br/>"
TEXT_COLOR = "#1f2328"
# A Mermaid comment line saying what the diagram shows, for renderers that draw the graph
# themselves (compare.html draws it as SVG from the case's trace): "values", "grads", "blank".
MARKER = "%% gradcompare:"


def marker(values: bool, grads: bool, blank: bool) -> str:
    """The comment line `mermaid` writes after its first line (see `read_marker`)."""
    words = [w for w, on in (("values", values), ("grads", grads), ("blank", blank)) if on]
    return " ".join([MARKER, *words])


def read_marker(text: str) -> Optional[frozenset[str]]:
    """What a diagram written by `mermaid` shows, from its marker line; None without one."""
    for line in text.splitlines()[:3]:
        line = line.strip()
        if line.startswith(MARKER):
            return frozenset(line[len(MARKER):].split())
    return None


def node_names(graph: Graph, live: Optional[Sequence[bool]] = None) -> dict[int, str]:
    """A display name for every live node (see the module docstring for the rule).

    Linear in the graph: an unlabelled node's owner (the next labelled node) is found by
    bisection in the sorted list of labelled nodes.
    """
    if live is None:
        live = graph.live()
    names: dict[int, str] = {}
    labelled = sorted(i for i in graph.labels if live[i])
    taken = set(graph.labels.values()) | set(graph.variables)
    counter = 0
    owner_count: dict[str, int] = {}
    for i in range(len(graph)):
        if not live[i]:
            continue
        if i in graph.var_name:
            names[i] = graph.var_name[i]
        elif i in graph.exact:
            names[i] = constant_text(graph.exact[i])
        elif i in graph.labels:
            names[i] = graph.labels[i]
        elif not labelled:
            counter += 1
            while f"f{counter}" in taken:
                counter += 1
            names[i] = f"f{counter}"
        else:
            k_owner = bisect.bisect_right(labelled, i)
            owner = labelled[k_owner] if k_owner < len(labelled) else None
            if owner is None:
                names[i] = f"n{i}"
                continue
            base = graph.labels[owner]
            k = owner_count.get(base, 0) + 1
            while f"{base}.{k}" in taken:
                k += 1
            owner_count[base] = k
            names[i] = f"{base}.{k}"
            taken.add(names[i])
    return names


def operation_text(graph: Graph, i: int, names: Mapping[int, str]) -> str:
    """The node's operation written with its arguments' names: `x + y`, `exp(f3)`, `−f2`."""
    prim = OPS[graph.op[i]]
    if prim is None:
        return names[i]
    return prim.draw([names[c] for c in graph.args(i)])   # as the table draws it


def _number(x: Optional[float], blank: bool,
            number: Callable[[Optional[float]], str] = format_number) -> str:
    return BLANK if blank else number(x)


def mermaid(graph: Graph, values: Optional[Sequence[float]] = None,
            grads: Optional[Mapping[int, float]] = None, *,
            names: Optional[Mapping[int, str]] = None, value_word: str = "value",
            hidden_word: str = "more nodes", blank: bool = False, max_nodes: int = MAX_NODES,
            direction: str = "auto",
            number: Callable[[Optional[float]], str] = format_number) -> str:
    """The Mermaid flowchart text (the content of a ```mermaid fence) of `graph`.

    `values[i]` is node i's value after the forward pass and `grads[i]` its gradient ∂f/∂node
    (nodes missing from `grads` do not depend on the differentiated variables and show none).
    `value_word` and `hidden_word` are the few words the diagram needs, so a
    caller can pass them in its language.  With `blank=True` values and gradients are blanks to
    fill in (an exercise).  `number` writes the numbers (a handout passes its language's).
    Beyond `max_nodes` live nodes the graph is collapsed.
    `direction` "auto" draws left to right, or top down when the graph is deeper than
    `MAX_DEPTH_LR` levels (a long chain drawn sideways would shrink to unreadable).
    """
    names = dict(names) if names is not None else node_names(graph)
    live = graph.live()
    order = [i for i in range(len(graph)) if live[i]]
    out = graph.output
    shown = set(order)
    hidden: list[int] = []
    dropped: set[int] = set()
    if len(order) > max_nodes:
        # Constants are already written in their parents' labels (`4 · l0`): not drawn.
        dropped = {i for i in order if i in graph.exact and i != out}
        variables = [i for i in order if i in graph.var_name]
        keep_vars = variables[: max_nodes // 4]
        budget = max(max_nodes - 1 - len(keep_vars), 1)
        near = [i for i in reversed(order) if not graph.is_leaf(i)][:budget]
        shown = set(near) | set(keep_vars) | {out}
        hidden = [i for i in order if i not in shown and i not in dropped]

    if direction == "auto":
        depth = [0] * len(graph)
        for i in order:
            if i in shown:
                depth[i] = max((depth[c] + 1 for c in graph.args(i)), default=0)
        direction = "LR" if max(depth, default=0) <= MAX_DEPTH_LR else "TD"
    lines = [f"flowchart {direction}", "  " + marker(values is not None, grads is not None,
                                                      blank)]
    for i in order:
        if i not in shown:
            continue
        label = _label(graph, i, names, values, grads, blank, value_word, number)
        lines.append(f"  n{i}{_shape(graph, i, label)}")
    if hidden:
        first, last = names[hidden[0]], names[hidden[-1]]
        text = mermaid_label(f"{len(hidden)} {hidden_word}") + BREAK + mermaid_label(
            f"{first} … {last}")
        lines.append(f'  hidden{{{{"{text}"}}}}')
    edges: list[str] = []
    seen: set[tuple[str, str]] = set()
    for parent in order:
        for child in graph.args(parent):
            if child in dropped:
                continue
            src = f"n{child}" if child in shown else "hidden"
            dst = f"n{parent}" if parent in shown else "hidden"
            if src == dst == "hidden" or (src, dst) in seen:
                continue
            seen.add((src, dst))
            edges.append(f"  {src} --> {dst}")
    lines += edges
    variables = [f"n{i}" for i in order if i in graph.var_name and i in shown]
    constants = [f"n{i}" for i in order if i in graph.exact and i in shown]
    ops = [f"n{i}" for i in order if i in shown and not graph.is_leaf(i) and i != out]
    if hidden:
        ops.append("hidden")
    # Every class sets its text colour: light boxes keep dark text under GitHub's dark theme.
    lines.append(f"  classDef op fill:#ffffff,stroke:#57606a,color:{TEXT_COLOR}")
    lines.append(f"  classDef input fill:#e8f1ff,stroke:#3a6fb0,color:{TEXT_COLOR}")
    lines.append(f"  classDef constant fill:#f4f4f4,stroke:#999999,color:{TEXT_COLOR}")
    lines.append(f"  classDef output fill:#fff1e0,stroke:#c0701a,stroke-width:2px,"
                 f"color:{TEXT_COLOR}")
    if ops:
        lines.append(f"  class {','.join(ops)} op")
    if variables:
        lines.append(f"  class {','.join(variables)} input")
    if constants:
        lines.append(f"  class {','.join(constants)} constant")
    lines.append(f"  class n{out} output")
    return "\n".join(lines) + "\n"


def _shape(graph: Graph, i: int, label: str) -> str:
    if i in graph.var_name:
        return f'(["{label}"])'
    if i in graph.exact:
        return f'(("{label}"))' if len(label) <= 6 else f'["{label}"]'
    return f'["{label}"]'


def _label(graph: Graph, i: int, names: Mapping[int, str], values: Optional[Sequence[float]],
           grads: Optional[Mapping[int, float]], blank: bool, value_word: str,
           number: Callable[[Optional[float]], str] = format_number) -> str:
    name = names[i]
    if graph.is_leaf(i):
        parts = [name]
        if i in graph.var_name and values is not None:
            parts = [f"{name} = {number(values[i])}"]
    else:
        parts = [f"{name} = {operation_text(graph, i, names)}"]
        if values is not None:
            parts.append(f"{value_word} {_number(values[i], blank, number)}")
    if i == graph.output and name != "f":
        parts[0] = f"f = {parts[0]}"   # the lecture: f2 "is our f"
    if grads is not None and i in grads:
        parts.append(f"∂f/∂{name} = {_number(grads[i], blank and i != graph.output, number)}")
    if i in graph.exact:
        return mermaid_label(parts[0])
    return BREAK.join(mermaid_label(p) for p in parts)


def mermaid_block(graph: Graph, values: Optional[Sequence[float]] = None,
                  grads: Optional[Mapping[int, float]] = None, **options: object) -> str:
    """The same diagram as a fenced Markdown block, ready to paste into a page."""
    return "```mermaid\n" + mermaid(graph, values, grads, **options) + "```"


def for_case_run(cr: "CaseRun") -> str:
    """The case's graph with values and gradients, as a fenced block: drawn from the trace
    the engine recorded (`run_case(..., record=True)`), the same one the handouts tabulate."""
    trace = cr.trace
    values = trace.values if trace is not None else None
    grads = trace.grads if trace is not None else None
    return mermaid_block(cr.case.graph, values, grads)


__all__ = ["BLANK", "MARKER", "MAX_NODES", "for_case_run", "marker", "mermaid", "mermaid_block",
           "node_names", "operation_text", "read_marker"]
