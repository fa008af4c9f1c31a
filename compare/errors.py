"""The toolkit's own error type: every problem with input is one of these, never a traceback."""

from __future__ import annotations

from typing import Optional


def printable(text: str) -> str:
    """`text` with every character that is not printable (controls, bidi overrides, lone
    surrogates, line separators, unassigned code points) shown as its U+XXXX code, so that a
    message can neither act on a terminal nor reorder itself."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else f"U+{ord(ch):04X}" for ch in text)


def shorten(text: str, limit: int = 60) -> str:
    """User text quoted in a message: at most `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class GradcompareError(Exception):
    """A problem with input, located as precisely as we can: file, line, case, field, column.

    `str()` gives the one-line form printed to users, e.g.
    ``cases/demo.yaml:12: case 'ce-loss': at.x: expected a number, got boolean 'no'``.
    """

    kind = "error"
    # True for the second and later problems found in one case: counted once as rejected.
    same_case = False

    def __init__(self, message: str, *, file: Optional[str] = None, line: Optional[int] = None,
                 case: Optional[str] = None, field: Optional[str] = None,
                 column: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.case = case
        self.field = field
        self.column = column

    def located(self, *, file: Optional[str] = None, line: Optional[int] = None,
                case: Optional[str] = None, field: Optional[str] = None) -> "GradcompareError":
        """Fill in where the error happened, keeping what is already known."""
        self.file = self.file or file
        self.line = self.line or line
        self.case = self.case or case
        if field and self.field and not self.field.startswith(field):
            self.field = f"{field}.{self.field}"
        else:
            self.field = self.field or field
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        if self.case:
            where += f"case '{self.case}': "
        if self.field:
            where += f"{self.field}: "
        return printable(where + self.message)


class ParseError(GradcompareError):
    """Expression text outside the expression language."""

    kind = "parse"


class CaseError(GradcompareError):
    """A case file or case that does not follow the case format."""

    kind = "case"


class LimitError(GradcompareError):
    """Input larger than a configured limit (see compare.limits)."""

    kind = "limit"


def rejected_count(errors: list[GradcompareError]) -> int:
    """How many cases (or files, or selections) were rejected: a case with several problems
    counts once."""
    return sum(not err.same_case for err in errors)
