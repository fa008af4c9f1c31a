"""Tidy pandas tables of a run: one row per observation.

* `gradient_table` — one row per (case, method, variable)
* `cost_table`     — one row per (case, method)
* `case_table`     — one row per case
* `rejected_table` — one row per input problem

Reports and the command line render these tables; they never recompute anything.  `render`
gives a table's text forms: `csv` and `json` carry every float round-trip exact (Python's
`repr`, 17 significant digits where needed) and every count as an exact integer, however large;
`markdown` and `table` are for reading.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
from typing import Any, Iterable, Iterator, Optional, Sequence

import pandas as pd

from .engine import Run
from .methods.numeric import relative_error
from .result import HAS_GRADIENT, Result
from .errors import GradcompareError, printable
from .fmt import float_names, ratio


INT64_MAX = 2**63 - 1


def integer_column(column: pd.Series) -> pd.Series:
    """Counts as pandas' nullable Int64 when they fit, else as exact Python integers.

    Operation counts are exact integers of any size (2^70 paths is a valid case): they must
    never overflow or be rounded on their way into a table.
    """
    if all(v is None or (isinstance(v, float) and math.isnan(v)) or abs(int(v)) <= INT64_MAX
           for v in column):
        return column.astype("Int64")
    return column.astype(object).where(column.notna(), None)


def tidy_frame(rows: list[dict], columns: list[str], counts: Iterable[str]) -> pd.DataFrame:
    """A DataFrame whose `counts` columns keep exact integers (Int64, or Python ints past
    int64) and whose other columns get their natural dtypes.

    Built as objects first: pandas would otherwise turn a column of large integers with a
    missing value into floats, silently rounding 2^64 + 1.
    """
    df = pd.DataFrame(rows, columns=columns, dtype=object)
    counts = list(counts)
    others = [c for c in columns if c not in counts]
    if others:
        df[others] = df[others].infer_objects()
    for col in counts:
        df[col] = integer_column(df[col])
    return df


def _rel(err: Optional[float], ref: Optional[float]) -> Optional[float]:
    if err is None or ref is None:
        return None
    return err / abs(ref) if ref != 0 else (0.0 if err == 0 else math.inf)


def gradient_table(run: Run) -> pd.DataFrame:
    rows = []
    for cr in run.runs:
        ref = cr.results.get(cr.reference)
        ref_exact = ref.details.exact if ref is not None and ref.details else {}
        expect = cr.case.expect
        for method, r in cr.results.items():
            for var in cr.case.wrt:
                g = r.gradient.get(var)
                rv = ref.gradient.get(var) if ref is not None else None
                err = abs(g - rv) if g is not None and rv is not None else None
                rows.append({
                    "case": cr.case.name, "method": method, "variable": var,
                    "gradient": g, "reference": rv, "reference_method": cr.reference or None,
                    "reference_exact": float_names(ref_exact.get(var)),
                    "abs_error": err, "rel_error": _rel(err, rv),
                    "cs231n_rel_error": relative_error(g, rv),
                    "tolerance": r.numeric.tolerance.get(var) if r.numeric else None,
                    "left_difference": _side(r, var, 0),
                    "right_difference": _side(r, var, 1),
                    "between": cr.between.get(var) if method == "numeric" else None,
                    "agrees": cr.agrees.get(method) if method != cr.reference else None,
                    "expected": expect.gradient.get(var) if expect else None,
                    "status": r.status,
                })
    return pd.DataFrame(rows, columns=[
        "case", "method", "variable", "gradient", "reference", "reference_method",
        "reference_exact", "abs_error", "rel_error", "cs231n_rel_error", "tolerance",
        "left_difference", "right_difference", "between", "agrees", "expected", "status"])


def _side(r, var: str, k: int) -> Optional[float]:
    """The numeric method's one-sided difference at a kink: 0 from the left, 1 the right."""
    sides = r.numeric.sides.get(var) if r.numeric else None
    return None if sides is None else sides[k]


COST_COLUMNS = ["case", "method", "status", "derivatives", "multiplications", "additions",
                "evaluations", "passes", "total", "predicted", "partial", "sympy_size_raw", "sympy_size_cse", "seconds", "node",
                "note"]


def partial_counts(r: Result) -> bool:
    """Counts of a method that stopped early (a domain error or an infinite slope met in the
    sweep): the work done until it stopped, not the cost of a full run."""
    return (r.counts is not None and not r.predicted
            and (r.status not in HAS_GRADIENT or None in r.gradient.values()))


def cost_table(run: Run) -> pd.DataFrame:
    rows = []
    for cr in run.runs:
        for method, r in cr.results.items():
            c = r.counts
            rows.append({
                "case": cr.case.name, "method": method, "status": r.status,
                "derivatives": c.derivatives if c else None,
                "multiplications": c.multiplications if c else None,
                "additions": c.additions if c else None,
                "evaluations": c.evaluations if c else None,
                "passes": c.passes if c else None,
                "total": c.total if c else None,
                "predicted": r.predicted,
                "partial": partial_counts(r),
                "sympy_size_raw": r.details.size_raw if r.details else None,
                "sympy_size_cse": r.details.size_cse if r.details else None,
                "seconds": r.seconds, "node": r.node, "note": r.note,
            })
    return tidy_frame(rows, COST_COLUMNS, ("derivatives", "multiplications", "additions",
                                           "evaluations", "passes", "total", "sympy_size_raw", "sympy_size_cse"))


CASE_COLUMNS = ["case", "file", "title", "tags", "inputs", "nodes", "edges", "paths",
                "forward_ops", "naive_total", "backprop_total", "naive_over_backprop",
                "backprop_over_forward", "forward_mode_total", "forward_mode_over_backprop", "reference", "all_agree", "expect_matched", "kink",
                "ill_conditioned", "passed", "problems"]


def case_table(run: Run) -> pd.DataFrame:
    rows = []
    for cr in run.runs:
        naive = cr.results.get("naive")
        back = cr.results.get("backprop")
        nt = naive.counts.total if naive and naive.counts else None
        bt = back.counts.total if back and back.counts and back.ok else None
        if back and (not back.ok or partial_counts(back)):
            bt = None     # a stopped sweep's counts are not the cost of the method
        if naive and naive.status != "over_budget" and partial_counts(naive):
            nt = None
        fwd = cr.results.get("forward")
        ft = fwd.counts.total if fwd and fwd.counts and fwd.ok else None
        rows.append({
            "case": cr.case.name, "file": cr.case.file, "title": cr.case.title,
            "tags": ",".join(cr.case.tags), "inputs": len(cr.case.wrt),
            "nodes": cr.shape.nodes, "edges": cr.shape.edges, "paths": cr.shape.paths,
            "forward_ops": cr.forward_ops, "naive_total": nt, "backprop_total": bt,
            "naive_over_backprop": ratio(nt, bt) if nt is not None and bt else None,
            "backprop_over_forward": ratio(bt, cr.forward_ops) if bt is not None else None,
            "forward_mode_total": ft,
            "forward_mode_over_backprop": ratio(ft, bt) if ft is not None and bt else None,
            "reference": cr.reference or None, "all_agree": cr.all_agree,
            "expect_matched": cr.expect_matched, "kink": cr.kink,
            "ill_conditioned": bool(cr.ill_conditioned), "passed": cr.passed,
            "problems": "; ".join(cr.problems),
        })
    return tidy_frame(rows, CASE_COLUMNS, ("nodes", "edges", "paths", "forward_ops",
                                           "naive_total", "backprop_total",
                                           "forward_mode_total"))


def rejected_table(errors: Iterable[GradcompareError]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"file": e.file, "line": e.line, "case": e.case, "field": e.field,
          "message": e.message, "error": str(e)} for e in errors],
        columns=["file", "line", "case", "field", "message", "error"])


TABLES = {"cases": case_table, "costs": cost_table, "gradients": gradient_table}


def _plain(value: Any) -> Any:
    """A cell as a plain Python value for JSON: exact ints and floats, None for missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()      # numpy / pandas scalars
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


@contextlib.contextmanager
def exact_integers() -> Iterator[None]:
    """Let integers of any length become text for a moment (Python refuses past 4,300 digits
    by default, a guard against slow conversions of untrusted input; these are our counts,
    and the exact formats promise every digit)."""
    get = getattr(sys, "get_int_max_str_digits", None)
    if get is None:   # before Python 3.11 there is no limit
        yield
        return
    old = get()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def to_json(df: pd.DataFrame) -> str:
    """Records as JSON: floats round-trip exact, counts exact, non-finite floats as the strings
    "nan", "inf", "-inf" (JSON has no such numbers), missing values as null."""
    records = [{col: _plain(v) for col, v in zip(df.columns, row)}
               for row in df.itertuples(index=False, name=None)]
    with exact_integers():
        text = json.dumps(records, ensure_ascii=False, indent=2)
    # Still valid JSON with the same values: only the way these characters are written changes.
    return _INVISIBLE.sub(lambda m: _json_escape(m.group()), text) + "\n"


def _json_escape(ch: str) -> str:
    """`\\uXXXX` for one character; a pair of surrogate escapes beyond the BMP, as JSON has."""
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters JSON may carry raw but a terminal or an editor would obey: bidi controls,
# invisible format characters, C1 controls, line and paragraph separators.
_INVISIBLE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
                        "\ufff9-\ufffb\U000e0000-\U000e007f]")


def csv_text(value: str) -> str:
    """The CSV policy for text cells (numbers are written exactly and never changed):
    characters that are not printable (ESC, BEL, NUL, bidi overrides, …) become their visible
    U+XXXX code, and a cell that a spreadsheet would run as a formula (starting with = + - @,
    a tab or a carriage return) gets a leading apostrophe, as OWASP recommends."""
    text = printable(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(df: pd.DataFrame) -> str:
    """CSV with round-trip exact floats (`repr`) and exact integers; text cells follow
    `csv_text`."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(df.columns)
    with exact_integers():
        for row in df.itertuples(index=False, name=None):
            writer.writerow(["" if v is None else repr(v) if isinstance(v, float)
                             else csv_text(v) if isinstance(v, str) else v
                             for v in map(_plain, row)])
    return buf.getvalue()


def _readable(value: Any) -> Any:
    """A cell for the terminal table: text with control characters shown as U+XXXX, counts
    past 10^15 as `≈ 1.18 × 10^21 (22 digits)` (pandas would print every digit, or refuse past
    4,300)."""
    from .fmt import EXACT_BELOW, count_text

    if isinstance(value, str):
        return printable(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= EXACT_BELOW:
        return count_text(value)
    return value


def render(df: pd.DataFrame, fmt: str) -> str:
    """A table as text: csv, json (exact), markdown, or an aligned terminal table."""
    if fmt == "csv":
        return to_csv(df)
    if fmt == "json":
        return to_json(df)
    if fmt == "markdown":
        from .markdown import md_table

        return md_table(df.values.tolist(), list(df.columns)) + "\n"
    shown = df.map(_readable)
    with pd.option_context("display.max_rows", None, "display.max_columns", None,
                           "display.width", 200, "display.max_colwidth", 40):
        return shown.to_string(index=False) + "\n"


def descent_table(trajectories: Sequence[Any]) -> pd.DataFrame:
    """The tidy trajectory table of compare.descent's runs: one row per (optimizer, step)."""
    params = trajectories[0].parameters if trajectories else []
    records = []
    for tr in trajectories:
        for s in tr.steps:
            rec: dict[str, Any] = {"optimizer": tr.optimizer, "step": s.step}
            rec.update({p: s.theta.get(p) for p in params})
            rec.update({"loss": s.loss, "grad_norm": s.grad_norm, "operations": s.operations,
                        "status": s.status, "note": s.note})
            records.append(rec)
    columns = ["optimizer", "step", *params, "loss", "grad_norm", "operations", "status",
               "note"]
    return tidy_frame(records, columns, ("step", "operations"))   # counts of any size, exact
