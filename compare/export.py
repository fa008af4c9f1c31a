"""The case library with exact references as one JSON document, for engines in any language.

`gradcompare export --format json` writes it.  Every number is given as a float and, where
it is known exactly, as text beside it (`{"float": 0.5, "exact": "1/2"}`; a rational is
written `p/q`, other exact values in SymPy's notation such as `8*log(2)`).  The references are
exact at the floats (the point convention of compare.methods.symbolic): a coordinate written
0.1 is `{"float": 0.1, "exact": "3602879701896397/36028797018963968", "written": "0.1"}`.  A non-finite float
(the infinite one-sided slope of sqrt at 0) is the string "inf", "-inf" or "nan".  Each case
holds its nodes in topological order (only those its output depends on), so an engine replays
them one by one and sees the case's sharing.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Optional

from . import __version__
from .conformance import Reference, reference_of
from .engine import Run
from .engines.program import LEAF_CONST, LEAF_VAR, program_of
from .primitives import PRIMITIVES

FORMAT = "gradcompare-cases"
FORMAT_VERSION = 1


def number(x: Optional[float], exact: Optional[str] = None) -> Optional[dict[str, Any]]:
    """{"float": x, "exact": text}; non-finite floats as strings; None stays None."""
    if x is None:
        return None
    x = float(x) + 0.0   # no "-0.0"
    out: dict[str, Any] = {"float": x if math.isfinite(x) else repr(x)}
    if exact is not None:
        out["exact"] = exact
    return out


def _coordinate(x: float) -> Optional[dict[str, Any]]:
    """A point's coordinate: its float, that float's exact rational (where the references are
    exact), and the decimal the case wrote where that is not the float exactly."""
    out = number(x, str(Fraction(float(x))))
    text = getattr(x, "text", None)
    if out is not None and text is not None and Fraction(float(x)) != _decimal(text):
        out["written"] = text
    return out


def _decimal(text: str) -> Optional[Fraction]:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def _reference(ref: Reference) -> dict[str, Any]:
    if ref.value is None:
        return {"available": False, "reason": ref.reason}
    out: dict[str, Any] = {
        "available": True, "source": ref.source,
        "value": number(ref.value, ref.exact_value),
        "gradient": {v: number(g, ref.exact_gradient.get(v)) for v, g in ref.gradient.items()},
        "rel_tol": ref.rel_tol, "abs_tol": ref.abs_tol, "kink": ref.kink}
    if ref.kink:
        out["one_sided"] = {v: [number(left), number(right)]
                            for v, (left, right) in ref.one_sided.items()}
    return out


def document(run: Run) -> dict[str, Any]:
    """The JSON document of a library run with backprop and sympy (see the module doc)."""
    cases = []
    for cr in run.runs:
        case = cr.case
        program = program_of(case.graph, case.at, case.wrt)
        nodes: list[dict[str, Any]] = []
        for k, (op, a, b) in enumerate(program.ops):
            if op == LEAF_VAR:
                nodes.append({"op": "var", "name": program.names[k]})
            elif op == LEAF_CONST:
                nodes.append({"op": "const",
                              "value": number(program.consts[k], program.exact.get(k))})
            else:
                nodes.append({"op": op, "args": [a] if b < 0 else [a, b]})
        cases.append({
            "name": case.name, "title": case.title, "description": case.description,
            "tags": list(case.tags), "definition": case.text,
            "at": {v: _coordinate(x) for v, x in case.at.items()},
            "wrt": list(case.wrt), "nodes": nodes, "output": len(nodes) - 1,
            "reference": _reference(reference_of(cr))})
    operations = {p.name: {"arity": p.arity, "kink": p.kink_note or None}
                  for p in PRIMITIVES.values()}
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "gradcompare": __version__,
            "operations": operations, "cases": cases,
            "rejected": [str(e) for e in run.errors]}
