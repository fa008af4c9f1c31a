"""The bundled cases with their exact references, for an engine's own test suite.

Three lines run the library on a micrograd-style class in pytest::

    from compare.testing import check_engine, reference_cases

    @pytest.mark.parametrize("case", reference_cases(), ids=str)
    def test_gradient(case): check_engine(MyValue, case)

`check_engine` replays the case in-process on the class (an unsupported operation or a case
without a reference is `pytest.skip`, a wrong answer an AssertionError naming the numbers, and
the engine's own exception propagates with its traceback).  Any other engine replays
`case.replay(leaf, const, apply)` on its own objects and calls `case.check(value, gradient)`.

References come from compare.conformance (SymPy's exact gradient; at a kink PyTorch's
convention with the exact one-sided derivatives): computing them runs the library once (SymPy
on every core, a few seconds), cached per library.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional, Sequence, Union

from .conformance import FAIL, SKIPPED, Reference, reference_of
from .engines.base import Adapter
from .engines.program import Program, program_of, replay


@dataclass(frozen=True)
class ReferenceCase:
    """One case: its nodes in topological order, its point, and its exact reference."""

    name: str
    description: str
    tags: tuple[str, ...]
    program: Program
    reference: Reference

    def __str__(self) -> str:   # pytest's test id
        return self.name

    @property
    def point(self) -> dict[str, float]:
        return dict(self.program.point)

    @property
    def wrt(self) -> tuple[str, ...]:
        return self.program.wrt

    def replay(self, leaf: Callable[[str], Any], const: Callable[[float], Any],
               apply: Callable[[str, Any, Optional[Any], Optional[float]], Any]) -> list[Any]:
        """Build the case on an engine (compare.engines.program.replay): the last is the
        output."""
        return replay(self.program, leaf, const, apply)

    def problems(self, value: float, gradient: dict[str, float]) -> tuple[str, str]:
        """(verdict, detail): pass / fail / skipped, and what was wrong."""
        verdict, kink, detail = self.reference.judge(value, gradient)
        return verdict, detail

    def check(self, value: float, gradient: dict[str, float]) -> None:
        """Raise AssertionError unless value and gradient match the reference (at a kink:
        PyTorch's convention or between the one-sided derivatives); skip without a
        reference."""
        verdict, detail = self.problems(value, gradient)
        if verdict == SKIPPED:
            import pytest

            pytest.skip(detail)
        if verdict == FAIL:
            raise AssertionError(f"{self.name}: {detail}")


def reference_cases(cases: Optional[str] = None, names: Sequence[str] = (),
                    tags: Sequence[str] = (), jobs: Optional[int] = None
                    ) -> list[ReferenceCase]:
    """The cases of a library (default: the bundled one) with their references; `jobs` SymPy
    workers compute them (default: one per core)."""
    return list(_cached(cases, tuple(names), tuple(tags), jobs))


@lru_cache(maxsize=8)
def _cached(cases: Optional[str], names: tuple[str, ...], tags: tuple[str, ...],
            jobs: Optional[int]) -> tuple[ReferenceCase, ...]:
    from pathlib import Path

    from .cases import default_cases_path, load_library
    from .engine import run_library
    from .errors import GradcompareError

    library = load_library(Path(cases) if cases else default_cases_path()).select(names, tags)
    if library.errors:
        raise GradcompareError(str(library.errors[0]))
    run = run_library(library, ["backprop", "sympy"], jobs=jobs)
    return tuple(ReferenceCase(cr.case.name, cr.case.description, tuple(cr.case.tags),
                               program_of(cr.case.graph, cr.case.at, cr.case.wrt),
                               reference_of(cr)) for cr in run.runs)


def check_engine(engine: Union[type, Adapter], case: ReferenceCase) -> None:
    """Run `case` on a micrograd-style class (or any adapter) here, in this process, and
    `case.check` the answer; an operation the engine lacks skips the test."""
    from .engines.value import ValueAdapter

    if isinstance(engine, type):
        adapter: Adapter = ValueAdapter.of(engine)
    else:
        adapter = engine
        adapter.load()
    lacking = adapter.missing(case.program)
    if lacking:
        import pytest

        pytest.skip(f"{adapter.name or 'the engine'} lacks {', '.join(lacking)}")
    answer = adapter.evaluate(case.program)
    case.check(answer.value, answer.gradient)


__all__ = ["ReferenceCase", "check_engine", "reference_cases"]
