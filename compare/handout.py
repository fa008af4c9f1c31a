"""Lecture handouts: the lecture's steps, generated for any case, in English and Vietnamese.

A handout walks through what the lecture does on the board, in its order, with the case's numbers:

1. Step 1, the computational graph (a Mermaid diagram, annotated with values and gradients);
2. Step 2, the forward pass, node by node in topological order;
3. Step 3, the chain rule per variable, the naive way: every path's product written out from 1,
   each local derivative computed again and the multiplication by it marked ⟳ (so the marks
   count exactly the operations backprop saves), the repeated products named;
4. backpropagation, the improved way: one row per edge in reverse topological order, from the
   seed 1; where one gradient is copied to several children, and where gradients add;
5. what was saved: both ways' operation counts, how they grow, SymPy's derivative and its size;
6. forward mode, the other way round: one sweep per variable carrying ∂node/∂variable up from
   the seed 1 (a table of tangents, one column per sweep), its counts beside backprop's one
   sweep;
7. the gradient check: the central difference beside backprop's value, their relative error,
   the step, and at a kink the two one-sided differences;
8. gradient descent on the case's loss (moving its parameters only), or on f itself.

Rendering only: the counts, the final gradient and SymPy's answer come from the engine's CaseRun,
and node values, node gradients and the per-edge rows of the backprop table from the Trace the
engine recorded (`run_case(..., record=True)`): the rows are those of the one reverse sweep,
compare.cotangent, that backprop runs (pinned by tests: same gradient, as many rows as its
local-derivative count).  The naive walk enumerates paths in the naive method's own order and
is cut after a few paths per variable; the rest is summarized with compare.counting's exact
per-variable path counts.  The descent section evaluates f at the new point θ − α∇f, the one
value no method has computed.  The forward-mode table is compare.methods.forward_mode's
sweep_table (the forward method's sweeps), the gradient check compare.engine.gradient_check.

Text is for students: all of it comes from one message catalog per language,
compare/locale/<lang>.json; numbers are written the language's way (compare.fmt.localize: one
minus sign, 0,1 and 52,9 % in Vietnamese); variables as mathematics (theta0 -> θ₀) and formulas
drawn by compare.formulas.  An exercise leaves every answer blank (the graph to be drawn) and the
answer key carries them.  Output is deterministic (no dates, no timings): handouts are committed.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

from .diagram import MAX_NODES, mermaid, node_names, operation_text
from .cotangent import BackRow
from .engine import CaseRun, GradientCheck, gradient_check, trace_of
from .errors import GradcompareError
from .escape import md_cell, md_code
from .fmt import localize, number_text, percent_text
from .formulas import display
from .forward import forward
from .graph import Graph
from .methods.common import local
from .methods.forward_mode import SweepTable, sweep_table
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
BLANK_MD = r"\_" * 10   # the blank as Markdown text, wide enough to write in by hand
DRAWING_LINES = 12      # empty lines left in an exercise for drawing the graph
AGAIN = "⟳"           # marks a local derivative and its multiplication computed again
NBSP = "\u00a0"        # keeps a ⟳ on the line of the factor it marks when a product wraps
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


# -- mathematics for people: names and formulas ----------------------------------------------
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η",
         "theta": "θ", "lambda": "λ", "mu": "μ", "rho": "ρ", "sigma": "σ", "tau": "τ",
         "phi": "φ", "omega": "ω"}
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_MATH_NAME = re.compile(r"([A-Za-z]+?)_?(\d*)")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_DECIMAL = re.compile(r"(?<![\w.])(\d+)\.(\d+)")   # 0.01, not the name f1.1


def math_name(name: str) -> str:
    """theta0 -> θ₀, w_1 -> w₁, x2 -> x₂, theta -> θ; anything else unchanged."""
    m = _MATH_NAME.fullmatch(name)
    if not m:
        return name
    base, digits = m.groups()
    return GREEK.get(base, base) + digits.translate(_SUBSCRIPT)


def math_names(names: Sequence[str]) -> dict[str, str]:
    """Each name's math form, unless two names would look the same (x1 and x_1): then both
    keep their own spelling."""
    drawn = {n: math_name(n) for n in names}
    seen: dict[str, int] = {}
    for d in drawn.values():
        seen[d] = seen.get(d, 0) + 1
    return {n: (d if seen[d] == 1 and (d == n or d not in drawn) else n)
            for n, d in drawn.items()}


def _exp_as_power(text: str) -> str:
    """exp(A) -> e^(A), matching the parenthesis in one pass."""
    out, depth_marks, i = [], [], 0
    while i < len(text):
        if text.startswith("exp(", i) and (i == 0 or not text[i - 1].isalnum()):
            out.append("e^(")
            depth_marks.append(0)
            i += 4
            continue
        ch = text[i]
        if depth_marks:
            if ch == "(":
                depth_marks[-1] += 1
            elif ch == ")":
                if depth_marks[-1] == 0:
                    depth_marks.pop()
                else:
                    depth_marks[-1] -= 1
        out.append(ch)
        i += 1
    return "".join(out)


def _decimal_comma(text: str, lang: str) -> str:
    return _DECIMAL.sub(r"\1,\2", text) if lang == "vi" else text


def formula_text(text: str, names: Mapping[str, str], lang: str) -> Optional[str]:
    """An expression-language text drawn as mathematics (θ₀, e^(−x), ·, ², π), or None when it
    is not one (SymPy's Heaviside, a text past the parser's limits)."""
    from .formulas import render_formula

    try:
        drawn = render_formula(text)
    except (GradcompareError, RecursionError, ValueError):
        return None
    drawn = _PLACEHOLDER.sub(lambda m: names.get(m[1], m[1]), drawn)
    drawn = re.sub(r"\bpi\b", "π", _exp_as_power(drawn)).replace("-", "−")
    return _decimal_comma(drawn, lang)


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
    var_names: dict[str, str]        # variable -> its math form (theta0 -> θ₀)

    @property
    def lang(self) -> str:
        return self.msg.lang

    def fmt(self, x: Optional[float]) -> str:
        """A number as this language writes it (0,1 in Vietnamese; one minus sign)."""
        return number_text(x, self.lang)

    def num(self, x: Optional[float], hide: bool = True) -> str:
        """A number, or a blank in an exercise (unless `hide` is False: given data)."""
        return BLANK_MD if (self.exercise and hide) else self.fmt(x)

    @property
    def sep(self) -> str:
        """Between numbers in a list: "; " where the decimal mark is a comma (2,5; 3)."""
        return "; " if self.lang == "vi" else ", "

    def factor(self, x: float) -> str:
        """A number as a factor of a product: negatives and fractions in parentheses."""
        text = self.fmt(x)
        return f"({text})" if text.startswith("−") or "/" in text else text

    def count(self, n: int) -> str:
        """An operation count: a blank in an exercise."""
        return self.num(n)

    def name(self, i: int) -> str:
        return self.names[i]

    def var(self, v: str) -> str:
        return self.var_names.get(v, v)

    def text(self, x: str) -> str:
        """Mathematics drawn as text (a local derivative's formula, an optimizer's rule) the
        way this language writes it: e^(x), one minus sign, 0,9 in Vietnamese."""
        return _decimal_comma(_exp_as_power(x).replace("-", "−"), self.lang)

    @property
    def graph(self) -> Graph:
        return self.cr.case.graph


# -- the sections ----------------------------------------------------------------------------
def _title(c: _Ctx) -> str:
    case = c.cr.case
    return (case.titles.get(c.lang) if case.titles else None) or case.title or case.name


def _header(c: _Ctx, title_key: str) -> list[str]:
    case, msg = c.cr.case, c.msg
    lines = [f"# {msg(title_key, title=md_cell(_title(c)))}", ""]
    meta = [msg("case_name", name=md_code(case.name))]
    source = case.sources.get(c.lang) or (case.source if c.lang == "en" else None)
    if source:
        meta.append(msg("source", source=md_cell(source)))
    lines += [" · ".join(meta), ""]
    if c.exercise:
        lines += [msg("exercise_intro"), ""]
    if case.expression is not None:
        drawn = formula_text(case.expression, c.var_names, c.lang)
        shown = md_cell(drawn, limit=2000) if drawn else md_code(case.expression)
        lines += [f"{msg('function')}: f = {shown}", ""]
    else:
        lines += [f"{msg('steps_given')}:", ""]
        for k, v in case.steps or []:
            drawn = formula_text(v, c.var_names, c.lang)
            lines.append(f"- {md_cell(k)} = {md_cell(drawn, limit=2000)}" if drawn
                         else f"- {md_code(f'{k} = {v}')}")
        lines.append("")
    point = c.sep.join(f"{md_cell(c.var(k))} = {c.fmt(v)}" for k, v in case.at.items())
    lines += [msg("point", point=point, wrt=", ".join(md_cell(c.var(v)) for v in case.wrt)), ""]
    if c.exercise:
        lines += [msg("exercise_blank", blank=BLANK_MD), ""]
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
    if c.exercise:
        # One blockquote of empty paragraphs: a tall framed space in markdown and in print
        # (lines of one paragraph would collapse into a single line).
        space = ["> &nbsp;", ">"] * DRAWING_LINES
        return lines + [msg("s1_draw"), ""] + space[:-1] + [""]
    lines += ["```mermaid",
              mermaid(graph, c.values, c.grads, names=c.names, value_word=msg("value_word"),
                      hidden_word=msg("hidden_word"), number=c.fmt).rstrip("\n"),
              "```", ""]
    live = len(c.names)
    if live > MAX_NODES:
        lines += [msg("s1_collapsed", n=c.fmt(live)), ""]
    return lines


def _section_forward(c: _Ctx) -> list[str]:
    msg, graph = c.msg, c.graph
    lines = [f"## {msg('s2_heading')}", "", msg("s2_intro"), ""]
    rows = []
    nodes = [i for i in range(len(graph)) if i in c.names and not graph.is_leaf(i)]
    for i in _folded(nodes):
        if i is None:
            rows.append(_fold_row(c, len(nodes), 4))
            continue
        inputs = c.sep.join(
            md_cell(c.name(k)) if k in graph.exact
            else f"{md_cell(c.name(k))} = {c.num(c.values[k], hide=not graph.is_leaf(k))}"
            for k in dict.fromkeys(graph.args(i)))
        rows.append([md_cell(c.name(i)), md_cell(operation_text(graph, i, c.names)),
                     inputs, c.num(c.values[i])])
    if rows:
        lines += [_table([msg("col_node"), msg("col_operation"), msg("col_inputs"),
                          msg("col_value")], rows), ""]
    out = graph.output
    name = c.name(out)
    shown = f"f = {md_cell(name)}" if name != "f" else "f"
    lines += [f"**{msg('s2_output')}: {shown} = {c.num(c.values[out])}**", "",
              msg("s2_ops", n=c.count(c.cr.forward_ops)), ""]
    return lines


def _fold_row(c: _Ctx, total: int, width: int) -> list[str]:
    return [c.msg("fold_rows", n=c.fmt(total - HEAD_ROWS - TAIL_ROWS))] + [""] * (width - 1)


def _paths_from_output(graph: Graph) -> list[int]:
    """Per node, how many paths lead to it from the output, capped at 2 (one pass, reverse
    topological order): a product along the one path to a node is that node's gradient."""
    count = [0] * len(graph)
    count[graph.output] = 1
    for i in range(graph.output, -1, -1):
        if count[i]:
            for child in graph.args(i):
                count[child] = min(2, count[child] + count[i])
    return count


@dataclass
class _Repeat:
    """A product along a path prefix that an earlier variable's walk computed already."""
    node: int
    var: str
    first: str
    symbols: list[str]
    value: float


def _section_naive(c: _Ctx) -> list[str]:
    from .counting import path_counts

    msg, graph, case = c.msg, c.graph, c.cr.case
    result = c.cr.results.get("naive")
    lines = [f"## {msg('s3_heading')}", "", msg("s3_intro"), "", msg("s3_counting"), ""]
    lines += [msg("s3_again_exercise" if c.exercise else "s3_again_legend", mark=AGAIN), ""]
    if result is not None and result.status == OVER_BUDGET and result.counts is not None:
        lines += [msg("s3_over_budget", total=c.fmt(result.counts.total)), ""]
    seen: set[tuple[int, int]] = set()
    trie: dict[tuple[int, tuple[int, int]], int] = {}   # (prefix id, edge) -> prefix id
    owner: dict[int, str] = {}                            # prefix id -> first variable
    repeats: dict[int, _Repeat] = {}
    summary_rows = []
    per_variable = path_counts(graph, case.wrt)   # one pass for every variable
    for k, var in enumerate(case.wrt):
        n_paths, length = per_variable[var]
        counts = Counts(length, length, max(n_paths - 1, 0))
        gradient = _gradient_of(c, var)
        if k >= MAX_VARIABLES:
            summary_rows.append([md_cell(c.var(var)), c.count(n_paths),
                                 c.count(counts.derivatives), c.count(counts.multiplications),
                                 c.count(counts.additions), c.num(gradient)])
            continue
        lhs = md_cell(_d("f", c.var(var)))
        lines += [f"### {lhs}", ""]
        products = []
        shown = list(itertools.islice(naive_paths(graph, var), MAX_PATHS))
        for path in shown:
            symbols, numbers, plain = ["1"], ["1"], []
            product, prefix, longest = 1.0, 0, None
            for parent, pos in path:
                child = graph.args(parent)[pos]
                factor = md_cell(_d(c.name(parent), c.name(child)))
                d = local(graph, c.values, parent, pos)
                product *= d
                plain.append(factor)
                key = (prefix, (parent, pos))
                if key in trie and owner[trie[key]] != var:
                    longest = (child, owner[trie[key]], list(plain), product)
                prefix = trie.setdefault(key, len(trie) + 1)
                owner.setdefault(prefix, var)
                value = BLANK_MD if c.exercise else c.factor(d)
                if (parent, pos) in seen and not c.exercise:
                    symbols.append(f"**× {factor}{NBSP}{AGAIN}**")
                    numbers.append(f"**× {value}{NBSP}{AGAIN}**")
                else:
                    symbols.append(f"× {factor}")
                    numbers.append(f"× {value}")
                seen.add((parent, pos))
            if longest is not None and longest[0] not in repeats:
                repeats[longest[0]] = _Repeat(longest[0], var, longest[1], longest[2],
                                              longest[3])
            products.append(product)
            symbols, numbers = _shorten(symbols, msg), _shorten(numbers, msg)
            line = " ".join(symbols) + " = " + " ".join(numbers) + " = " + c.num(product)
            if c.exercise:
                line += " " + msg("s3_marks_blank", mark=AGAIN, blank=BLANK_MD)
            if n_paths == 1:
                lines += [f"{lhs} = {line}", ""]
            else:
                lines += [f"- {msg('path_word')}: {line}"]
        if not shown and graph.output == graph.variables.get(var):
            lines += [f"{lhs} = 1", ""]
        elif not shown:
            lines += [msg("s3_no_path", var=md_cell(c.var(var))), ""]
        elif n_paths > 1:
            if n_paths > len(shown):
                lines += [f"- {msg('s3_more_paths', more=c.count(n_paths - len(shown)))}"]
            lines.append("")
            if n_paths == len(shown):
                sum_text = " + ".join(c.factor(p) if not c.exercise else BLANK_MD
                                      for p in products)
                lines += [f"{lhs} = {sum_text} = {c.num(gradient)}", "",
                          msg("s3_paths_add"), ""]
            else:
                lines += [f"{lhs} = {msg('s3_sum_of', n=c.count(n_paths))} = "
                          f"{c.num(gradient)}", ""]
        # Every edge on a path to this variable has now been computed at least once.
        reaches = graph.depends_on([var])
        live = graph.live()
        seen.update((u, pos) for u in range(len(graph)) if live[u]
                    for pos, child in enumerate(graph.args(u)) if reaches[child])
        lines += [msg("s3_var_counts", paths=c.count(n_paths),
                      derivatives=c.count(counts.derivatives),
                      multiplications=c.count(counts.multiplications),
                      additions=c.count(counts.additions)), ""]
    if summary_rows:
        lines += [msg("s3_more_variables", n=c.fmt(len(summary_rows))), "",
                  _table([msg("col_variable"), msg("col_paths"), msg("col_derivatives"),
                          msg("col_multiplications"), msg("col_additions"),
                          msg("col_gradient")], summary_rows, msg("fold_rows")), ""]
    lines += _repeated_prefixes(c, list(repeats.values()))
    if result is not None and result.counts is not None:
        key = "s3_total_predicted" if result.predicted else "s3_total"
        lines += [msg(key, derivatives=c.count(result.counts.derivatives),
                      multiplications=c.count(result.counts.multiplications),
                      additions=c.count(result.counts.additions),
                      total=c.count(result.counts.total))]
        backprop = c.cr.results.get("backprop")
        if backprop is not None and backprop.counts is not None:
            again = result.counts.derivatives - backprop.counts.derivatives
            lines[-1] += " " + msg("s3_again_total", again=c.count(again), mark=AGAIN,
                                   ops=c.count(2 * again))
        lines.append("")
    return lines


MAX_REPEATS = 4   # repeated products named in words; the ⟳ marks show every one


def _repeated_prefixes(c: _Ctx, repeats: list[_Repeat]) -> list[str]:
    """The lecture's point in words: this product was computed for an earlier variable and is
    computed again; backpropagation computes it once, as ∂f/∂node, and copies it."""
    if not repeats:
        return []
    if c.exercise:
        return [c.msg("s3_repeat_question", blank=BLANK_MD), ""]
    lines = [c.msg("s3_repeat_intro"), ""]
    one_path = _paths_from_output(c.graph)
    for r in repeats[:MAX_REPEATS]:
        product = " × ".join(_shorten(["1", *r.symbols], c.msg))
        node = md_cell(c.name(r.node))
        grad = c.grads.get(r.node)
        key = "s3_repeat_is_gradient" if one_path[r.node] == 1 else "s3_repeat_part"
        lines.append("- " + c.msg(key, product=product, value=c.fmt(r.value), node=node,
                                  gradient=c.fmt(grad), first=md_cell(c.var(r.first)),
                                  var=md_cell(c.var(r.var))))
    return lines + [""]


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
            rows.append(_fold_row(c, len(c.rows), 6 if c.exercise else 7))
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
            acc = f"{c.fmt(r.before)} + {c.factor(r.product)} = {c.fmt(r.total)}"
        product = (f"{BLANK_MD} × {BLANK_MD} = {BLANK_MD}" if c.exercise else
                   f"{c.factor(r.upstream)} × {c.factor(r.local)} = {c.fmt(r.product)}")
        local_text = (md_cell(f"{_d(parent, child)} = ") + BLANK_MD if c.exercise
                      else md_cell(f"{_d(parent, child)} = {c.text(formula)}"))
        row = [md_cell(f"{parent} → {child}"), md_cell(f"{_d('f', parent)} = ") + upstream,
               local_text, c.num(r.local), product, md_cell(f"{_d('f', child)} = ") + acc]
        rows.append(row if c.exercise else [str(k), *row])
    if rows:
        headers = [msg("col_edge"), msg("col_upstream"), msg("col_local"),
                   msg("col_local_value"), msg("col_product"), msg("col_child_gradient")]
        lines += [_table(headers if c.exercise else [msg("col_step"), *headers], rows), ""]
    if not c.exercise:
        lines += _copies_and_sums(c)
    backprop = c.cr.results["backprop"]
    grads = c.sep.join(md_cell(_d("f", c.var(v))) for v in case.wrt)
    values = c.sep.join(c.num(backprop.gradient.get(v)) for v in case.wrt)
    lines += [f"**{msg('s4_gradient')}: ∇f = ({grads}) = ({values})**", ""]
    if backprop.counts is not None:
        lines += [msg("s4_counts", derivatives=c.count(backprop.counts.derivatives),
                      multiplications=c.count(backprop.counts.multiplications),
                      additions=c.count(backprop.counts.additions),
                      total=c.count(backprop.counts.total)), ""]
    if c.cr.kink:
        lines += [msg("kink_note"), ""]
    return lines


MAX_NAMED = 4   # nodes whose copies or sums are spelled out


def _copies_and_sums(c: _Ctx) -> list[str]:
    """Where the sweep copies one gradient to several children, and where gradients arriving by
    several paths add up (fan-out): the two things the naive walk does not do."""
    children: dict[int, list[int]] = {}
    arrivals: dict[int, list[float]] = {}
    for r in c.rows:
        children.setdefault(r.parent, []).append(r.child)
        arrivals.setdefault(r.child, []).append(r.product)
    lines = []
    copied = [p for p, kids in children.items() if len(kids) > 1 and p != c.graph.output]
    for p in copied[:MAX_NAMED]:
        lines.append("- " + c.msg("s4_copied", node=md_cell(c.name(p)),
                                  gradient=c.fmt(c.grads.get(p)),
                                  children=", ".join(md_cell(c.name(k))
                                                     for k in dict.fromkeys(children[p]))))
    met = [n for n, parts in arrivals.items() if len(parts) > 1]
    for n in met[:MAX_NAMED]:
        parts = " + ".join(c.factor(x) for x in arrivals[n])
        lines.append("- " + c.msg("s4_added", node=md_cell(c.name(n)),
                                  k=c.fmt(len(arrivals[n])), parts=parts,
                                  gradient=c.fmt(c.grads.get(n))))
    return lines + [""] if lines else []


def _section_saved(c: _Ctx) -> list[str]:
    msg, cr = c.msg, c.cr
    lines = [f"## {msg('s5_heading')}", ""]
    rows = []
    for method, key in (("naive", "method_naive"), ("backprop", "method_backprop")):
        r = cr.results.get(method)
        if r is None or r.counts is None:
            continue
        mark = f" ({msg('predicted')})" if r.predicted else ""
        rows.append([msg(key) + mark, c.count(r.counts.derivatives),
                     c.count(r.counts.multiplications), c.count(r.counts.additions),
                     f"**{c.count(r.counts.total)}**"])
    rows.append([msg("method_forward"), "—", "—", "—", c.count(cr.forward_ops)])
    lines += [_table([msg("col_method"), msg("col_derivatives"), msg("col_multiplications"),
                      msg("col_additions"), msg("col_total")], rows), ""]
    naive, backprop = cr.results.get("naive"), cr.results.get("backprop")
    if naive and backprop and naive.counts and backprop.counts and naive.counts.total:
        saved = naive.counts.total - backprop.counts.total
        again = naive.counts.derivatives - backprop.counts.derivatives
        adds = naive.counts.additions - backprop.counts.additions
        percent = _share(saved, naive.counts.total)
        lines += [msg("s5_saved", naive=c.count(naive.counts.total),
                      backprop=c.count(backprop.counts.total), saved=c.count(saved),
                      percent=BLANK_MD if c.exercise else percent_text(percent, c.lang)),
                  ""]
        if not c.exercise:
            lines[-2] += " " + msg("s5_saved_marks", again=c.fmt(again), mark=AGAIN,
                                   ops=c.fmt(2 * again))
            if adds:
                lines[-2] += " " + msg("s5_more_additions" if adds > 0 else
                                       "s5_fewer_additions", n=c.fmt(abs(adds)))
    lines += [msg("s5_forward_row"), "", msg("s5_growth"), ""]
    return lines + _section_sympy(c)


def _section_sympy(c: _Ctx) -> list[str]:
    msg, sym = c.msg, c.cr.results.get("sympy")
    lines = [f"### {msg('s5_sympy_heading')}", ""]
    if sym is None:
        return lines + [msg("s5_sympy_missing"), ""]
    if sym.details is None or not sym.details.derivatives:
        return lines + [msg("s5_sympy_failed", status=md_code(sym.status)), ""]
    lines += [msg("s5_sympy_intro"), ""]
    for var, text in sym.details.derivatives.items():
        drawn = formula_text(text, c.var_names, c.lang) if len(text) <= 600 else None
        shown = (BLANK_MD if c.exercise else md_cell(drawn, limit=600) if drawn
                 else md_code(text, limit=600))
        lines.append(f"- {md_cell(_d('f', c.var(var)))} = {shown}")
    raw, cse = sym.details.size_raw, sym.details.size_cse
    key = "s5_sympy_swell" if raw > cse else "s5_sympy_no_swell"
    lines += ["", msg(key, raw=c.count(raw), cse=c.count(cse)), ""]
    return lines


MAX_SWEEP_COLUMNS = 6   # forward-mode sweeps written out as tangent columns; all are counted
PRECISE = 12            # significant digits of a finite-difference estimate: its error shows


def _section_forward_mode(c: _Ctx) -> list[str]:
    """Forward mode: one sweep per variable, each carrying ∂node/∂variable from the seed 1 up
    to the output (compare.methods.forward_mode.sweep_table, the forward method's own sweeps),
    then every sweep's counts beside backpropagation's one sweep."""
    msg, graph, case = c.msg, c.graph, c.cr.case
    lines = [f"## {msg('fm_heading')}", ""]
    first = c.var(case.wrt[0]) if case.wrt else "x"
    lines += [msg("fm_intro", var=md_cell(first)), "", msg("fm_counting"), ""]
    table = sweep_table(graph, case.at, case.wrt)
    if table.note or not table.swept:
        return lines + [msg("fm_failed"), ""]
    shown = table.swept[:MAX_SWEEP_COLUMNS]
    if c.exercise:
        lines += [msg("fm_exercise"), ""]
    headers = [msg("col_node"), msg("col_operation")] + [
        msg("fm_col_sweep", k=c.fmt(k), d=md_cell(_d("node", c.var(v))))
        for k, v in enumerate(shown, 1)]
    rows = []
    for item in _folded(list(zip(table.rows, table.tangents))):
        if item is None:
            rows.append(_fold_row(c, len(table.rows), len(headers)))
            continue
        i, tangent = item
        leaf = graph.is_leaf(i)
        name = c.names.get(i) or graph.describe(i)
        op = msg("col_variable") if leaf else operation_text(graph, i, c.names)
        rows.append([md_cell(name), md_cell(op),
                     *[c.num(tangent[v], hide=not leaf) for v in shown]])
    lines += [_table(headers, rows), ""]
    if len(table.swept) > len(shown):
        lines += [msg("fm_more_columns", shown=c.fmt(len(shown)),
                      n=c.fmt(len(table.swept) - len(shown))), ""]
    return lines + _sweep_counts(c, table)


def _sweep_counts(c: _Ctx, table: SweepTable) -> list[str]:
    """Every sweep's counts and the partial derivative it gives, their total, and
    backpropagation's one sweep beside them."""
    msg, case = c.msg, c.cr.case
    out_row = dict(zip(table.rows, table.tangents)).get(c.graph.output, {})
    count_rows = []
    for v in case.wrt:
        d, m, a = table.counts.get(v, (0, 0, 0))
        if v not in table.swept:
            count_rows.append([f"{msg('fm_no_sweep')}: {md_cell(c.var(v))}", "—", "—", "—",
                               "—", md_cell(f"{_d('f', c.var(v))} = 0")])
            continue
        count_rows.append([f"{c.fmt(table.swept.index(v) + 1)}: {md_cell(c.var(v))}", c.count(d),
                           c.count(m), c.count(a), c.count(d + m + a),
                           md_cell(f"{_d('f', c.var(v))} = ") + c.num(out_row.get(v))])
    d, m, a = table.total()
    sweeps = len(table.swept)
    count_rows.append([f"**{msg('fm_total_row', n=c.count(sweeps))}**", c.count(d),
                       c.count(m), c.count(a), f"**{c.count(d + m + a)}**", ""])
    backprop = c.cr.results["backprop"].counts
    if backprop is not None:
        count_rows.append([f"**{msg('fm_backprop_row')}**", c.count(backprop.derivatives),
                           c.count(backprop.multiplications), c.count(backprop.additions),
                           f"**{c.count(backprop.total)}**", ""])
    lines = [_table([msg("fm_col_sweep_variable"), msg("col_derivatives"),
                     msg("col_multiplications"), msg("col_additions"), msg("col_total"),
                     msg("col_gradient")], count_rows, msg("fold_rows")), ""]
    if backprop is not None:
        lines += [msg("fm_compare", sweeps=c.count(sweeps), total=c.count(d + m + a),
                      backprop=c.count(backprop.total)), ""]
    return lines


def _section_gradient_check(c: _Ctx) -> list[str]:
    """The gradient check: the central difference beside backpropagation's value, their
    relative error, the step, and at a kink the two one-sided differences
    (compare.engine.gradient_check, against backprop)."""
    msg, case = c.msg, c.cr.case
    first = md_cell(c.var(case.wrt[0])) if case.wrt else "x"
    lines = [f"## {msg('gc_heading')}", "", msg("gc_intro", var=first), "",
             msg("gc_step", var=first), ""]
    checks = gradient_check(c.cr, against="backprop")
    kink = any(r.sides for r in checks)
    if kink:
        lines += [msg("gc_kink", var=first), ""]
    if c.exercise:
        lines += [msg("gc_exercise"), ""]
    headers = [msg("col_variable"), msg("gc_col_step"), msg("gc_col_estimate"),
               msg("method_backprop"), msg("gc_col_relative"), msg("gc_col_verdict")]
    if kink:
        headers[3:3] = [msg("gc_col_left"), msg("gc_col_right")]
    rows = []
    for r in checks:
        row = [md_cell(c.var(r.variable)), c.fmt(r.step),
               c.num(r.numeric) if c.exercise else number_text(r.numeric, c.lang, PRECISE),
               c.num(r.exact), c.num(r.rel_error) if c.exercise
               else number_text(r.rel_error, c.lang, 3),
               BLANK_MD if c.exercise else _verdict(c, r)]
        if kink:
            left, right = r.sides if r.sides else (None, None)
            row[3:3] = [c.num(x) if c.exercise or x is None
                        else number_text(x, c.lang, PRECISE) for x in (left, right)]
        rows.append(row)
    lines += [_table(headers, rows, msg("fold_rows")), ""]
    missing = [r.variable for r in checks if r.numeric is None]
    if missing:
        lines += [msg("gc_none", names=", ".join(md_cell(c.var(v)) for v in missing)), ""]
    if not c.exercise:
        lines += [msg("gc_verdict_note"), ""]
    return lines


def _verdict(c: _Ctx, r: GradientCheck) -> str:
    """Whether the estimate confirms backprop: to the step's tolerance, or at a kink, whether
    backprop's value lies between the one-sided differences."""
    if r.sides:
        return "—" if r.between is None else c.msg("gc_between" if r.between
                                                    else "gc_not_between")
    return "—" if r.agrees is None else c.msg("gc_yes" if r.agrees else "gc_no")


def _section_descent(c: _Ctx) -> list[str]:
    """θ ← θ − α·∇θJ: on the case's loss when it has one (moving only the parameters), else on
    the function itself, saying so; at a stationary point, that there is no step."""
    msg, case = c.msg, c.cr.case
    lines = [f"## {msg('s6_heading')}", ""]
    if case.loss is not None:
        return lines + _descent_on_loss(c)
    lines += [msg("s6_no_loss"), "", msg("s6_intro", lr=c.fmt(c.lr)), ""]
    if not c.lr_from_case:
        lines += [msg("s6_lr_default", lr=c.fmt(c.lr)), ""]
    gradient = c.cr.results["backprop"].gradient
    moved = [v for v in case.parameters if gradient.get(v) is not None]
    if moved and not any(gradient[v] for v in moved):
        grads = c.sep.join(md_cell(_d("f", c.var(v))) for v in moved)
        return lines + [msg("s6_stationary", grads=grads, zeros=c.sep.join("0" for _ in moved)),
                        ""]
    new_point = dict(case.at)
    for var in moved:
        g = gradient[var]
        new = case.at[var] - c.lr * g
        new_point[var] = new
        v = c.var(var)
        lhs = md_cell(f"{v} ← {v} − α·{_d('f', v)}")
        shown = BLANK_MD if c.exercise else c.factor(g)
        lines.append(f"- {lhs} = {c.fmt(case.at[var])} − {c.factor(c.lr)} × {shown} = "
                     f"{c.num(new)}")
    lines.append("")
    held = [v for v in case.wrt if v not in case.parameters]
    if held:
        lines += [msg("s6_held", names=", ".join(md_cell(c.var(v)) for v in held)), ""]
    fw = forward(case.graph, new_point)
    point = c.sep.join(f"{md_cell(c.var(k))} = {c.num(v, hide=k in case.parameters)}"
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
        lines += [msg("s6_new_failed", point=point), ""]
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
    return "(" + c.sep.join(c.num(v, hide=hide) for v in values) + ")"


def _loss_value(c: _Ctx, loss: Optional[float]) -> str:
    """J, and when J = ln q for a short rational q (the lecture's ln 2), that form too."""
    if c.exercise or loss is None or not math.isfinite(loss) or loss == 0:
        return c.num(loss)
    for sign, q in ((1, math.exp(loss)), (-1, math.exp(-loss))):
        frac = Fraction(q).limit_denominator(20)
        if frac > 0 and frac != 1 and abs(float(frac) - q) <= 1e-12 * q:
            arg = c.factor(float(frac)) if frac.denominator > 1 else str(frac.numerator)
            return f"{'−' if sign < 0 else ''}ln {arg} ≈ {c.fmt(loss)}"
    return c.fmt(loss)


def _descent_on_loss(c: _Ctx) -> list[str]:
    """The loss, its gradient with respect to the parameters only, one step; then the first two
    steps of each optimizer.  Every number comes from compare.descent (the engine's own run)."""
    from . import descent

    msg, case = c.msg, c.cr.case
    objective, runs = descent.run(case, HANDOUT_OPTIMIZERS, steps=2, lr=c.lr)
    params = objective.parameters
    theta = c.sep.join(md_cell(c.var(p)) for p in params)   # a vector: (θ₀; θ₁) in vi
    data = [v for v in case.graph.variables if v not in params]
    formula = objective.formula()
    named = ", ".join(md_cell(c.var(p)) for p in params)       # names in prose: commas
    given = ", ".join(md_cell(c.var(v)) for v in [*data, case.target or ""] if v)
    lines = [msg("s6_intro_loss", lr=c.fmt(c.lr), theta=theta), "",
             msg("s6_loss", rows=c.fmt(len(case.data)), formula=md_cell(formula),
                 params=named, data=given), ""]
    if not c.lr_from_case:
        lines += [msg("s6_lr_default", lr=c.fmt(c.lr)), ""]
    gd = runs[0]
    first = gd.steps[0]
    grads = c.sep.join(md_cell(f"∂J/∂{c.var(p)}") for p in params)
    point = c.sep.join(f"{md_cell(c.var(p))} = {c.fmt(first.theta[p])}" for p in params)
    if first.gradient is None:
        return lines + [msg("s6_new_failed", point=point), ""]
    lines += [msg("s6_loss_at", point=point, value=_loss_value(c, first.loss), grads=grads,
                  values=_vector(c, [first.gradient[p] for p in params])), ""]
    if first.status == descent.STATIONARY:
        return lines + [msg("s6_stationary", grads=grads,
                            zeros=c.sep.join("0" for _ in params)), ""]
    second = gd.steps[1]
    for p in params:
        g = first.gradient[p]
        v = c.var(p)
        lhs = md_cell(f"{v} ← {v} − α·∂J/∂{v}")
        shown = c.factor(g) if not c.exercise else BLANK_MD
        lines.append(f"- {lhs} = {c.fmt(first.theta[p])} − {c.factor(c.lr)} × {shown} = "
                     f"{c.num(second.theta[p])}")
    lines.append("")
    if data:
        lines += [msg("s6_held", names=", ".join(md_cell(c.var(v)) for v in data)), ""]
    new_point = c.sep.join(f"{md_cell(c.var(p))} = {c.num(second.theta[p])}" for p in params)
    if second.loss is not None and math.isfinite(second.loss):
        lines += [msg("s6_new_loss", point=new_point, value=c.num(second.loss),
                      old=c.num(first.loss)), ""]
        if not c.exercise:
            lines += [msg("s6_loss_decreased" if second.loss < first.loss
                          else "s6_loss_not_decreased"), ""]
    else:
        lines += [msg("s6_new_failed", point=new_point), ""]
    lines += [f"### {msg('s6_opt_heading')}", "", msg("s6_opt_intro", lr=c.fmt(c.lr)), ""]
    names = c.sep.join(c.var(p) for p in params)
    for tr in runs:
        lines += [f"#### {msg(_OPTIMIZER_TITLES[tr.optimizer])}", ""]
        steps = [s for s in tr.steps[:2] if s.record]
        if not steps:
            lines += [msg("s6_opt_none"), ""]
            continue
        rows = []
        if tr.optimizer == "sgd":
            rows.append([msg("s6_opt_rows"), *[c.sep.join(str(r + 1) for r in s.rows)
                                               if s.rows else msg("s6_opt_all_rows")
                                               for s in steps]])
        rows.append([md_cell(f"θ = ({names})"),
                     *[_vector(c, [s.theta[p] for p in params], hide=s.step > 0)
                       for s in steps]])
        for key, label in _WORKINGS[tr.optimizer]:
            rows.append([md_cell(c.text(label)), *[_vector(c, s.record[key]) for s in steps]])
        after = tr.steps[1:3]
        rows.append([md_cell("θ ← θ − α·(…)"),
                     *[_vector(c, [s.theta[p] for p in params]) for s in after]])
        header = [msg("col_quantity"), *[f"t = {s.step + 1}" for s in steps]]
        lines += [_table(header, [r[:len(header)] for r in rows]), ""]
    return lines


# -- whole pages ------------------------------------------------------------------------------
def page_names(graph: Graph, live: Sequence[bool], lang: str
               ) -> tuple[dict[int, str], dict[str, str]]:
    """The names a page gives its nodes (θ₀ for theta0, 0,5 in Vietnamese) and its variables'
    math forms: one naming for the text and the drawings (compare.html) of a handout."""
    names = node_names(graph, live)
    var_names = math_names(list(graph.variables))
    for i, text in names.items():
        if i in graph.var_name:
            names[i] = var_names.get(text, text)
        elif i in graph.exact:
            names[i] = (localize(text, lang) if re.fullmatch(r"-?[\d.e+-]+", text)
                        else "π" if text == "pi" else text)
    return names, var_names


def _share(part: int, whole: int) -> float:
    """100·part/whole to one decimal, with more decimals where one would round a share that is
    not all to 100 (or one that is not nothing to 0): 99.995, not 100, when 100 of 2,027,348
    operations remain."""
    exact = 100 * part / whole
    for digits in range(1, 12):
        p = round(exact, digits)
        if (p < 100 or part >= whole) and (p > 0 or part <= 0):
            return p
    return exact


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
    names, var_names = page_names(case.graph, trace.live, lang)
    rate = lr if lr is not None else case.learning_rate
    return _Ctx(cr, Messages(lang), exercise, names, trace.values, trace.rows, trace.grads,
                rate if rate is not None else DEFAULT_LEARNING_RATE, rate is not None,
                var_names)


def _body(c: _Ctx) -> list[str]:
    return (_section_graph(c) + _section_forward(c) + _section_naive(c) + _section_backprop(c)
            + _section_saved(c) + _section_forward_mode(c) + _section_gradient_check(c)
            + _section_descent(c))


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
