"""Expression text -> graph, by a small tokenizer and an operator-precedence (shunting-yard) parser.

Case text is never evaluated: no eval, exec, sympify or parse_expr sees it.  The parser only
knows the expression language (numbers, ASCII names, + - * / ** ^, unary signs, parentheses,
the functions of the primitive table, the constants pi and e); anything else is a ParseError
naming what was found and at which column.  It uses explicit stacks, so nesting depth costs no
recursion (depth is still limited, by compare.limits, to keep the symbolic method sane).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from fractions import Fraction
from typing import Iterable, Mapping, Optional, Union

from .errors import LimitError, ParseError
from .graph import Graph
from .limits import DEFAULT_LIMITS, Limits
from .primitives import BINARY_OPERATORS, CONSTANTS, FUNCTIONS, PRIMITIVES, RIGHT

_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NAME_RULE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_SYMBOLS = ("**", "+", "-", "*", "/", "^", "(", ")", ",")

# Binary operators: precedence and right-associativity, the table's (the drawings use the same,
# so drawn text parses back).  Unary signs sit between * and **, as in Python: -x**2 is -(x**2)
# and 2**-x is 2**(-x).
_PRECEDENCE = {sym: p.precedence for sym, p in BINARY_OPERATORS.items()}
_RIGHT = {sym for sym, p in BINARY_OPERATORS.items() if p.associativity == RIGHT}
_UNARY_PRECEDENCE = PRIMITIVES["neg"].precedence

KNOWN_FUNCTIONS = ", ".join(FUNCTIONS)
# Symbols pasted from typeset text, with what the expression language writes instead.
_LOOK_ALIKES = {"\u2212": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u00d7": "*",
                "\u22c5": "*", "\u00b7": "*", "\u2217": "*", "\u00f7": "/", "\u2215": "/",
                "\uff0b": "+", "\uff0d": "-", "\uff0a": "*", "\uff0f": "/", "\uff08": "(",
                "\uff09": ")", "\u00b2": "**2", "\u00b3": "**3", "\u03c0": "pi"}


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "unnamed character")
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}' (U+{ord(ch):04X} {name})"
    return f"U+{ord(ch):04X} {name}"


def tokenize(text: str, limits: Limits = DEFAULT_LIMITS) -> list[tuple[str, str, int]]:
    """Split text into (kind, text, column) tokens; columns count from 1."""
    tokens: list[tuple[str, str, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
            continue
        col = i + 1
        m = _NUMBER.match(text, i)
        if m:
            literal = m.group()
            if len(literal) > limits.max_number_chars:
                raise LimitError(f"number at column {col} has {len(literal)} characters; the "
                                 f"limit is {limits.max_number_chars}", column=col)
            end = m.end()
            if end < n and (text[end].isalpha() or text[end] == "_"):
                raise ParseError(f"number {literal!r} at column {col} is followed by "
                                 f"'{text[end]}'; write a * between them", column=col)
            tokens.append(("num", literal, col))
            i = end
            continue
        m = _NAME.match(text, i)
        if m:
            tokens.append(("name", m.group(), col))
            i = m.end()
            continue
        for sym in _SYMBOLS:
            if text.startswith(sym, i):
                tokens.append(("op", sym, col))
                i += len(sym)
                break
        else:
            hint = ""
            if ch in _LOOK_ALIKES:
                hint = f"; write '{_LOOK_ALIKES[ch]}' instead"
            elif ord(ch) > 127 and unicodedata.category(ch).startswith("L"):
                hint = "; names are ASCII letters, digits and _ (a look-alike letter?)"
            elif ord(ch) > 127 and unicodedata.category(ch).startswith("N"):
                hint = "; numbers are written with the ASCII digits 0-9"
            elif ch == "=":
                hint = "; an expression has no assignments or comparisons"
            raise ParseError(f"unexpected character {_describe(ch)} at column {col}{hint}",
                             column=col)
    return tokens


def _literal(tok: str, col: int) -> tuple[float, Fraction]:
    """A numeric literal's float and exact value, refusing what a float cannot hold.

    The exponent is checked before Fraction sees the text: Fraction('1e-999999999') would
    compute 10**999999999 and never finish.
    """
    mantissa, _, exponent = tok.lower().partition("e")
    if not mantissa.strip("0."):
        return 0.0, Fraction(0)
    if exponent and abs(int(exponent)) > 400:
        size = "large" if int(exponent) > 0 else "small"
        raise ParseError(f"number {tok} at column {col} is too {size} for a float", column=col)
    value = float(tok)
    if not math.isfinite(value):
        raise ParseError(f"number {tok} at column {col} is too large for a float", column=col)
    if value == 0.0:
        raise ParseError(f"number {tok} at column {col} is too small for a float (it would be "
                         f"0)", column=col)
    return value, Fraction(tok)


def _check_name(name: str, col: int) -> None:
    if not NAME_RULE.match(name):
        raise ParseError(f"name '{name}' at column {col} is not allowed; names start with a "
                         f"letter", column=col)


def parse_into(graph: Graph, text: str, env: Optional[Mapping[str, int]] = None,
               limits: Limits = DEFAULT_LIMITS) -> int:
    """Parse `text` into `graph` and return the node of its value.

    `env` maps step names defined earlier to their nodes; other names become variables.
    """
    if not isinstance(text, str):
        raise ParseError(f"expected expression text, got {type(text).__name__}")
    if len(text) > limits.max_expression_chars:
        raise LimitError(f"expression has {len(text)} characters; the limit is "
                         f"{limits.max_expression_chars}")
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    tokens = tokenize(text, limits)
    if not tokens:
        raise ParseError("empty expression")
    env = env or {}

    operands: list[int] = []
    # Operator stack entries: (kind, symbol, column, precedence).  kind is 'bin', 'un', '(' or
    # 'fn' (a function's opening parenthesis); argcounts parallels open parentheses.
    stack: list[tuple[str, str, int, int]] = []
    argcounts: list[int] = []
    depth = 0
    expect_operand = True

    def reduce(entry: tuple[str, str, int, int]) -> None:
        kind, sym, col, _ = entry
        if kind == "un":
            x = operands.pop()
            if sym == "-":
                if x in graph.exact and isinstance(graph.exact[x], Fraction):
                    operands.append(graph.constant(-graph.const[x], -graph.exact[x]))
                else:
                    operands.append(graph.apply("neg", x))
            else:
                operands.append(x)
        else:
            y = operands.pop()
            x = operands.pop()
            operands.append(graph.apply(BINARY_OPERATORS[sym].name, x, y))
        if len(graph) > limits.max_nodes:
            raise LimitError(f"the graph has more than {limits.max_nodes} nodes")

    k = 0
    while k < len(tokens):
        kind, tok, col = tokens[k]
        if expect_operand:
            if kind == "num":
                value, exact = _literal(tok, col)
                operands.append(graph.constant(value, exact))
                expect_operand = False
            elif kind == "name":
                nxt = tokens[k + 1] if k + 1 < len(tokens) else None
                if nxt is not None and nxt[1] == "(":
                    if tok not in FUNCTIONS:
                        close = difflib.get_close_matches(tok.lower(), FUNCTIONS, n=1)
                        hint = (f" (did you mean '{close[0]}'?)" if close else
                                f"; known: {KNOWN_FUNCTIONS}")
                        raise ParseError(f"unknown function '{tok}' at column {col}{hint}",
                                         column=col)
                    depth += 1
                    if depth > limits.max_nesting:
                        raise LimitError(f"nesting deeper than {limits.max_nesting} at column "
                                         f"{col}", column=col)
                    stack.append(("fn", tok, col, 0))
                    argcounts.append(1)
                    k += 2
                    if k < len(tokens) and tokens[k][1] == ")":
                        raise ParseError(f"{tok}() at column {col} needs "
                                         f"{FUNCTIONS[tok].arity} argument(s)", column=col)
                    continue
                if tok in FUNCTIONS:
                    raise ParseError(f"'{tok}' at column {col} is a function; call it as "
                                     f"{tok}(...)", column=col)
                if tok in env:
                    operands.append(env[tok])
                elif tok in CONSTANTS:
                    operands.append(graph.named_constant(tok))
                else:
                    _check_name(tok, col)
                    operands.append(graph.variable(tok))
                expect_operand = False
            elif tok == "(":
                depth += 1
                if depth > limits.max_nesting:
                    raise LimitError(f"nesting deeper than {limits.max_nesting} at column {col}",
                                     column=col)
                stack.append(("(", tok, col, 0))
            elif tok in ("+", "-"):
                stack.append(("un", tok, col, _UNARY_PRECEDENCE))
            else:
                found = "the end" if tok is None else f"'{tok}'"
                raise ParseError(f"expected a number, a name or '(' at column {col}, found "
                                 f"{found}", column=col)
        else:
            if kind == "op" and tok in _PRECEDENCE:
                prec = _PRECEDENCE[tok]
                while stack and stack[-1][0] in ("bin", "un") and (
                        stack[-1][3] > prec or (stack[-1][3] == prec and tok not in _RIGHT)):
                    reduce(stack.pop())
                stack.append(("bin", tok, col, prec))
                expect_operand = True
            elif tok in (")", ","):
                while stack and stack[-1][0] in ("bin", "un"):
                    reduce(stack.pop())
                if not stack:
                    raise ParseError(f"unmatched '{tok}' at column {col}", column=col)
                opener = stack[-1]
                if tok == ",":
                    if opener[0] != "fn":
                        raise ParseError(f"',' at column {col} outside a function call",
                                         column=col)
                    argcounts[-1] += 1
                    expect_operand = True
                else:
                    stack.pop()
                    depth -= 1
                    if opener[0] == "fn":
                        fn = FUNCTIONS[opener[1]]
                        count = argcounts.pop()
                        if count != fn.arity:
                            raise ParseError(
                                f"{fn.name}() at column {opener[2]} takes {fn.arity} "
                                f"argument{'s' if fn.arity > 1 else ''}, got {count}",
                                column=opener[2])
                        args = operands[-count:]
                        del operands[-count:]
                        operands.append(graph.apply(fn.name, *args))
                        if len(graph) > limits.max_nodes:
                            raise LimitError(f"the graph has more than {limits.max_nodes} nodes")
            else:
                what = f"name '{tok}'" if kind == "name" else f"'{tok}'"
                hint = "; write * for multiplication" if kind in ("name", "num") or tok == "(" \
                    else ""
                raise ParseError(f"expected an operator at column {col}, found {what}{hint}",
                                 column=col)
        k += 1

    if expect_operand:
        raise ParseError(f"expression ends early at column {len(text) + 1}: expected a number, "
                         f"a name or '('", column=len(text) + 1)
    while stack:
        entry = stack.pop()
        if entry[0] in ("(", "fn"):
            raise ParseError(f"'(' at column {entry[2]} is never closed", column=entry[2])
        reduce(entry)
    assert len(operands) == 1
    return operands[0]


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Graph:
    """Parse one expression into a new graph whose output is its value.

    >>> g = parse("(x + y) * z"); list(g.variables)
    ['x', 'y', 'z']
    """
    graph = Graph()
    graph.output = parse_into(graph, text, limits=limits)
    return graph.seal()


StepsLike = Union[Mapping[str, str], Iterable[tuple[str, str]]]


def parse_steps(steps: StepsLike, limits: Limits = DEFAULT_LIMITS) -> Graph:
    """Parse ordered named steps (f1: x + y, f2: f1 * z); the last step is the output.

    Each step's name labels its node, as the lecture labels f1 and f2.
    """
    items = list(steps.items()) if isinstance(steps, Mapping) else list(steps)
    if not items:
        raise ParseError("steps: expected at least one step")
    if len(items) > limits.max_steps:
        raise LimitError(f"{len(items)} steps; the limit is {limits.max_steps}")
    graph = Graph()
    env: dict[str, int] = {}
    for name, text in items:
        if not isinstance(name, str) or not NAME_RULE.match(name):
            raise ParseError(f"step name {name!r} is not a name (a letter, then letters, "
                             f"digits or _)", field=f"steps.{name}")
        if name in FUNCTIONS or name in CONSTANTS:
            raise ParseError(f"step name '{name}' is reserved (a function or constant)",
                             field=f"steps.{name}")
        if name in env:
            raise ParseError(f"step '{name}' is defined twice", field=f"steps.{name}")
        if name in graph.variables:
            raise ParseError(f"step '{name}' is defined after being used as a variable",
                             field=f"steps.{name}")
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = repr(text)
        try:
            node = parse_into(graph, text, env, limits)
        except ParseError as err:
            raise err.located(field=f"steps.{name}")
        except LimitError as err:
            raise err.located(field=f"steps.{name}")
        if name in graph.variables:
            raise ParseError(f"step '{name}' uses itself; a step may use only the steps before "
                             f"it", field=f"steps.{name}")
        env[name] = node
        if not graph.is_leaf(node):
            graph.label(node, name)
    graph.output = env[items[-1][0]]
    return graph.seal()
