"""Display formulas of the partials, drawn from the table's expression-language text.

Each primitive writes its partials in the expression language (`1/(2*sqrt(a))`); this module
parses that text with compare.parser (never evaluates it) and draws it as mathematics with
{a}, {b}, {out} placeholders (`1/(2·√{a})`), the form handouts fill in.  It sits above the
table, the graph and the parser, so none of them imports it back.
"""

from __future__ import annotations

from functools import lru_cache

from .graph import Graph, constant_text
from .parser import parse
from .primitives import ATOM, CALL, PRIMITIVES, SUM, Primitive, leaf_precedence


@lru_cache(maxsize=None)
def _display(name: str) -> tuple[str, ...]:
    prim = PRIMITIVES[name]
    if prim.display_override:
        return prim.display_override
    return tuple(render_formula(text) for text in prim.partial_formulas)


def display(prim: Primitive) -> tuple[str, ...]:
    """Display formulas of `prim`'s partials with {a}, {b}, {out} placeholders: 1/(2·√{a})."""
    return _display(prim.name)


_SUPERSCRIPTS = {2: "²", 3: "³"}


def render_formula(text: str) -> str:
    """The display form of an expression-language formula: `1/(2*sqrt(a))` -> `1/(2·√{a})`.

    The text is parsed by compare.parser (never evaluated) and drawn node by node in
    topological order with the table's symbols: variables become {placeholders}; sums are
    spaced, products, quotients and powers are not, and nothing is spaced in an exponent;
    x^2 is x², f(x)^2 is f²(x); a call whose math symbol is a sign (√) needs no parentheses
    around a leaf.
    """
    g = parse(text)
    # Per node: (spaced text, tight text, precedence).
    drawn: list[tuple[str, str, int]] = []
    for i in range(len(g)):
        if i in g.var_name:
            leaf = "{" + g.var_name[i] + "}"
            drawn.append((leaf, leaf, ATOM))
            continue
        if i in g.exact:
            leaf = constant_text(g.exact[i])
            drawn.append((leaf, leaf, leaf_precedence(leaf)))
            continue
        prim = g.primitive(i)
        assert prim is not None
        args = g.args(i)
        pair = tuple(_draw_math(g, prim, args, drawn, tight) for tight in (False, True))
        drawn.append((pair[0], pair[1], prim.precedence))
    return drawn[g.output][0]


def _draw_math(g: Graph, prim: Primitive, args: tuple[int, ...],
               drawn: list[tuple[str, str, int]], tight: bool) -> str:
    """One node of `render_formula`, from its arguments' drawings."""
    def arg(pos: int) -> str:
        spaced, compact, prec = drawn[args[pos]]
        t = compact if tight else spaced
        return f"({t})" if prim.wraps(pos, prec) else t

    if prim.math_symbol == "^":
        base, exponent = args
        power = g.exact.get(exponent)
        if power is not None and not isinstance(power, str) and power in _SUPERSCRIPTS:
            sup = _SUPERSCRIPTS[int(power)]
            inner = g.primitive(base)
            if (inner is not None and inner.notation == CALL
                    and inner.math_symbol[0].isalpha()):
                return (f"{inner.math_symbol}{sup}("
                        f"{', '.join(drawn[c][1 if tight else 0] for c in g.args(base))})")
            return arg(0) + sup
        _, compact, prec = drawn[exponent]
        return f"{arg(0)}{prim.math_symbol}" + (compact if prec == ATOM else f"({compact})")
    if prim.notation == CALL and not prim.math_symbol[0].isalpha() and prim.arity == 1 \
            and g.is_leaf(args[0]):
        return prim.math_symbol + drawn[args[0]][0]
    return prim.draw([arg(k) for k in range(len(args))], symbol=prim.math_symbol,
                     spaced=not tight and prim.precedence <= SUM)
