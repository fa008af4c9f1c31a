"""Escaping text from case files wherever it is rendered.

Case files are untrusted: a `|`, a newline, `<script>` or a right-to-left override in a title must
change nothing but its own cell.  Markdown table cells and Mermaid labels each get one function.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Bidirectional controls and other invisible format characters are shown, not obeyed.
_FORMAT_CATEGORIES = {"Cf", "Cc", "Co", "Cs", "Zl", "Zp"}


def _visible(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\n\r\t":
            out.append(" ")
        elif unicodedata.category(ch) in _FORMAT_CATEGORIES:
            out.append(f"U+{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


# What makes a line a block in markdown when it starts it: a rule or list marker (- + *), a
# heading or setext underline (= #), a quote (>), an ordered-list number (1986. or 1986)).
_BLOCK_START = re.compile(r"([-+=>])|(\d{1,9})([.)])")


def md_cell(text: object, limit: int = 200) -> str:
    """Text for one markdown table cell (or inline text): one line, no markup, no pipes.

    Nothing in it can become inline markup; `$` (GitHub's math) and `@` (a mention) are
    escaped too.  Text that begins a line goes through `md_paragraph`.
    """
    s = _visible(str(text))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = html.escape(s, quote=False)
    for ch in "\\`*_[]|#~$":
        s = s.replace(ch, "\\" + ch)
    return s.replace("@", "&#64;")


def md_paragraph(text: object, limit: int = 2_000) -> str:
    """`md_cell` for text that begins a line (a description): whatever would turn the line into
    a block is neutralized too — `---`, `- `, `+ `, `1986. `, leading spaces (a code block)."""
    s = md_cell(str(text).lstrip(), limit)   # any leading white space, line breaks too
    m = _BLOCK_START.match(s)
    if m:
        s = ("\\" + s) if m.group(1) else f"{m.group(2)}\\{s[m.end(2):]}"
    return s


def md_code(text: object, limit: int = 2_000) -> str:
    """Text shown as inline code: backticks cannot close it early, nothing is interpreted."""
    s = _visible(str(text))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = s.replace("|", "¦")  # a literal pipe would still split a table row
    # The fence must be longer than any run of backticks inside, or that run would close it.
    longest = max((len(run) for run in re.findall("`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def mermaid_label(text: object, limit: int = 80) -> str:
    """Text inside a Mermaid node label ["..."]: quotes and markup become entity codes."""
    s = _visible(str(text))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return "".join(ch if ch.isalnum() or ch in " .,+-*/^()=:_·∂−σ√" or ord(ch) > 127
                   else f"#{ord(ch)};" for ch in s)
