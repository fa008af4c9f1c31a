"""What every differentiation method returns, and the status words it may carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

# Status of one method on one case.  "ok" and "nondifferentiable" produce a gradient; the
# others explain why there is none (or why it is not trusted).
OK = "ok"
NONDIFFERENTIABLE = "nondifferentiable"  # a kink at the point; the stated convention was used
DOMAIN = "domain"                        # log(0), sqrt(-1), 0/0, ... at the point
OVERFLOW = "overflow"                    # a value too large for a float (exp(1000))
NONFINITE = "nonfinite"                  # an intermediate value is inf or nan
OVER_BUDGET = "over_budget"              # naive: predicted work above the budget, not executed
TIMEOUT = "timeout"                      # symbolic: time budget exhausted
TOO_LARGE = "too_large"                  # symbolic: graph or exponent above a limit
IMPRECISE = "imprecise"                  # symbolic: no significant digit survives cancellation
ERROR = "error"                          # the method failed for another reason (see note)

HAS_GRADIENT = (OK, NONDIFFERENTIABLE)


@dataclass
class Counts:
    """Operation counts of one differentiation (definitions in compare.counting)."""

    derivatives: int = 0      # local-derivative evaluations
    multiplications: int = 0
    additions: int = 0

    @property
    def total(self) -> int:
        return self.derivatives + self.multiplications + self.additions


@dataclass
class Result:
    """One method's answer on one graph at one point."""

    method: str
    value: Optional[float]
    gradient: dict[str, Optional[float]]
    counts: Optional[Counts] = field(default_factory=Counts)  # None: not counted (sympy)
    status: str = OK
    note: str = ""
    seconds: float = 0.0
    predicted: bool = False        # counts come from the prediction, the work was not done
    node: Optional[str] = None     # the node where trouble happened, if any
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in HAS_GRADIENT
