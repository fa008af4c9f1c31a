"""The one small interface every engine adapter implements, and what an adapter answers.

An adapter imports its engine (`load`), says which of a program's operations the engine lacks
(`missing`: the case is then *unsupported*, never a failure) and replays a program on the
engine's objects, returning the output's value and the gradient (`evaluate`).  Adapters run
inside worker processes (compare.engines.worker), so an engine that hangs or crashes costs its
case, never the run.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from ..errors import GradcompareError
from .program import Program

# A program's `pow` whose exponent is not a constant node: engines that take only a number as
# the exponent (micrograd) lack it.
POW_VARIABLE = "pow (variable exponent)"


class EngineMissing(GradcompareError):
    """The engine cannot be imported (not installed, or its import fails)."""


@dataclass
class Answer:
    """An engine's value and gradient for one program, and the seconds the replay took
    (building the engine's graph, forward and backward, reading the gradient)."""

    value: float
    gradient: dict[str, float]
    seconds: float


class Adapter:
    """Base class: `name`, `load() -> version`, `missing(program)`, `evaluate(program)`."""

    name = ""
    ops: frozenset[str] = frozenset()        # operations the engine has (by primitive name)
    pow_variable = True                      # takes a variable as the exponent of **

    def load(self) -> str:
        """Import the engine (once); return its version.  Raises EngineMissing."""
        raise NotImplementedError

    def missing(self, program: Program) -> list[str]:
        """The program's operations this engine lacks, each once."""
        lacking = [op for op in program.primitives if op not in self.ops]
        if not self.pow_variable and "pow" in self.ops and any(
                op == "pow" and not program.is_const(b) for op, _, b in program.ops):
            lacking.append(POW_VARIABLE)
        return lacking

    def evaluate(self, program: Program) -> Answer:
        raise NotImplementedError


# The operators every engine spells the same way (Python's + - * / ** on its objects).
ARITHMETIC = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
              "div": operator.truediv, "pow": operator.pow}
# The primitives (by compare.primitives' names) `make_apply` writes with Python's operators; an
# adapter's `ops` is these plus the names its own table maps (anything else: unsupported).
OPERATORS = frozenset(ARITHMETIC) | {"neg"}
Apply = Callable[[str, Any, Optional[Any], Optional[float]], Any]


def make_apply(call: Callable[[str], Callable[..., Any]]) -> Apply:
    """The `apply` a replay needs: Python's operators for + - * / ** and unary −, and
    `call(op)` (the engine's function for a primitive's name) for everything else.

    A constant exponent is passed as a number, an int when it is whole (`x ** 2`), as engine
    users write it (micrograd accepts nothing else).
    """
    def apply(op: str, x: Any, y: Optional[Any], y_const: Optional[float]) -> Any:
        if op in ARITHMETIC:
            if op == "pow" and y_const is not None:
                y = int(y_const) if float(y_const).is_integer() else y_const
            return ARITHMETIC[op](x, y)
        if op == "neg":
            return -x
        fn = call(op)
        return fn(x) if y is None else fn(x, y)

    return apply


def need(module: str, engine: str, extra: str = "engines") -> None:
    """Raise EngineMissing (one line) when `module` cannot be imported."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as err:
        raise EngineMissing(f"engine '{engine}' is not installed (cannot import {module}: "
                            f"{err}); install it, e.g. pip install 'gradcompare[{extra}]'"
                            ) from None


def version_of(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown version"


def zero_for(names: Iterable[str], found: dict[str, float]) -> dict[str, float]:
    """The gradient for every name: a variable the output does not use has gradient 0."""
    return {n: float(found.get(n, 0.0)) for n in names}
