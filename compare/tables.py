"""Tidy pandas tables of a run: one row per observation.

* `gradient_table` — one row per (case, method, variable)
* `cost_table`     — one row per (case, method)
* `case_table`     — one row per case
* `rejected_table` — one row per input problem

Reports and the command line render these tables; they never recompute anything.
"""

from __future__ import annotations

import math
from typing import Iterable, Optional

import pandas as pd

from .engine import Run
from .errors import GradcompareError


def _rel(err: Optional[float], ref: Optional[float]) -> Optional[float]:
    if err is None or ref is None:
        return None
    return err / abs(ref) if ref != 0 else (0.0 if err == 0 else math.inf)


def gradient_table(run: Run) -> pd.DataFrame:
    rows = []
    for cr in run.runs:
        ref = cr.results.get(cr.reference)
        ref_exact = ref.details.get("exact", {}) if ref is not None else {}
        expect = cr.case.expect
        for method, r in cr.results.items():
            for var in cr.case.wrt:
                g = r.gradient.get(var)
                rv = ref.gradient.get(var) if ref is not None else None
                err = abs(g - rv) if g is not None and rv is not None else None
                rows.append({
                    "case": cr.case.name, "method": method, "variable": var,
                    "gradient": g, "reference": rv, "reference_method": cr.reference or None,
                    "reference_exact": ref_exact.get(var),
                    "abs_error": err, "rel_error": _rel(err, rv),
                    "agrees": cr.agrees.get(method) if method != cr.reference else None,
                    "expected": expect.gradient.get(var) if expect else None,
                    "status": r.status,
                })
    return pd.DataFrame(rows, columns=[
        "case", "method", "variable", "gradient", "reference", "reference_method",
        "reference_exact", "abs_error", "rel_error", "agrees", "expected", "status"])


COST_COLUMNS = ["case", "method", "status", "derivatives", "multiplications", "additions",
                "total", "predicted", "sympy_size_raw", "sympy_size_cse", "seconds", "node",
                "note"]


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
                "total": c.total if c else None,
                "predicted": r.predicted,
                "sympy_size_raw": r.details.get("size_raw"),
                "sympy_size_cse": r.details.get("size_cse"),
                "seconds": r.seconds, "node": r.node, "note": r.note,
            })
    df = pd.DataFrame(rows, columns=COST_COLUMNS)
    for col in ("derivatives", "multiplications", "additions", "total", "sympy_size_raw",
                "sympy_size_cse"):
        df[col] = df[col].astype("Int64")
    return df


CASE_COLUMNS = ["case", "file", "title", "tags", "inputs", "nodes", "edges", "paths",
                "forward_ops", "naive_total", "backprop_total", "naive_over_backprop",
                "backprop_over_forward", "reference", "all_agree", "expect_matched", "kink",
                "passed", "problems"]


def case_table(run: Run) -> pd.DataFrame:
    rows = []
    for cr in run.runs:
        naive = cr.results.get("naive")
        back = cr.results.get("backprop")
        nt = naive.counts.total if naive and naive.counts else None
        bt = back.counts.total if back and back.counts and back.ok else None
        if back and not back.ok:
            bt = None
        if naive and naive.status not in ("ok", "nondifferentiable", "over_budget"):
            nt = None
        rows.append({
            "case": cr.case.name, "file": cr.case.file, "title": cr.case.title,
            "tags": ",".join(cr.case.tags), "inputs": len(cr.case.wrt),
            "nodes": cr.shape.nodes, "edges": cr.shape.edges, "paths": cr.shape.paths,
            "forward_ops": cr.forward_ops, "naive_total": nt, "backprop_total": bt,
            "naive_over_backprop": nt / bt if nt is not None and bt else None,
            "backprop_over_forward": bt / cr.forward_ops if bt is not None and cr.forward_ops
            else None,
            "reference": cr.reference or None, "all_agree": cr.all_agree,
            "expect_matched": cr.expect_matched, "kink": cr.kink, "passed": cr.passed,
            "problems": "; ".join(cr.problems),
        })
    df = pd.DataFrame(rows, columns=CASE_COLUMNS)
    for col in ("naive_total", "backprop_total"):
        df[col] = df[col].astype("Int64")
    return df


def rejected_table(errors: Iterable[GradcompareError]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"file": e.file, "line": e.line, "case": e.case, "field": e.field,
          "message": e.message, "error": str(e)} for e in errors],
        columns=["file", "line", "case", "field", "message", "error"])


TABLES = {"cases": case_table, "costs": cost_table, "gradients": gradient_table}
