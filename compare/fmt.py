"""How numbers are shown to people, the same way in every report, handout and language.

Exact where the value is a short rational below 1 (1/4, 3/4, 1/3), plain for integers and short
decimals (5, -4, 2.5, 0.1), otherwise rounded to 6 significant digits (never 0.30000000000000004).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Optional

MAX_DENOMINATOR = 100


def _decimal_denominator(q: int) -> bool:
    while q % 2 == 0:
        q //= 2
    saw_five = False
    while q % 5 == 0:
        q //= 5
        saw_five = True
    return q == 1 and saw_five


def format_number(x: Optional[float], digits: int = 6) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return str(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    if abs(x) < 1:
        frac = Fraction(x).limit_denominator(MAX_DENOMINATOR)
        if float(frac) == x and not _decimal_denominator(frac.denominator):
            return f"{frac.numerator}/{frac.denominator}"
    short = repr(float(x))
    if len(short.lstrip("-")) <= digits + 2 and "e" not in short:
        return short
    return f"{x:.{digits}g}"


def plural(n: int, noun: str) -> str:
    """`1 case`, `2 cases`: a count with its noun (English; nouns that take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
