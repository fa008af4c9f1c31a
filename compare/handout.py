"""Lecture handouts: the lecture's steps, generated for any case, in English and Vietnamese.

A handout walks through what the lecture does on the board, with the case's numbers:

1. the computational graph (a Mermaid diagram, annotated with values and gradients);
2. the forward pass, node by node in topological order;
3. the chain rule per variable, the naive way — every path's product written out from 1, the
   local derivatives computed again marked;
4. backpropagation: one row per edge in reverse topological order, from the seed 1;
5. what was saved: both ways' operation counts, and SymPy's symbolic derivative and its size;
6. one gradient-descent step with the learning rate.

Rendering only: the counts, the final gradient and SymPy's answer come from the engine's CaseRun,
and node values, node gradients and the per-edge rows of the backprop table from the Trace the
engine recorded (`run_case(..., record=True)`): the rows are those of the one reverse sweep,
compare.cotangent, that backprop runs (pinned by tests: same gradient, as many rows as its
local-derivative count).  The naive walk enumerates paths in the naive method's own order and
is cut after a few paths per variable; the rest is summarized with compare.counting's exact
per-variable path counts.  The descent section evaluates f at the new point θ − α∇f, the one
value no method has computed.

All text comes from one message catalog per language, compare/locale/<lang>.json.  Output is
deterministic (no dates, no timings): generated handouts are committed.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional, Sequence

from .diagram import BLANK, MAX_NODES, mermaid, node_names, operation_text
from .cotangent import BackRow
from .engine import CaseRun, trace_of
from .errors import GradcompareError
from .escape import md_cell, md_code
from .fmt import format_number
from .formulas import display
from .forward import forward
from .graph import Graph
from .methods.common import local
from .primitives import OPS
from .result import HAS_GRADIENT, OVER_BUDGET, Counts

LANGUAGES = ("en", "vi")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LEARNING_RATE = 0.1
MAX_PATHS = 4          # naive paths written out per variable; the rest are counted
MAX_VARIABLES = 12     # variables whose naive products are written out; the rest in a table
MAX_FACTORS = 12       # longer naive products keep their head and tail
HEAD_FACTORS, TAIL_FACTORS = 5, 4
MAX_ROWS = 60          # longer tables keep their head and tail
HEAD_ROWS, TAIL_ROWS = 40, 15
BLANK_MD = r"\_\_\_\_"   # the blank as Markdown text (underscores would be emphasis)
AGAIN = "⟳"           # marks a local derivative the naive way computes again
PAGE_BREAK = '<div style="page-break-before: always"></div>'


# -- messages --------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """The message table of one language: key -> text with {placeholders}."""
    if lang not in LANGUAGES:
        raise GradcompareError(f"unknown language '{lang}'; known: {', '.join(LANGUAGES)}")
    with open(LOCALE_DIR / f"{lang}.json", encoding="utf-8") as fh:
        return json.load(fh)


class Messages:
    """`msg(key, **values)`: the catalog's text for key, filled in.  A missing key is a bug."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.table = catalog(lang)

    def __call__(self, key: str, **values: object) -> str:
        try:
            text = self.table[key]
        except KeyError:
            raise KeyError(f"message '{key}' missing from locale/{self.lang}.json") from None
        return text.format(**values) if values else text


# -- what the handout shows: the engine's trace -------------------------------------------
def naive_paths(graph: Graph, name: str) -> Iterator[list[tuple[int, int]]]:
    """The paths to `name` in the naive method's order (one walk, shared with it)."""
    return graph.paths_to(name)


# -- small rendering helpers -----------------------------------------------------------------
def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], fold_note: str = "") -> str:
    """A Markdown table of already-escaped cells; beyond MAX_ROWS the middle is folded."""
    rows = list(rows)
    if len(rows) > MAX_ROWS:
        hidden = len(rows) - HEAD_ROWS - TAIL_ROWS
        middle = [fold_note.format(n=hidden)] + [""] * (len(headers) - 1)
        rows = rows[:HEAD_ROWS] + [middle] + rows[-TAIL_ROWS:]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _folded(items: Sequence) -> Iterator:
    """The items a long table shows (head and tail), with None where the fold row goes:
    cells are then built for the shown rows only, not for a hundred thousand hidden ones."""
    if len(items) <= MAX_ROWS:
        yield from items
        return
    yield from items[:HEAD_ROWS]
    yield None
    yield from items[-TAIL_ROWS:]


def _fold_row(fold_note: str, total: int, width: int) -> list[str]:
    return [fold_note.format(n=total - HEAD_ROWS - TAIL_ROWS)] + [""] * (width - 1)


def _factor(x: float) -> str:
    """A number as a factor of a product: negatives in parentheses."""
    text = format_number(x)
    return f"({text})" if text.startswith("-") or "/" in text else text


def _d(top: str, bottom: str) -> str:
    return f"∂{top}/∂{bottom}"


@dataclass
class _Ctx:
    cr: CaseRun
    msg: Messages
    exercise: bool
    names: dict[int, str]
    values: list[float]
    rows: list[BackRow]
    grads: dict[int, float]
    lr: float
    lr_from_case: bool

    def num(self, x: Optional[float], hide: bool = True) -> str:
        """A number, or a blank in an exercise (unless `hide` is False: given data)."""
        return BLANK_MD if (self.exercise and hide) else format_number(x)

    def name(self, i: int) -> str:
        return self.names[i]

    @property
    def graph(self) -> Graph:
        return self.cr.case.graph


# -- the six sections ------------------------------------------------------------------------
def _header(c: _Ctx, title_key: str) -> list[str]:
    case, msg = c.cr.case, c.msg
    lines = [f"# {msg(title_key, title=md_cell(case.title or case.name))}", ""]
    meta = [msg("case_name", name=md_code(case.name))]
    if case.source:
        meta.append(msg("source", source=md_cell(case.source)))
    lines += [" · ".join(meta), ""]
    if case.expression is not None:
        lines += [f"{msg('function')}: f = {md_code(case.expression)}", ""]
    else:
        lines += [f"{msg('steps_given')}:", ""]
        lines += [f"- {md_code(f'{k} = {v}')}" for k, v in case.steps or []]
        lines.append("")
    point = ", ".join(f"{md_cell(k)} = {format_number(v)}" for k, v in case.at.items())
    lines += [msg("point", point=point, wrt=", ".join(md_cell(v) for v in case.wrt)), ""]
    if c.exercise:
        lines += [msg("exercise_intro", blank=md_code(BLANK)), ""]
    return lines


def _section_graph(c: _Ctx) -> list[str]:
    msg, graph = c.msg, c.graph
    lines = [f"## {msg('s1_heading')}", "", msg("s1_intro"), ""]
    ops = [i for i in range(len(graph)) if i in c.names and not graph.is_leaf(i)]
    if ops:
        defs = [f"{c.name(i)} = {operation_text(graph, i, c.names)}" for i in ops]
        out = graph.output
        tail = f"; f = {c.name(out)}" if c.name(out) != "f" else ""
        lines += [msg("s1_nodes", nodes=md_cell("; ".join(defs) + tail, limit=4000)), ""]
    lines += ["```mermaid",
              mermaid(graph, c.values, c.grads, names=c.names, value_word=msg("value_word"),
                      hidden_word=msg("hidden_word"), blank=c.exercise).rstrip("\n"),
              "```", ""]
    live = len(c.names)
    if live > MAX_NODES:
        lines += [msg("s1_collapsed", n=live), ""]
    return lines


def _section_forward(c: _Ctx) -> list[str]:
    msg, graph = c.msg, c.graph
    lines = [f"## {msg('s2_heading')}", "", msg("s2_intro"), ""]
    rows = []
    nodes = [i for i in range(len(graph)) if i in c.names and not graph.is_leaf(i)]
    for i in _folded(nodes):
        if i is None:
            rows.append(_fold_row(msg("fold_rows"), len(nodes), 4))
            continue
        inputs = ", ".join(
            md_cell(c.name(k)) if k in graph.exact and c.name(k) == format_number(c.values[k])
            else f"{md_cell(c.name(k))} = {c.num(c.values[k], hide=not graph.is_leaf(k))}"
            for k in dict.fromkeys(graph.args(i)))
        rows.append([md_cell(c.name(i)), md_cell(operation_text(graph, i, c.names)),
                     inputs, c.num(c.values[i])])
    if rows:
        lines += [_table([msg("col_node"), msg("col_operation"), msg("col_inputs"),
                          msg("col_value")], rows, msg("fold_rows")), ""]
    out = graph.output
    name = c.name(out)
    shown = f"f = {md_cell(name)}" if name != "f" else "f"
    lines += [f"**{msg('s2_output')}: {shown} = {c.num(c.values[out])}**", "",
              msg("s2_ops", n=c.cr.forward_ops), ""]
    return lines


def _section_naive(c: _Ctx) -> list[str]:
    from .counting import path_counts

    msg, graph, case = c.msg, c.graph, c.cr.case
    result = c.cr.results.get("naive")
    lines = [f"## {msg('s3_heading')}", "", msg("s3_intro"), "",
             msg("s3_again_legend", mark=AGAIN), ""]
    if result is not None and result.status == OVER_BUDGET:
        lines += [msg("s3_over_budget", note=md_cell(result.note)), ""]
    seen: set[tuple[int, int]] = set()
    out_name = "f"
    summary_rows = []
    per_variable = path_counts(graph, case.wrt)   # one pass for every variable
    for k, var in enumerate(case.wrt):
        n_paths, length = per_variable[var]
        counts = Counts(length, length, max(n_paths - 1, 0))
        gradient = _gradient_of(c, var)
        if k >= MAX_VARIABLES:
            summary_rows.append([md_cell(var), format_number(n_paths),
                                 format_number(counts.derivatives),
                                 format_number(counts.multiplications),
                                 format_number(counts.additions), c.num(gradient)])
            continue
        lhs = md_cell(_d(out_name, var))
        lines += [f"### {lhs}", ""]
        products = []
        shown = list(itertools.islice(naive_paths(graph, var), MAX_PATHS))
        for path in shown:
            symbols, numbers = ["1"], ["1"]
            product = 1.0
            for parent, pos in path:
                child = graph.args(parent)[pos]
                factor = md_cell(_d(c.name(parent), c.name(child)))
                d = local(graph, c.values, parent, pos)
                product *= d
                value = BLANK_MD if c.exercise else _factor(d)
                if (parent, pos) in seen:
                    factor, value = f"**{factor} {AGAIN}**", f"**{value} {AGAIN}**"
                seen.add((parent, pos))
                symbols.append(factor)
                numbers.append(value)
            products.append(product)
            symbols, numbers = _shorten(symbols, msg), _shorten(numbers, msg)
            line = " × ".join(symbols) + " = " + " × ".join(numbers) + " = " + c.num(product)
            if n_paths == 1:
                lines += [f"{lhs} = {line}", ""]
            else:
                lines += [f"- {msg('path_word')} {len(products)}: {line}"]
        if not shown and graph.output == graph.variables.get(var):
            lines += [f"{lhs} = 1", ""]
        elif not shown:
            lines += [msg("s3_no_path", var=md_cell(var)), ""]
        elif n_paths > 1:
            if n_paths > len(shown):
                lines += [f"- {msg('s3_more_paths', more=format_number(n_paths - len(shown)))}"]
            lines.append("")
            if n_paths == len(shown):
                sum_text = " + ".join(_factor(p) if not c.exercise else BLANK_MD
                                      for p in products)
                lines += [f"{lhs} = {sum_text} = {c.num(gradient)}", ""]
            else:
                lines += [f"{lhs} = {msg('s3_sum_of', n=format_number(n_paths))} = "
                          f"{c.num(gradient)}", ""]
        # Every edge on a path to this variable has now been computed at least once.
        reaches = graph.depends_on([var])
        live = graph.live()
        seen.update((u, pos) for u in range(len(graph)) if live[u]
                    for pos, child in enumerate(graph.args(u)) if reaches[child])
        lines += [msg("s3_var_counts", paths=format_number(n_paths),
                      derivatives=format_number(counts.derivatives),
                      multiplications=format_number(counts.multiplications),
                      additions=format_number(counts.additions)), ""]
    if summary_rows:
        lines += [msg("s3_more_variables", n=len(summary_rows)), "",
                  _table([msg("col_variable"), msg("col_paths"), msg("col_derivatives"),
                          msg("col_multiplications"), msg("col_additions"),
                          msg("col_gradient")], summary_rows, msg("fold_rows")), ""]
    if result is not None and result.counts is not None:
        backprop = c.cr.results.get("backprop")
        again = None
        if backprop is not None and backprop.counts is not None:
            again = result.counts.derivatives - backprop.counts.derivatives
        key = "s3_total_predicted" if result.predicted else "s3_total"
        lines += [msg(key, derivatives=format_number(result.counts.derivatives),
                      multiplications=format_number(result.counts.multiplications),
                      additions=format_number(result.counts.additions),
                      total=format_number(result.counts.total))]
        if again is not None:
            lines[-1] += " " + msg("s3_again_total", again=format_number(again), mark=AGAIN)
        lines.append("")
    return lines


def _shorten(factors: list[str], msg: Messages) -> list[str]:
    """A long product keeps its first and last factors; the middle says how many it skips."""
    if len(factors) <= MAX_FACTORS:
        return factors
    skipped = len(factors) - HEAD_FACTORS - TAIL_FACTORS
    return (factors[:HEAD_FACTORS] + [msg("more_factors", n=skipped)]
            + factors[-TAIL_FACTORS:])


def _gradient_of(c: _Ctx, var: str) -> Optional[float]:
    """The gradient the engine reports: naive's when it ran, else backprop's."""
    for method in ("naive", "backprop"):
        r = c.cr.results.get(method)
        if r is not None and r.status in HAS_GRADIENT and r.gradient.get(var) is not None:
            return r.gradient[var]
    return None


def _section_backprop(c: _Ctx) -> list[str]:
    msg, graph, case = c.msg, c.graph, c.cr.case
    out = graph.output
    lines = [f"## {msg('s4_heading')}", "",
             msg("s4_intro", seed=md_cell(f"{_d('f', c.name(out))} = 1")), ""]
    rows = []
    for item in _folded(list(enumerate(c.rows, 1))):
        if item is None:
            rows.append(_fold_row(msg("fold_rows"), len(c.rows), 7))
            continue
        k, r = item
        parent, child = c.name(r.parent), c.name(r.child)
        prim = OPS[graph.op[r.parent]]
        args = [c.name(a) for a in graph.args(r.parent)]
        formula = display(prim)[r.pos].format(a=args[0], b=args[1] if len(args) > 1 else "",
                                              out=parent)
        upstream = c.num(r.upstream, hide=r.parent != out)
        if r.before is None:
            acc = c.num(r.total)
        elif c.exercise:
            acc = f"{BLANK_MD} + {BLANK_MD} = {BLANK_MD}"
        else:
            acc = f"{format_number(r.before)} + {_factor(r.product)} = {format_number(r.total)}"
        product = (f"{BLANK_MD} × {BLANK_MD} = {BLANK_MD}" if c.exercise else
                   f"{_factor(r.upstream)} × {_factor(r.local)} = {format_number(r.product)}")
        rows.append([str(k), md_cell(f"{parent} → {child}"),
                     md_cell(f"{_d('f', parent)} = ") + upstream,
                     md_cell(f"{_d(parent, child)} = {formula}"), c.num(r.local),
                     product, md_cell(f"{_d('f', child)} = ") + acc])
    if rows:
        lines += [_table([msg("col_step"), msg("col_edge"), msg("col_upstream"),
                          msg("col_local"), msg("col_local_value"), msg("col_product"),
                          msg("col_child_gradient")], rows, msg("fold_rows")), ""]
    backprop = c.cr.results["backprop"]
    grads = ", ".join(md_cell(_d("f", v)) for v in case.wrt)
    values = ", ".join(c.num(backprop.gradient.get(v)) for v in case.wrt)
    lines += [f"**{msg('s4_gradient')}: ∇f = ({grads}) = ({values})**", ""]
    if backprop.counts is not None:
        lines += [msg("s4_counts", derivatives=format_number(backprop.counts.derivatives),
                      multiplications=format_number(backprop.counts.multiplications),
                      additions=format_number(backprop.counts.additions),
                      total=format_number(backprop.counts.total)), ""]
    if c.cr.kink:
        notes = "; ".join(r.note for r in c.cr.results.values() if r.note and r.status ==
                          "nondifferentiable")
        lines += [msg("kink_note", note=md_cell(notes, limit=1000)), ""]
    return lines


def _section_saved(c: _Ctx) -> list[str]:
    msg, cr = c.msg, c.cr
    lines = [f"## {msg('s5_heading')}", ""]
    rows = []
    for method, key in (("naive", "method_naive"), ("backprop", "method_backprop")):
        r = cr.results.get(method)
        if r is None or r.counts is None:
            continue
        mark = f" ({msg('predicted')})" if r.predicted else ""
        rows.append([msg(key) + mark, format_number(r.counts.derivatives),
                     format_number(r.counts.multiplications),
                     format_number(r.counts.additions), f"**{format_number(r.counts.total)}**"])
    rows.append([msg("method_forward"), "—", "—", "—", format_number(cr.forward_ops)])
    lines += [_table([msg("col_method"), msg("col_derivatives"), msg("col_multiplications"),
                      msg("col_additions"), msg("col_total")], rows), ""]
    naive, backprop = cr.results.get("naive"), cr.results.get("backprop")
    if naive and backprop and naive.counts and backprop.counts and naive.counts.total:
        saved = naive.counts.total - backprop.counts.total
        lines += [msg("s5_saved", naive=format_number(naive.counts.total),
                      backprop=format_number(backprop.counts.total),
                      saved=format_number(saved),
                      percent=format_number(round(100 * saved / naive.counts.total, 1))), ""]
    sym = cr.results.get("sympy")
    lines += [f"### {msg('s5_sympy_heading')}", ""]
    if sym is None:
        lines += [msg("s5_sympy_missing"), ""]
    elif sym.details is not None and sym.details.derivatives:
        lines += [msg("s5_sympy_intro"), ""]
        for var, text in sym.details.derivatives.items():
            shown = md_code(BLANK) if c.exercise else md_code(text, limit=600)
            lines.append(f"- {md_cell(_d('f', var))} = {shown}")
        lines += ["", msg("s5_sympy_size", raw=format_number(sym.details.size_raw),
                          cse=format_number(sym.details.size_cse)), ""]
    else:
        lines += [msg("s5_sympy_failed", status=md_cell(sym.status),
                      note=md_cell(sym.note, limit=400)), ""]
    return lines


def _section_descent(c: _Ctx) -> list[str]:
    """θ ← θ − α·∇θJ: on the case's loss when it has one (moving only the parameters), else on
    the function itself, saying so; at a stationary point, that there is no step."""
    msg, case = c.msg, c.cr.case
    lines = [f"## {msg('s6_heading')}", ""]
    if case.loss is not None:
        return lines + _descent_on_loss(c)
    lines += [msg("s6_no_loss"), "", msg("s6_intro", lr=format_number(c.lr)), ""]
    if not c.lr_from_case:
        lines += [msg("s6_lr_default", lr=format_number(c.lr)), ""]
    gradient = c.cr.results["backprop"].gradient
    moved = [v for v in case.parameters if gradient.get(v) is not None]
    if moved and not any(gradient[v] for v in moved):
        grads = ", ".join(md_cell(_d("f", v)) for v in moved)
        return lines + [msg("s6_stationary", grads=grads, zeros=", ".join("0" for _ in moved)),
                        ""]
    new_point = dict(case.at)
    for var in moved:
        g = gradient[var]
        new = case.at[var] - c.lr * g
        new_point[var] = new
        lhs = md_cell(f"{var} ← {var} − α·{_d('f', var)}")
        rhs = (f"{format_number(case.at[var])} − {_factor(c.lr)} × {_factor(g)}"
               if not c.exercise else
               f"{format_number(case.at[var])} − {_factor(c.lr)} × {BLANK_MD}")
        lines.append(f"- {lhs} = {rhs} = {c.num(new)}")
    lines.append("")
    held = [v for v in case.wrt if v not in case.parameters]
    if held:
        lines += [msg("s6_held", names=", ".join(md_cell(v) for v in held)), ""]
    fw = forward(case.graph, new_point)
    point = ", ".join(f"{md_cell(k)} = {c.num(v, hide=k in case.parameters)}"
                      for k, v in new_point.items())
    old = c.values[case.graph.output]
    if fw.ok:
        new_value = fw.value
        assert new_value is not None
        key = "s6_decreased" if new_value < old else "s6_not_decreased"
        lines += [msg("s6_new_value", point=point, value=c.num(new_value),
                      old=c.num(old, hide=True)), ""]
        if not c.exercise:
            lines += [msg(key), ""]
    else:
        lines += [msg("s6_new_failed", point=point, note=md_cell(fw.message)), ""]
    return lines


HANDOUT_OPTIMIZERS = ("gd", "sgd", "momentum", "rmsprop", "adam")
_OPTIMIZER_TITLES = {"gd": "s6_opt_gd", "sgd": "s6_opt_sgd", "momentum": "s6_opt_momentum",
                     "rmsprop": "s6_opt_rmsprop", "adam": "s6_opt_adam"}
# What each optimizer's two steps show: (record key, how the line is written).
_WORKINGS = {
    "gd": (("g", "g = ∇θJ"),),
    "sgd": (("g", "g = ∇θJ"),),
    "momentum": (("g", "g = ∇θJ"), ("b", "b = μ·b + g  (b₁ = g₁)")),
    "rmsprop": (("g", "g = ∇θJ"), ("v", "v = 0.99·v + 0.01·g²"),
                ("denominator", "√v + ε"), ("update", "g/(√v + ε)")),
    "adam": (("g", "g = ∇θJ"), ("m", "m = 0.9·m + 0.1·g"), ("v", "v = 0.999·v + 0.001·g²"),
             ("bias1", "1 − 0.9ᵗ"), ("bias2", "1 − 0.999ᵗ"), ("m_hat", "m̂ = m/(1 − 0.9ᵗ)"),
             ("v_hat", "v̂ = v/(1 − 0.999ᵗ)"), ("update", "m̂/(√v̂ + ε)")),
}


def _vector(c: _Ctx, values: Sequence[Optional[float]], hide: bool = True) -> str:
    return "(" + ", ".join(c.num(v, hide=hide) for v in values) + ")"


def _descent_on_loss(c: _Ctx) -> list[str]:
    """The loss, its gradient with respect to the parameters only, one step; then the first two
    steps of each optimizer.  Every number comes from compare.descent (the engine's own run)."""
    from . import descent

    msg, case = c.msg, c.cr.case
    objective, runs = descent.run(case, HANDOUT_OPTIMIZERS if len(case.data) > 1 else
                                  tuple(o for o in HANDOUT_OPTIMIZERS if o != "sgd"),
                                  steps=2, lr=c.lr)
    params = objective.parameters
    theta = ", ".join(md_cell(p) for p in params)
    data = [v for v in case.graph.variables if v not in params]
    lines = [msg("s6_intro_loss", lr=format_number(c.lr), theta=theta), "",
             msg("s6_loss", rows=len(case.data), formula=md_cell(objective.formula()),
                 params=theta, data=", ".join(md_cell(v) for v in [*data, case.target or ""]
                                              if v)), ""]
    if not c.lr_from_case:
        lines += [msg("s6_lr_default", lr=format_number(c.lr)), ""]
    gd = runs[0]
    first = gd.steps[0]
    grads = ", ".join(md_cell(f"∂J/∂{p}") for p in params)
    point = ", ".join(f"{md_cell(p)} = {format_number(first.theta[p])}" for p in params)
    if first.gradient is None:
        return lines + [msg("s6_new_failed", point=point, note=md_cell(first.note)), ""]
    lines += [msg("s6_loss_at", point=point, value=c.num(first.loss), grads=grads,
                  values=_vector(c, [first.gradient[p] for p in params])), ""]
    if first.status == descent.STATIONARY:
        return lines + [msg("s6_stationary", grads=grads,
                            zeros=", ".join("0" for _ in params)), ""]
    second = gd.steps[1]
    for p in params:
        g = first.gradient[p]
        lhs = md_cell(f"{p} ← {p} − α·∂J/∂{p}")
        shown = _factor(g) if not c.exercise else BLANK_MD
        lines.append(f"- {lhs} = {format_number(first.theta[p])} − {_factor(c.lr)} × {shown} = "
                     f"{c.num(second.theta[p])}")
    lines += ["", msg("s6_held", names=", ".join(md_cell(v) for v in data)) if data else "", ""]
    new_point = ", ".join(f"{md_cell(p)} = {c.num(second.theta[p])}" for p in params)
    if second.loss is not None and math.isfinite(second.loss):
        lines += [msg("s6_new_loss", point=new_point, value=c.num(second.loss),
                      old=c.num(first.loss)), ""]
        if not c.exercise:
            lines += [msg("s6_loss_decreased" if second.loss < first.loss
                          else "s6_loss_not_decreased"), ""]
    else:
        lines += [msg("s6_new_failed", point=new_point, note=md_cell(second.note)), ""]
    lines += [f"### {msg('s6_opt_heading')}", "",
              msg("s6_opt_intro", lr=format_number(c.lr), name=case.name), ""]
    for tr in runs:
        lines += [f"#### {msg(_OPTIMIZER_TITLES[tr.optimizer])}", ""]
        steps = [s for s in tr.steps[:2] if s.record]
        if not steps:
            lines += [msg("s6_opt_none", note=md_cell(tr.final.note or tr.final.status)), ""]
            continue
        rows = []
        if tr.optimizer == "sgd":
            rows.append([msg("s6_opt_rows"), *[", ".join(str(r + 1) for r in s.rows or ())
                                               for s in steps]])
        rows.append([md_cell(f"θ = ({', '.join(params)})"),
                     *[_vector(c, [s.theta[p] for p in params], hide=s.step > 0)
                       for s in steps]])
        for key, label in _WORKINGS[tr.optimizer]:
            rows.append([md_cell(label), *[_vector(c, s.record[key]) for s in steps]])
        after = tr.steps[1:3]
        rows.append([md_cell("θ ← θ − α·(…)"),
                     *[_vector(c, [s.theta[p] for p in params]) for s in after]])
        header = [msg("col_quantity"), *[f"t = {s.step + 1}" for s in steps]]
        lines += [_table(header, [r[:len(header)] for r in rows]), ""]
    return lines


# -- whole pages ------------------------------------------------------------------------------
def _context(cr: CaseRun, lang: str, exercise: bool, lr: Optional[float]) -> _Ctx:
    case = cr.case
    backprop = cr.results.get("backprop")
    if backprop is None or backprop.status not in HAS_GRADIENT:
        why = f"{backprop.status}: {backprop.note}" if backprop is not None else "not run"
        raise GradcompareError(f"no handout: backpropagation gives no gradient here ({why})",
                               case=case.name, file=case.file or None, line=case.line or None)
    trace = trace_of(cr)
    if trace.values is None or trace.grads is None or trace.rows is None:
        raise GradcompareError(f"no handout: {trace.note or 'no gradient at this point'}",
                               case=case.name, file=case.file or None, line=case.line or None)
    names = node_names(case.graph, trace.live)
    rate = lr if lr is not None else case.learning_rate
    return _Ctx(cr, Messages(lang), exercise, names, trace.values, trace.rows, trace.grads,
                rate if rate is not None else DEFAULT_LEARNING_RATE, rate is not None)


def _body(c: _Ctx) -> list[str]:
    return (_section_graph(c) + _section_forward(c) + _section_naive(c) + _section_backprop(c)
            + _section_saved(c) + _section_descent(c))


def render(cr: CaseRun, lang: str = "en", exercise: bool = False,
           lr: Optional[float] = None) -> tuple[str, Optional[str]]:
    """The handout of one case: (page, answer key).  The key is None unless `exercise`."""
    c = _context(cr, lang, exercise, lr)
    page = _header(c, "exercise_title" if exercise else "title") + _body(c)
    footer = ["---", "", c.msg("footer"), ""]
    if not exercise:
        return "\n".join(page + footer), None
    key_ctx = _context(cr, lang, False, lr)
    key = _header(key_ctx, "answers_title") + _body(key_ctx) + footer
    return "\n".join(page + footer), "\n".join(key)


def handout_files(cr: CaseRun, lang: str, exercise: bool = False,
                  lr: Optional[float] = None) -> dict[str, str]:
    """File name -> content for one case and language: `<name>.<lang>.md`, or with `exercise`
    `<name>.<lang>.exercise.md` and `<name>.<lang>.answers.md`."""
    page, key = render(cr, lang, exercise, lr)
    name = cr.case.name
    if key is None:
        return {f"{name}.{lang}.md": page}
    return {f"{name}.{lang}.exercise.md": page, f"{name}.{lang}.answers.md": key}


def write_handouts(runs: Sequence[CaseRun], out_dir: Path, langs: Sequence[str] = LANGUAGES,
                   exercise: bool = False, lr: Optional[float] = None
                   ) -> tuple[list[Path], list[GradcompareError]]:
    """Write the handouts of every run into `out_dir`; a case without one is an error entry.

    Written through compare.files.OutputFolder: never over a file the tool did not write.
    """
    from .files import OutputFolder

    files, errors = handout_set(runs, langs, exercise, lr)
    written = OutputFolder(Path(out_dir), "--dir").write_all(files) if files else []
    return written, errors


def handout_set(runs: Sequence[CaseRun], langs: Sequence[str] = LANGUAGES,
                exercise: bool = False, lr: Optional[float] = None
                ) -> tuple[dict[str, str], list[GradcompareError]]:
    """File name -> text for the handouts of every run in every language; a case that has no
    handout is an error entry instead, and the others are still written."""
    files: dict[str, str] = {}
    errors: list[GradcompareError] = []
    for cr in runs:
        try:
            mine = {}
            for lang in langs:
                mine.update(handout_files(cr, lang, exercise, lr))
        except GradcompareError as err:
            errors.append(err)
            continue
        files.update(mine)
    return files, errors


__all__ = ["BackRow", "LANGUAGES", "Messages", "catalog", "handout_files", "handout_set",
           "naive_paths", "render", "write_handouts"]
