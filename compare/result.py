"""What every differentiation method returns, and the status words it may carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Optional

class Status(str, Enum):
    """Status of one method on one case: one vocabulary for every method, table and report.

    A `str` subclass, so a status compares, hashes, prints and serializes as its word ("ok").
    OK, NONDIFFERENTIABLE and ILL_CONDITIONED produce a gradient; the others explain why there is none (or why
    it is not trusted).
    """

    OK = "ok"
    NONDIFFERENTIABLE = "nondifferentiable"  # a kink at the point; the stated convention used
    DOMAIN = "domain"                        # log(0), sqrt(-1), 0/0, ... at the point
    OVERFLOW = "overflow"                    # a value too large for a float (exp(1000))
    NONFINITE = "nonfinite"                  # an intermediate value is inf or nan
    OVER_BUDGET = "over_budget"              # naive: predicted work above budget, not executed
    TIMEOUT = "timeout"                      # symbolic: time budget exhausted
    TOO_LARGE = "too_large"                  # symbolic: graph or exponent above a limit
    IMPRECISE = "imprecise"                  # symbolic: no significant digit survives
    ILL_CONDITIONED = "ill_conditioned"      # symbolic: the decimal written and its float
                                             # give answers differing beyond tolerance
    ERROR = "error"                          # the method failed for another reason (see note)
    SKIPPED = "skipped"                      # scale: not run, a smaller size already timed out

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __hash__(self) -> int:
        return hash(self.value)


OK = Status.OK
NONDIFFERENTIABLE = Status.NONDIFFERENTIABLE
DOMAIN = Status.DOMAIN
OVERFLOW = Status.OVERFLOW
NONFINITE = Status.NONFINITE
OVER_BUDGET = Status.OVER_BUDGET
TIMEOUT = Status.TIMEOUT
TOO_LARGE = Status.TOO_LARGE
IMPRECISE = Status.IMPRECISE
ILL_CONDITIONED = Status.ILL_CONDITIONED
ERROR = Status.ERROR
SKIPPED = Status.SKIPPED

HAS_GRADIENT = (OK, NONDIFFERENTIABLE, ILL_CONDITIONED)


@dataclass
class Counts:
    """Operation counts of one differentiation (definitions in compare.counting)."""

    derivatives: int = 0      # local-derivative evaluations
    multiplications: int = 0
    additions: int = 0
    evaluations: int = 0      # operation nodes evaluated by the method's own forward passes
    passes: Optional[int] = None   # sweeps or forward passes over the graph (None: naive)

    @property
    def total(self) -> int:
        return self.derivatives + self.multiplications + self.additions + self.evaluations


@dataclass
class SympyDetails:
    """What the symbolic method measured besides the gradient (compare.methods.symbolic)."""

    size_raw: int                 # operations in the derivatives written out as trees
    size_cse: int                 # the same after common-subexpression elimination
    evaluated: str                # how the values were computed: "exact", "40 digits", …
    derivatives: dict[str, str] = field(default_factory=dict)   # variable -> SymPy's text
    exact: dict[str, str] = field(default_factory=dict)         # variable -> exact value text
    value_exact: Optional[str] = None                            # f's exact value, if short
    # At kinks: variable -> (left, right) exact one-sided partials as floats (None: undefined).
    sides: dict[str, tuple[Optional[float], Optional[float]]] = field(default_factory=dict)
    # Ill-conditioned: the answer at the decimals the user wrote (value, ∂/∂v, status) and the
    # condition estimate κ (relative change of the answer / relative change of the input).
    decimal: Optional[dict] = None
    condition: Optional[float] = None


@dataclass
class NumericDetails:
    """What the numeric method (central differences) measured besides the gradient.

    Per variable: the step h, the tolerance the engine judges it with (derived from h), and
    at a kink the one-sided differences (left, right), None where x ± h leaves the domain.
    """

    step: dict[str, float] = field(default_factory=dict)
    tolerance: dict[str, float] = field(default_factory=dict)

    sides: dict[str, tuple[Optional[float], Optional[float]]] = field(default_factory=dict)


@dataclass
class Result:
    """One method's answer on one graph at one point."""

    method: str
    value: Optional[float]
    gradient: dict[str, Optional[float]]
    counts: Optional[Counts] = field(default_factory=Counts)  # None: not counted (sympy)
    status: Status = OK
    note: str = ""
    seconds: float = 0.0
    predicted: bool = False        # counts come from the prediction, the work was not done
    node: Optional[str] = None     # the node where trouble happened, if any
    details: Optional[SympyDetails] = None   # the symbolic method's measurements
    numeric: Optional[NumericDetails] = None  # the numeric method's steps and tolerances

    @property
    def ok(self) -> bool:
        return self.status in HAS_GRADIENT
