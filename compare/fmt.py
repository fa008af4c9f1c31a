"""How numbers are shown to people, the same way in every report, handout and language.

Exact where the value is a short rational below 1 (1/4, 3/4, 1/3), plain for integers and short
decimals (5, -4, 2.5, 0.1), otherwise rounded to 6 significant digits (never 0.30000000000000004).
Counts are exact integers of any size (2^70 paths is an ordinary case): up to 10^15 they are
written out, beyond that as `≈ 1.18 × 10^21 (22 digits)` — computed without converting the
integer to text (Python refuses that past 4,300 digits) or to a float (which overflows).
"""

from __future__ import annotations

import math
import re
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


EXACT_BELOW = 10**15


def digit_count(n: int) -> int:
    """Decimal digits of |n|, from its bit length (no conversion to text)."""
    n = abs(n)
    if n == 0:
        return 1
    d = max(1, int((n.bit_length() - 1) * 0.30102999566398120))   # ≤ true count
    while n >= 10**d:
        d += 1
    return d


def huge_int_text(n: int, significant: int = 3) -> str:
    """`≈ 1.18 × 10^21 (22 digits)` for an integer of any size."""
    digits = digit_count(n)
    lead = abs(n) // 10 ** max(digits - significant, 0)   # the leading digits, as an int
    text = str(lead)
    mantissa = text[0] + ("." + text[1:].rstrip("0") if text[1:].rstrip("0") else "")
    sign = "−" if n < 0 else ""
    return f"≈ {sign}{mantissa} × 10^{digits - 1} ({digits:,} digits)"


def count_text(n: int) -> str:
    """An exact count with thousands separators (1,160), or `huge_int_text` past 10^15."""
    return f"{n:,}" if abs(n) < EXACT_BELOW else huge_int_text(n)


def ratio(a: int, b: int) -> Optional[float]:
    """a / b as a float for two exact counts of any size (inf when it exceeds a float)."""
    if not b:
        return None
    try:
        return a / b
    except OverflowError:
        return math.inf if (a > 0) == (b > 0) else -math.inf


def format_number(x: Optional[float], digits: int = 6) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) and abs(x) >= EXACT_BELOW:
        return huge_int_text(x)
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


_SUPERSCRIPT = str.maketrans("0123456789−-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")
_EXPONENT = re.compile(r"(\d+(?:\.\d+)?)e([+-]?)0*(\d+)")
_CARET = re.compile(r"10\^(\d+)")
_DIGITS_WORD = {"en": "digits", "vi": "chữ số"}
SEPARATE_FROM = 10**4   # integers from here on get thousands separators in pages for people


def localize(text: str, lang: str) -> str:
    """A number's text (from `format_number`) as a page in `lang` writes it.

    One minus sign (−, not the hyphen); 1e-08 as 1 × 10⁻⁸; integers from 10,000 on grouped by
    thousands; in Vietnamese the decimal comma and the thousands dot (0,1; 1.160; 2,5) and
    "chữ số" for digits.  Fractions (1/4) and words (nan, —) are left as they are.
    """
    text = _EXPONENT.sub(lambda m: f"{m[1]} × 10" + (m[2].replace("+", "") + m[3])
                         .translate(_SUPERSCRIPT), text)
    text = _CARET.sub(lambda m: "10" + m[1].translate(_SUPERSCRIPT), text)
    text = re.sub(r"(?<![\d.,])\d{5,}(?![\d.])",
                  lambda m: f"{int(m[0]):,}" if int(m[0]) >= SEPARATE_FROM else m[0], text)
    text = text.replace("-", "−")
    if lang == "vi":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
        text = text.replace(_DIGITS_WORD["en"], _DIGITS_WORD["vi"])
    return text


def number_text(x: Optional[float], lang: str, digits: int = 6) -> str:
    """`format_number` as written in a page in `lang` (see `localize`)."""
    return localize(format_number(x, digits), lang)


def percent_text(x: float, lang: str) -> str:
    """A percentage: 52.9% in English, 52,9 % in Vietnamese."""
    return number_text(x, lang) + (" %" if lang == "vi" else "%")


def plural(n: int, noun: str) -> str:
    """`1 case`, `2 cases`: a count with its noun (English; nouns that take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


_RATIO = re.compile(r"(?<![\w.])(\d+)/(\d+)(?![\w.])")


def float_names(text: Optional[str]) -> Optional[str]:
    """SymPy's exact text with each float that stands for a shorter decimal written fl(decimal).

    The reference is exact at the floats the numeric methods use, so 0.3 enters it as
    5404319552844595/18014398509481984; fl(0.3) — numerical analysis' "the float nearest to
    0.3" — says the same exactly and can be read.  Exact decimals (1/2, 3/10) stay as written;
    machine-readable output (`gradcompare export`) keeps the rationals.
    """
    if not text or "/" not in text:
        return text

    def name(m: re.Match) -> str:
        p, q = int(m[1]), int(m[2])
        if q <= 1 or q & (q - 1) or q.bit_length() > 1075 or p.bit_length() > 1100:
            return m[0]
        f = p / q
        decimal = repr(f)
        if not math.isfinite(f) or Fraction(f) != Fraction(p, q) or Fraction(decimal) == Fraction(p, q):
            return m[0]
        return f"fl({decimal})"

    return _RATIO.sub(name, text)
