"""The one table of primitive operations.

Every operation gradcompare knows is declared here, once, and checked when declared
(`check_primitive`): how to evaluate it, its local partial derivatives as numbers and as
formulas, how it is written and drawn (notation, symbol, precedence, associativity), its SymPy
counterpart, where it is defined and where it has a kink.  Parser, forward pass, every
differentiation method, the SymPy translation, the drawings and the handouts all read this table;
adding an operation means adding one entry below.

The formulas of the partials are written in the expression language itself (the one
compare.parser reads), in terms of `a`, `b` (the arguments) and `out` (the output's value), so a
test parses and evaluates them against the numeric partials and the two cannot drift.  The human
display form (compare.formulas.display, e.g. `1/(2·√{a})`) is derived from that text.  The only
exceptions are indicator functions the language cannot write (relu, abs, max, min): they give
their display text in `display_override`, and their partials are checked by the convention tests
instead.

SymPy is not imported here: an entry names its SymPy counterpart (`sympy_rule`, `kink_atoms`,
`Constant.sympy_name`), and compare.sympy_bridge resolves the names when symbolic work runs, so
commands that never reach SymPy do not pay for importing it.  Likewise numpy: each entry's
`batched` rule (the operation and its partials on arrays of points, for compare.batched) takes
the numpy module as its first argument, so the table itself imports nothing heavy.

Conventions at kinks (what the numeric methods use, the same as PyTorch):
relu'(0) = 0, abs'(0) = 0, max/min at a tie pass 1/2 of the gradient to each argument,
sqrt'(0) is infinite (reported as not differentiable), and so is a^b's slope at a = 0 when
0 < b < 1 (x ** 0.5 is sqrt(x)).
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence, Union

Number = float
# The places a primitive can have a kink, declared rather than coded so that the forward pass can
# rule kinks out for a whole graph at once (no value is 0: no AT_ZERO kink anywhere).
AT_ZERO = "a = 0"     # at argument 0: relu, abs, sqrt
AT_TIE = "a = b"      # where the two arguments are equal: max, min
AT_ROOT = "a = 0 < b < 1"   # a root at its base 0: pow (x ** 0.5 is sqrt(x) there)
# A local partial derivative: (a, b, out) -> d out / d arg.  b is None for unary primitives.
Partial = Callable[[float, Optional[float], float], float]
# A SymPy counterpart: the name of a SymPy function ("exp"), or (sympy module, *args) -> expr.
SympyRule = Union[str, Callable[..., Any]]


class BatchedRule(NamedTuple):
    """The operation on numpy arrays, point by point (compare.batched runs it).

    `evaluate(np, a, b)` and each partial `(np, a, b, out)` get the numpy module first (numpy is
    imported only by the batched evaluator) and arrays or floats for the arguments (b is None
    for a unary operation).  Where the scalar entry raises (outside the domain, an overflow) the
    batched one returns inf or nan at that point instead: the evaluator reports it per point.
    A partial may return a plain float (1.0 for add) when it does not depend on the point.
    """

    evaluate: Callable[..., Any]
    partials: tuple[Callable[..., Any], ...]

# How an operation is written: between its two arguments, before its one argument, or called.
INFIX, PREFIX, CALL = "infix", "prefix", "call"
# How an infix operation groups with itself: (a − b) − c is a − b − c (LEFT), a^(b^c) is a^b^c
# (RIGHT), and a + (b + c) is a + b + c (BOTH).
LEFT, RIGHT, BOTH = "left", "right", "both"
# Binding strengths (higher binds tighter), shared by the parser and every drawing.  Unary minus
# sits between * and **, as in Python: -x**2 is -(x**2).
SUM, PRODUCT, SIGN, POWER, ATOM = 1, 2, 3, 4, 10
# The characters of the expression language (what a partial's formula may contain).
_LANGUAGE = re.compile(r"[0-9A-Za-z_+\-*/^()., ]+\Z")
_NAME = re.compile(r"(?<![0-9.])[A-Za-z_][A-Za-z0-9_]*")
# A formula's own variables: the arguments and the output's value.
FORMULA_NAMES = ("a", "b", "out")


class TableError(ValueError):
    """A primitive's table entry contradicts itself or the table (raised at import)."""


@dataclass(frozen=True)
class Primitive:
    """One operation: everything any method, drawing or translation needs, in one place."""

    name: str
    arity: int
    evaluate: Callable[..., float]
    partials: tuple[Partial, ...]
    # The partials as expression-language text in a, b and out ("1/(2*sqrt(a))"), one per
    # argument; empty when `display_override` gives the display instead.
    partial_formulas: tuple[str, ...]
    sympy_rule: SympyRule
    notation: str = CALL
    # Infix operator or prefix sign as drawn ('+', '·', '−'); a call is drawn with its name.
    symbol: str = ""
    precedence: int = ATOM
    associativity: str = LEFT
    # How the display formulas write a call when it differs from its name: ln, σ, √.
    math_symbol: str = ""
    # How a case writes an infix operator ('**' and '^' for pow).
    spellings: tuple[str, ...] = ()
    # Display text of the partials, with {a}, {b} and {out} placeholders, for partials the
    # expression language cannot write (indicators like [a > 0]); not checked numerically.
    display_override: tuple[str, ...] = ()
    # Returns a reason when (a, b) is outside the domain, else None.
    domain: Callable[[float, Optional[float]], Optional[str]] = lambda a, b: None
    # Where the operation is not differentiable (a kink): AT_ZERO, AT_TIE or "" (nowhere).  The
    # partials there give the convention stated in `kink_note`.
    kink_at: str = ""
    kink_note: str = ""
    # Directional derivative at a kink: (a, b, tangent_a, tangent_b) -> tangent of the output.
    # Used to report the exact one-sided derivatives there.
    kink_tangent: Optional[Callable[[float, Optional[float], float, float], float]] = None
    # The SymPy functions its symbolic derivative introduces at the kink (Heaviside for relu,
    # sign for abs): a derivative holding one of them with argument 0 sits on a kink.
    kink_atoms: tuple[str, ...] = ()
    aliases: tuple[str, ...] = field(default=())
    # The same operation and partials on numpy arrays of points (compare.batched).
    batched: Optional[BatchedRule] = None

    def __post_init__(self) -> None:
        if self.notation == CALL and not self.symbol:
            object.__setattr__(self, "symbol", self.name)
        if not self.math_symbol:
            object.__setattr__(self, "math_symbol", self.symbol)

    @property
    def infix(self) -> bool:
        return self.notation == INFIX

    def kink(self, a: float, b: Optional[float]) -> bool:
        """True where the operation is not differentiable at (a, b)."""
        if self.kink_at == AT_ZERO:
            return a == 0
        if self.kink_at == AT_TIE:
            return a == b
        if self.kink_at == AT_ROOT:
            return a == 0 and b is not None and 0 < b < 1
        return False

    def wraps(self, position: int, child_precedence: int) -> bool:
        """Does the argument at `position`, binding with `child_precedence`, need parentheses?"""
        if self.notation == CALL or child_precedence > self.precedence:
            return False
        if child_precedence < self.precedence:
            return True
        if self.notation == PREFIX:
            return False
        return self.associativity not in (BOTH, LEFT if position == 0 else RIGHT)

    def draw(self, args: Sequence[str], symbol: Optional[str] = None, spaced: bool = True
             ) -> str:
        """The operation written with its (already parenthesized) arguments: `x + y`, `−x`,
        `exp(x)`."""
        sym = self.symbol if symbol is None else symbol
        if self.notation == INFIX:
            return f"{args[0]} {sym} {args[1]}" if spaced else f"{args[0]}{sym}{args[1]}"
        if self.notation == PREFIX:
            return f"{sym}{args[0]}"
        return f"{sym}({', '.join(args)})"


class Constant(NamedTuple):
    """A named constant: its float value, and the name of its exact SymPy counterpart."""

    value: float
    sympy_name: str


def check_primitive(p: Primitive, table: Mapping[str, Primitive]) -> None:
    """Raise TableError if the entry contradicts itself or the entries already in `table`.

    Checked at import, so a bad entry stops the program before any case runs into it.
    """
    def bad(problem: str) -> TableError:
        return TableError(f"primitive '{p.name}': {problem}")

    if not re.fullmatch(r"[a-z][a-z0-9_]*", p.name):
        raise bad("the name must be a lower-case identifier")
    taken = {n for q in table.values() for n in (q.name, *q.aliases)}
    if p.name in taken or any(alias in taken for alias in p.aliases):
        raise bad("the name or an alias is already declared")
    if p.arity not in (1, 2):
        raise bad(f"arity {p.arity}; only 1 and 2 are supported")
    if not callable(p.evaluate) or not callable(p.domain):
        raise bad("evaluate and domain must be callable")
    if len(p.partials) != p.arity or not all(callable(d) for d in p.partials):
        raise bad(f"{len(p.partials)} partials for arity {p.arity}")
    if bool(p.partial_formulas) == bool(p.display_override):
        raise bad("give the partials' formulas either as partial_formulas or as "
                  "display_override, not both or neither")
    for text in p.partial_formulas:
        _check_formula(p, text, bad)
    for text in p.display_override:
        try:
            text.format(a="a", b="b", out="out")
        except (KeyError, IndexError, ValueError) as err:
            raise bad(f"display_override {text!r} has a placeholder other than "
                      f"{{a}}, {{b}}, {{out}}") from err
        if p.arity == 1 and "{b}" in text:
            raise bad(f"display_override {text!r} uses {{b}} but the operation is unary")
    if len(p.partial_formulas or p.display_override) != p.arity:
        raise bad(f"{len(p.partial_formulas or p.display_override)} formulas for arity "
                  f"{p.arity}")
    if p.notation == INFIX:
        if p.arity != 2 or not p.symbol or not p.spellings:
            raise bad("an infix operation has two arguments, a symbol and its spellings")
        if not SUM <= p.precedence < ATOM:
            raise bad(f"infix precedence {p.precedence} outside {SUM}..{ATOM - 1}")
        if not all(re.fullmatch(r"[+\-*/^]+", s) for s in p.spellings):
            raise bad(f"spellings {p.spellings} are not operator characters")
        used = {s for q in table.values() for s in q.spellings}
        if used & set(p.spellings):
            raise bad(f"spelling(s) {sorted(used & set(p.spellings))} already declared")
    elif p.notation == PREFIX:
        if p.arity != 1 or not p.symbol or not SUM <= p.precedence < ATOM:
            raise bad("a prefix operation has one argument, a symbol and a precedence "
                      f"below {ATOM}")
    elif p.notation == CALL:
        if p.symbol != p.name or p.precedence != ATOM:
            raise bad("a call is drawn with its name and binds as an atom (so drawings "
                      "parse back)")
    else:
        raise bad(f"notation {p.notation!r} is not one of {INFIX}, {PREFIX}, {CALL}")
    if p.notation != INFIX and p.spellings:
        raise bad("only infix operations have spellings")
    if p.associativity not in (LEFT, RIGHT, BOTH):
        raise bad(f"associativity {p.associativity!r} is not one of {LEFT}, {RIGHT}, {BOTH}")
    if not (isinstance(p.sympy_rule, str) and p.sympy_rule.isidentifier()
            or callable(p.sympy_rule)):
        raise bad("sympy_rule must be a SymPy function's name or a function of "
                  "(sympy, *args)")
    if p.kink_at not in ("", AT_ZERO, AT_TIE, AT_ROOT):
        raise bad(f"kink_at {p.kink_at!r} is not one of {AT_ZERO!r}, {AT_TIE!r}, "
                  f"{AT_ROOT!r} or ''")
    if p.kink_at in (AT_TIE, AT_ROOT) and p.arity != 2:
        raise bad("a tie needs two arguments")
    if not (bool(p.kink_at) == bool(p.kink_note) == (p.kink_tangent is not None)):
        raise bad("kink_at, kink_note and kink_tangent go together (all set or none)")
    if p.kink_atoms and not p.kink_at:
        raise bad("kink_atoms without a kink")
    if not all(isinstance(n, str) and n.isidentifier() for n in p.kink_atoms):
        raise bad("kink_atoms must be SymPy function names")
    if not isinstance(p.batched, BatchedRule):
        raise bad("needs a batched rule (BatchedRule: evaluate and partials on numpy arrays)")
    if not callable(p.batched.evaluate) or len(p.batched.partials) != p.arity or not all(
            callable(d) for d in p.batched.partials):
        raise bad(f"the batched rule needs a callable evaluate and {p.arity} callable "
                  f"partial(s)")


def _check_formula(p: Primitive, text: str, bad: Callable[[str], TableError]) -> None:
    """The cheap checks that need no parser: the language's characters and variables."""
    if not isinstance(text, str) or not _LANGUAGE.match(text) or not text.strip():
        raise bad(f"formula {text!r} is not in the expression language (ASCII: numbers, "
                  f"names, + - * / ** ^, parentheses)")
    if p.arity == 1 and "b" in _NAME.findall(text):
        raise bad(f"formula {text!r} uses b but the operation is unary")


def _check_table(table: Mapping[str, Primitive], constants: Mapping[str, Constant]) -> None:
    """Checks across entries: every name in a formula is a variable, function or constant."""
    known = set(FORMULA_NAMES) | set(constants) | {
        n for p in table.values() if p.notation == CALL for n in (p.name, *p.aliases)}
    for p in table.values():
        for text in p.partial_formulas:
            unknown = set(_NAME.findall(text)) - known
            if unknown:
                raise TableError(f"primitive '{p.name}': formula {text!r} uses unknown "
                                 f"name(s) {sorted(unknown)}")


def leaf_precedence(text: str) -> int:
    """How a leaf drawn as `text` binds: a negative literal like its sign, a fraction like its
    bar ((-8) ^ 0.5, (1/3) ^ x), anything else as an atom."""
    if text.startswith("-"):
        return PRIMITIVES["neg"].precedence
    if "/" in text:
        return PRIMITIVES["div"].precedence
    return ATOM


def _sigmoid(a: float) -> float:
    # Stable on both sides: never computes exp of a large positive number.
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    z = math.exp(a)
    return z / (1.0 + z)


def _pow(a: float, b: float) -> float:
    r = a**b
    if isinstance(r, complex):  # negative base, fractional exponent
        raise ValueError("negative base with a non-integer exponent")
    return float(r)


def _pow_domain(a: float, b: Optional[float]) -> Optional[str]:
    assert b is not None
    if a < 0 and not float(b).is_integer():
        return f"negative base {a:g} with non-integer exponent {b:g}"
    if a == 0 and b < 0:
        return f"zero to a negative power ({b:g})"
    return None


def _pow_db(a: float, b: Optional[float], out: float) -> float:
    if a > 0:
        return out * math.log(a)
    if a == 0 and b is not None and b > 0:
        return 0.0
    raise ValueError("d(a**b)/db needs a positive base")


def _sign(t: float) -> float:
    return (t > 0) - (t < 0)


def _sqrt_tangent(a: float, b: Optional[float], ta: float, tb: float) -> float:
    if ta > 0:
        return math.inf
    if ta == 0:
        return 0.0
    return math.nan  # sqrt is not defined to the left of 0


def _sech2(a: float, b: Optional[float], out: float) -> float:
    """tanh'(a) = 1 − tanh²(a), computed as 4t/(1 + t)² with t = e^(−2|a|).

    1 − out² loses the digits tanh rounds away: near saturation a last-bit difference in
    tanh(a) becomes a relative error of ulp/(1 − out²) (1e-8 at |a| = 9), and from |a| ≈ 19
    on tanh(a) rounds to ±1 and 1 − out² is 0 where the slope is not.  This form is accurate to
    a few units in the last place at every a and never overflows (t underflows to 0 instead),
    so the scalar and batched (numpy) engines agree to that too; `partial_formulas` keeps the
    lecture's 1 − tanh(a)^2, which a test checks against it.
    """
    t = math.exp(-2.0 * abs(a))
    return 4.0 * t / ((1.0 + t) * (1.0 + t))


def _sigmoid_slope(a: float, b: Optional[float], out: float) -> float:
    """σ'(a) = σ(a)(1 − σ(a)), computed as z/(1 + z)² with z = e^(−|a|), for the reason
    `_sech2` gives: 1 − out cancels as σ(a) nears 1."""
    z = math.exp(-abs(a))
    return z / ((1.0 + z) * (1.0 + z))


def _root_tangent(a: float, b: Optional[float], ta: float, tb: float) -> float:
    # a^b at a = 0 with 0 < b < 1, as sqrt: infinite slope into a > 0, none into a < 0; moving
    # b alone leaves 0^b = 0.
    return _sqrt_tangent(a, None, ta, 0.0)


def _max_ab(a: float, b: float) -> float:
    return a if a >= b else b


def _min_ab(a: float, b: float) -> float:
    return a if a <= b else b


def _tie_share(first: bool) -> Partial:
    """Partial of max/min: 1 for the chosen argument, 1/2 each at a tie."""

    def partial(a: float, b: Optional[float], out: float) -> float:
        if a == b:
            return 0.5
        chosen_a = out == a
        return 1.0 if chosen_a == first else 0.0

    return partial


# -- the batched rules' helpers (numpy arrives as `np`; nothing is imported here) ------------
def _np_sigmoid(np: Any, a: Any, b: Any = None) -> Any:
    # The scalar entry's stable form on both sides: exp of -|a| only.
    z = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _np_sech2(np: Any, a: Any, b: Any, out: Any) -> Any:
    t = np.exp(-2.0 * np.abs(a))        # the scalar `_sech2`, on arrays
    return 4.0 * t / ((1.0 + t) * (1.0 + t))


def _np_sigmoid_slope(np: Any, a: Any, b: Any, out: Any) -> Any:
    z = np.exp(-np.abs(a))              # the scalar `_sigmoid_slope`, on arrays
    return z / ((1.0 + z) * (1.0 + z))


def _np_pow(np: Any, a: Any, b: Any) -> Any:
    # ndarray's ** takes numpy's fast paths for the exponents 2, 0.5, -1; two plain floats go
    # through np.power so that a negative base gives nan, as at every other point, not complex.
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a ** b
    return np.power(float(a), b)


def _np_pow_da(np: Any, a: Any, b: Any, out: Any) -> Any:
    if isinstance(b, float):
        return b * _np_pow(np, a, b - 1.0) if b != 0 else 0.0
    return np.where(b != 0, b * _np_pow(np, a, b - 1.0), 0.0)


def _np_pow_db(np: Any, a: Any, b: Any, out: Any) -> Any:
    # out·ln a for a > 0; 0 at a = 0 with b > 0; undefined (nan) otherwise, as the scalar raises.
    positive = a > 0
    safe = np.where(positive, a, 1.0)
    return np.where(positive, out * np.log(safe), np.where((a == 0) & (b > 0), 0.0, np.nan))


def _np_tie_share(first: bool) -> Callable[..., Any]:
    """The batched partial of max/min: the chosen argument gets 1, each gets 1/2 at a tie."""
    if first:
        return lambda np, a, b, out: np.where(a == b, 0.5, np.where(out == a, 1.0, 0.0))
    return lambda np, a, b, out: np.where(a == b, 0.5, np.where(out == a, 0.0, 1.0))


def _one(np: Any, a: Any, b: Any, out: Any) -> float:
    return 1.0


def _minus_one(np: Any, a: Any, b: Any, out: Any) -> float:
    return -1.0


PRIMITIVES: dict[str, Primitive] = {}


def _declare(p: Primitive) -> Primitive:
    check_primitive(p, PRIMITIVES)
    PRIMITIVES[p.name] = p
    return p


ADD = _declare(Primitive(
    "add", 2, operator.add,
    (lambda a, b, o: 1.0, lambda a, b, o: 1.0), ("1", "1"),
    lambda sp, a, b: a + b,
    notation=INFIX, symbol="+", spellings=("+",), precedence=SUM, associativity=BOTH,
    batched=BatchedRule(lambda np, a, b: a + b, (_one, _one))))
SUB = _declare(Primitive(
    "sub", 2, operator.sub,
    (lambda a, b, o: 1.0, lambda a, b, o: -1.0), ("1", "-1"),
    lambda sp, a, b: a - b,
    notation=INFIX, symbol="−", spellings=("-",), precedence=SUM,
    batched=BatchedRule(lambda np, a, b: a - b, (_one, _minus_one))))
MUL = _declare(Primitive(
    "mul", 2, operator.mul,
    (lambda a, b, o: b, lambda a, b, o: a), ("b", "a"),
    lambda sp, a, b: a * b,
    notation=INFIX, symbol="·", spellings=("*",), precedence=PRODUCT, associativity=BOTH,
    batched=BatchedRule(lambda np, a, b: a * b, (lambda np, a, b, o: b, lambda np, a, b, o: a))))
DIV = _declare(Primitive(
    "div", 2, operator.truediv,
    (lambda a, b, o: 1.0 / b, lambda a, b, o: -(a / b) / b), ("1/b", "-a/b^2"),
    lambda sp, a, b: a / b,
    notation=INFIX, symbol="/", spellings=("/",), precedence=PRODUCT,
    domain=lambda a, b: "division by zero" if b == 0 else None,
    batched=BatchedRule(lambda np, a, b: a / b, (lambda np, a, b, o: 1.0 / b,
                                                 lambda np, a, b, o: -(a / b) / b))))
POW = _declare(Primitive(
    "pow", 2, _pow,
    (lambda a, b, o: b * _pow(a, b - 1.0) if b != 0 else 0.0, _pow_db),
    ("b*a^(b - 1)", "out*log(a)"),
    lambda sp, a, b: a**b,
    notation=INFIX, symbol="^", spellings=("**", "^"), precedence=POWER, associativity=RIGHT,
    domain=_pow_domain,
    kink_at=AT_ROOT,
    kink_note="the slope of a^b in a at a = 0 with 0 < b < 1 is infinite (as sqrt'(0))",
    kink_tangent=_root_tangent,
    batched=BatchedRule(_np_pow, (_np_pow_da, _np_pow_db))))
NEG = _declare(Primitive(
    "neg", 1, operator.neg, (lambda a, b, o: -1.0,), ("-1",),
    lambda sp, a: -a,
    notation=PREFIX, symbol="−", precedence=SIGN,
    batched=BatchedRule(lambda np, a, b: -a, (_minus_one,))))
EXP = _declare(Primitive(
    "exp", 1, math.exp, (lambda a, b, o: o,), ("exp(a)",), "exp",
    batched=BatchedRule(lambda np, a, b: np.exp(a), (lambda np, a, b, o: o,))))
LOG = _declare(Primitive(
    "log", 1, math.log, (lambda a, b, o: 1.0 / a,), ("1/a",), "log", math_symbol="ln",
    domain=lambda a, b: f"log of non-positive {a:g}" if a <= 0 else None,
    batched=BatchedRule(lambda np, a, b: np.log(a), (lambda np, a, b, o: 1.0 / a,))))
SQRT = _declare(Primitive(
    "sqrt", 1, math.sqrt, (lambda a, b, o: 0.5 / o,), ("1/(2*sqrt(a))",), "sqrt",
    math_symbol="√",
    domain=lambda a, b: f"sqrt of negative {a:g}" if a < 0 else None,
    kink_at=AT_ZERO,
    kink_note="sqrt'(0) is infinite",
    kink_tangent=_sqrt_tangent,
    batched=BatchedRule(lambda np, a, b: np.sqrt(a), (lambda np, a, b, o: 0.5 / o,))))
SIN = _declare(Primitive(
    "sin", 1, math.sin, (lambda a, b, o: math.cos(a),), ("cos(a)",), "sin",
    batched=BatchedRule(lambda np, a, b: np.sin(a), (lambda np, a, b, o: np.cos(a),))))
COS = _declare(Primitive(
    "cos", 1, math.cos, (lambda a, b, o: -math.sin(a),), ("-sin(a)",), "cos",
    batched=BatchedRule(lambda np, a, b: np.cos(a), (lambda np, a, b, o: -np.sin(a),))))
TAN = _declare(Primitive(
    "tan", 1, math.tan, (lambda a, b, o: 1.0 + o * o,), ("1 + tan(a)^2",), "tan",
    batched=BatchedRule(lambda np, a, b: np.tan(a), (lambda np, a, b, o: 1.0 + o * o,))))
TANH = _declare(Primitive(
    "tanh", 1, math.tanh, (_sech2,), ("1 - tanh(a)^2",), "tanh",
    batched=BatchedRule(lambda np, a, b: np.tanh(a), (_np_sech2,))))
SIGMOID = _declare(Primitive(
    "sigmoid", 1, _sigmoid, (_sigmoid_slope,),
    ("sigmoid(a)*(1 - sigmoid(a))",),
    lambda sp, a: 1 / (1 + sp.exp(-a)), math_symbol="σ",
    batched=BatchedRule(_np_sigmoid, (_np_sigmoid_slope,))))
RELU = _declare(Primitive(
    "relu", 1, lambda a: a if a > 0 else 0.0, (lambda a, b, o: 1.0 if a > 0 else 0.0,), (),
    lambda sp, a: sp.Max(a, 0),
    display_override=("[{a} > 0]",),
    kink_at=AT_ZERO,
    kink_note="relu'(0) taken as 0 (as PyTorch and micrograd do; SymPy says Heaviside(0) = 1/2)",
    kink_tangent=lambda a, b, ta, tb: max(ta, 0.0),
    kink_atoms=("Heaviside",),
    batched=BatchedRule(lambda np, a, b: np.where(a > 0, a, 0.0),
                        (lambda np, a, b, o: np.where(a > 0, 1.0, 0.0),))))
ABS = _declare(Primitive(
    "abs", 1, abs, (lambda a, b, o: float(_sign(a)),), (), "Abs",
    display_override=("sign({a})",),
    kink_at=AT_ZERO,
    kink_note="abs'(0) taken as 0 (sign(0) = 0, as PyTorch does)",
    kink_tangent=lambda a, b, ta, tb: abs(ta),
    kink_atoms=("sign",),
    batched=BatchedRule(lambda np, a, b: np.abs(a), (lambda np, a, b, o: np.sign(a),))))
MAX = _declare(Primitive(
    "max", 2, _max_ab, (_tie_share(True), _tie_share(False)), (), "Max",
    display_override=("[{a} ≥ {b}]", "[{b} ≥ {a}]"),
    kink_at=AT_TIE,
    kink_note="max at a tie passes 1/2 to each argument (as PyTorch's maximum does)",
    kink_tangent=lambda a, b, ta, tb: max(ta, tb),
    kink_atoms=("Heaviside",),
    batched=BatchedRule(lambda np, a, b: np.where(a >= b, a, b),
                        (_np_tie_share(True), _np_tie_share(False)))))
MIN = _declare(Primitive(
    "min", 2, _min_ab, (_tie_share(True), _tie_share(False)), (), "Min",
    display_override=("[{a} ≤ {b}]", "[{b} ≤ {a}]"),
    kink_at=AT_TIE,
    kink_note="min at a tie passes 1/2 to each argument (as PyTorch's minimum does)",
    kink_tangent=lambda a, b, ta, tb: min(ta, tb),
    kink_atoms=("Heaviside",),
    batched=BatchedRule(lambda np, a, b: np.where(a <= b, a, b),
                        (_np_tie_share(True), _np_tie_share(False)))))

# Names a case may call as functions, and the binary operators' spellings.
FUNCTIONS: dict[str, Primitive] = {
    p.name: p for p in PRIMITIVES.values() if p.notation == CALL}
BINARY_OPERATORS: dict[str, Primitive] = {
    s: p for p in PRIMITIVES.values() if p.notation == INFIX for s in p.spellings}

# Named constants: their float value and the name of their exact SymPy counterpart.
CONSTANTS: dict[str, Constant] = {"pi": Constant(math.pi, "pi"), "e": Constant(math.e, "E")}

_check_table(PRIMITIVES, CONSTANTS)

# Integer codes for the tape: 0 and 1 are the leaves, then one code per primitive.
VAR, CONST = 0, 1
OPS: list[Optional[Primitive]] = [None, None, *PRIMITIVES.values()]
CODE: dict[str, int] = {p.name: i for i, p in enumerate(OPS) if p is not None}
