"""The one table of primitive operations.

Every operation gradcompare knows is declared here, once: how to evaluate it, its local partial
derivatives (as numbers and as display formulas), its SymPy counterpart, where it is defined and
where it has a kink.  Parser, forward pass, every differentiation method, the SymPy translation
and the handouts all read this table; adding an operation means adding one entry below.

SymPy is not imported here: an entry names its SymPy counterpart (`sympy_rule`, `kink_atoms`,
`Constant.sympy_name`), and compare.sympy_bridge resolves the names when symbolic work runs, so
commands that never reach SymPy do not pay for importing it.

Conventions at kinks (what the numeric methods use, the same as PyTorch):
relu'(0) = 0, abs'(0) = 0, max/min at a tie pass 1/2 of the gradient to each argument,
sqrt'(0) is infinite (reported as not differentiable).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Optional, Union

Number = float
# The places a primitive can have a kink, declared rather than coded so that the forward pass can
# rule kinks out for a whole graph at once (no value is 0: no AT_ZERO kink anywhere).
AT_ZERO = "a = 0"     # at argument 0: relu, abs, sqrt
AT_TIE = "a = b"      # where the two arguments are equal: max, min
# A local partial derivative: (a, b, out) -> d out / d arg.  b is None for unary primitives.
Partial = Callable[[float, Optional[float], float], float]
# A SymPy counterpart: the name of a SymPy function ("exp"), or (sympy module, *args) -> expr.
SympyRule = Union[str, Callable[..., Any]]


class TableError(ValueError):
    """A primitive's table entry contradicts itself or the table."""


@dataclass(frozen=True)
class Primitive:
    """One operation: everything any method needs to know about it, in one place."""

    name: str
    arity: int
    evaluate: Callable[..., float]
    partials: tuple[Partial, ...]
    # Display formulas of the partials, in terms of {a}, {b} (the arguments) and {out}.
    formulas: tuple[str, ...]
    sympy_rule: SympyRule
    symbol: str  # how the operation is drawn: '+', '·', 'exp', ...
    infix: bool = False
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

    def kink(self, a: float, b: Optional[float]) -> bool:
        """True where the operation is not differentiable at (a, b)."""
        if self.kink_at == AT_ZERO:
            return a == 0
        if self.kink_at == AT_TIE:
            return a == b
        return False


class Constant(NamedTuple):
    """A named constant: its float value, and the name of its exact SymPy counterpart."""

    value: float
    sympy_name: str


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


PRIMITIVES: dict[str, Primitive] = {}


def _declare(p: Primitive) -> Primitive:
    PRIMITIVES[p.name] = p
    return p


ADD = _declare(Primitive(
    "add", 2, operator.add,
    (lambda a, b, o: 1.0, lambda a, b, o: 1.0), ("1", "1"),
    lambda sp, a, b: a + b, "+", infix=True))
SUB = _declare(Primitive(
    "sub", 2, operator.sub,
    (lambda a, b, o: 1.0, lambda a, b, o: -1.0), ("1", "-1"),
    lambda sp, a, b: a - b, "−", infix=True))
MUL = _declare(Primitive(
    "mul", 2, operator.mul,
    (lambda a, b, o: b, lambda a, b, o: a), ("{b}", "{a}"),
    lambda sp, a, b: a * b, "·", infix=True))
DIV = _declare(Primitive(
    "div", 2, operator.truediv,
    (lambda a, b, o: 1.0 / b, lambda a, b, o: -(a / b) / b), ("1/{b}", "−{a}/{b}²"),
    lambda sp, a, b: a / b, "/", infix=True,
    domain=lambda a, b: "division by zero" if b == 0 else None))
POW = _declare(Primitive(
    "pow", 2, _pow,
    (lambda a, b, o: b * _pow(a, b - 1.0) if b != 0 else 0.0, _pow_db),
    ("{b}·{a}^({b}−1)", "{out}·ln({a})"),
    lambda sp, a, b: a**b, "^", infix=True, domain=_pow_domain))
NEG = _declare(Primitive(
    "neg", 1, operator.neg, (lambda a, b, o: -1.0,), ("-1",),
    lambda sp, a: -a, "−"))
EXP = _declare(Primitive(
    "exp", 1, math.exp, (lambda a, b, o: o,), ("exp({a})",),
    "exp", "exp"))
LOG = _declare(Primitive(
    "log", 1, math.log, (lambda a, b, o: 1.0 / a,), ("1/{a}",),
    "log", "log",
    domain=lambda a, b: f"log of non-positive {a:g}" if a <= 0 else None))
SQRT = _declare(Primitive(
    "sqrt", 1, math.sqrt, (lambda a, b, o: 0.5 / o,), ("1/(2·√{a})",),
    "sqrt", "sqrt",
    domain=lambda a, b: f"sqrt of negative {a:g}" if a < 0 else None,
    kink_at=AT_ZERO,
    kink_note="sqrt'(0) is infinite",
    kink_tangent=_sqrt_tangent))
SIN = _declare(Primitive(
    "sin", 1, math.sin, (lambda a, b, o: math.cos(a),), ("cos({a})",),
    "sin", "sin"))
COS = _declare(Primitive(
    "cos", 1, math.cos, (lambda a, b, o: -math.sin(a),), ("−sin({a})",),
    "cos", "cos"))
TAN = _declare(Primitive(
    "tan", 1, math.tan, (lambda a, b, o: 1.0 + o * o,), ("1 + tan²({a})",),
    "tan", "tan"))
TANH = _declare(Primitive(
    "tanh", 1, math.tanh, (lambda a, b, o: 1.0 - o * o,), ("1 − tanh²({a})",),
    "tanh", "tanh"))
SIGMOID = _declare(Primitive(
    "sigmoid", 1, _sigmoid, (lambda a, b, o: o * (1.0 - o),), ("σ({a})·(1 − σ({a}))",),
    lambda sp, a: 1 / (1 + sp.exp(-a)), "σ"))
RELU = _declare(Primitive(
    "relu", 1, lambda a: a if a > 0 else 0.0, (lambda a, b, o: 1.0 if a > 0 else 0.0,),
    ("[{a} > 0]",),
    lambda sp, a: sp.Max(a, 0), "relu",
    kink_at=AT_ZERO,
    kink_note="relu'(0) taken as 0 (as PyTorch and micrograd do; SymPy says Heaviside(0) = 1/2)",
    kink_tangent=lambda a, b, ta, tb: max(ta, 0.0),
    kink_atoms=("Heaviside",)))
ABS = _declare(Primitive(
    "abs", 1, abs, (lambda a, b, o: float(_sign(a)),), ("sign({a})",),
    "Abs", "abs",
    kink_at=AT_ZERO,
    kink_note="abs'(0) taken as 0 (sign(0) = 0, as PyTorch does)",
    kink_tangent=lambda a, b, ta, tb: abs(ta),
    kink_atoms=("sign",)))
MAX = _declare(Primitive(
    "max", 2, _max_ab, (_tie_share(True), _tie_share(False)),
    ("[{a} ≥ {b}]", "[{b} ≥ {a}]"),
    "Max", "max",
    kink_at=AT_TIE,
    kink_note="max at a tie passes 1/2 to each argument (as PyTorch's maximum does)",
    kink_tangent=lambda a, b, ta, tb: max(ta, tb),
    kink_atoms=("Heaviside",)))
MIN = _declare(Primitive(
    "min", 2, _min_ab, (_tie_share(True), _tie_share(False)),
    ("[{a} ≤ {b}]", "[{b} ≤ {a}]"),
    "Min", "min",
    kink_at=AT_TIE,
    kink_note="min at a tie passes 1/2 to each argument (as PyTorch's minimum does)",
    kink_tangent=lambda a, b, ta, tb: min(ta, tb),
    kink_atoms=("Heaviside",)))

# Names a case may call as functions, and the binary operators' spellings.
FUNCTIONS: dict[str, Primitive] = {
    p.name: p for p in PRIMITIVES.values() if not p.infix and p.name != "neg"}
BINARY_OPERATORS: dict[str, Primitive] = {
    "+": ADD, "-": SUB, "*": MUL, "/": DIV, "**": POW, "^": POW}

# Named constants: their float value and the name of their exact SymPy counterpart.
CONSTANTS: dict[str, Constant] = {"pi": Constant(math.pi, "pi"), "e": Constant(math.e, "E")}

# Integer codes for the tape: 0 and 1 are the leaves, then one code per primitive.
VAR, CONST = 0, 1
OPS: list[Optional[Primitive]] = [None, None, *PRIMITIVES.values()]
CODE: dict[str, int] = {p.name: i for i, p in enumerate(OPS) if p is not None}
