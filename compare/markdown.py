"""Markdown building blocks shared by reports, handouts and the command line.

Cells are formatted by compare.fmt and escaped by compare.escape; tables are drawn by tabulate
(GitHub's pipe format).  No pandas here: `gradcompare list` must start instantly.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

from .escape import md_cell
from .fmt import format_number


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    # pandas' NA and NaT without importing pandas: they are the only values unequal to
    # themselves whose bool() raises.
    return type(value).__name__ in ("NAType", "NaTType")


def cell(value: object) -> str:
    """One table cell: numbers by compare.fmt, text escaped, missing as —."""
    if _missing(value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return format_number(value)
    if hasattr(value, "item"):  # numpy / pandas scalars
        return cell(value.item())
    return md_cell(value)


def md_table(rows: Sequence[Sequence[object]], headers: Sequence[str],
             raw_columns: Iterable[int] = ()) -> str:
    """A markdown table; cells in `raw_columns` are already markdown."""
    from tabulate import tabulate

    raw = set(raw_columns)
    body = [[v if k in raw else cell(v) for k, v in enumerate(row)] for row in rows]
    return tabulate(body, headers=list(headers), tablefmt="pipe", disable_numparse=True,
                    colalign=["left"] * len(headers))
