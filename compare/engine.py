"""Run the methods on cases and judge the answers: agreement, expectations, one-sided slopes.

This is the library behind every command; it computes, the tables and reports only present.
`run_case` runs every method on one case and records, on request, the `Trace` views draw;
`judge` gives each case a `Verdict` (pass, fail, unverified); `run_library` runs a whole
library with the symbolic method on every core at once.  With `record`, a case with parameters
and a loss also gets its descent recorded (compare.descent.record) for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Optional, Sequence, Union

from .cases import DEFAULT_ABS_TOL, DEFAULT_REL_TOL, Case, Library, close
from .counting import Shape, shape
from .errors import GradcompareError
from .cotangent import BackRow, sweep
from .forward import Forward, forward
from .graph import Graph
from .limits import DEFAULT_LIMITS, Limits
from .methods import METHODS, numeric
from .tangent import one_sided
from .result import DOMAIN, HAS_GRADIENT, ILL_CONDITIONED, NONFINITE, OK, OVERFLOW, Result

if TYPE_CHECKING:
    from .descent import Recorded

# Statuses saying a method found the function or its derivative undefined at the point.
FAILED_AT_POINT = (DOMAIN, OVERFLOW, NONFINITE)



class Verdict(str, Enum):
    """What `check` concludes about one case."""

    PASS = "pass"              # at least two answers (methods, or a method and `expect`) agree
    FAIL = "fail"              # an answer disagrees, or a method failed where another answered
    UNVERIFIED = "unverified"  # nothing to compare: no gradient, or one and no `expect`

    def __str__(self) -> str:
        return self.value

    def __hash__(self) -> int:
        return hash(self.value)


@dataclass
class Trace:
    """What views draw, recorded once per case by the engine (never recomputed by a view).

    `values` and `live` come from the forward pass; `grads` (∂f/∂node for every node that
    received a gradient) and `rows` (the reverse sweep edge by edge) from the cotangent
    interpreter.  `rows`/`grads` are None when the forward pass or the sweep stopped; then
    `note` says where.
    """

    values: Optional[list[float]]
    live: list[bool]
    grads: Optional[dict[int, float]] = None
    rows: Optional[list[BackRow]] = None
    note: str = ""


@dataclass
class CaseRun:
    """Everything computed for one case."""

    case: Case
    shape: Shape
    forward_ops: int
    results: dict[str, Result]
    reference: str = ""                              # the method others are compared with
    agrees: dict[str, Optional[bool]] = field(default_factory=dict)       # per method
    expect_matched: Optional[bool] = None
    one_sided: dict[str, tuple[Optional[float], Optional[float]]] = field(default_factory=dict)
    kink: bool = False
    # numeric at a kink: does the reference's ∂f/∂v lie between its one-sided differences?
    between: dict[str, Optional[bool]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # why `check` fails on this case
    verdict: Verdict = Verdict.PASS
    unverified_reason: str = ""
    trace: Optional[Trace] = None                      # with run_case(..., record=True)
    # The report's descent (compare.descent.Recorded), recorded with the trace for a case with
    # parameters and a loss.
    descent: Optional["Recorded"] = None

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    @property
    def ill_conditioned(self) -> str:
        """The reference's ill-conditioning note ('' when the case is not ill-conditioned):
        the decimals written and their floats give answers differing beyond tolerance."""
        ref = self.results.get("sympy")
        return ref.note if ref is not None and ref.status == ILL_CONDITIONED else ""

    @property
    def all_agree(self) -> Optional[bool]:
        verdicts = [v for v in self.agrees.values() if v is not None]
        return all(verdicts) if verdicts else None


@dataclass
class Run:
    runs: list[CaseRun]
    errors: list[GradcompareError]
    methods: list[str]
    limits: Limits

    def count(self, verdict: Verdict) -> int:
        return sum(cr.verdict is verdict for cr in self.runs)

    def verdicts_text(self) -> str:
        """`85 pass, 0 fail, 0 unverified`: the tally every command and the report print."""
        return ", ".join(f"{self.count(v)} {v.value}" for v in Verdict)


def gradient_agrees(result: Result, reference: Result, rel_tol: float, abs_tol: float) -> bool:
    return close(result.value, reference.value, rel_tol, abs_tol) and all(
        _grad_close(result, v, g, rel_tol, abs_tol) for v, g in reference.gradient.items())


def _grad_close(result: Result, variable: str, exact: Optional[float], rel_tol: float,
                abs_tol: float) -> bool:
    """An exact method to the case's tolerance; the numeric one to its own (from its step)."""
    if result.method == numeric.NAME:
        return numeric.agrees(result, variable, exact)
    return close(result.gradient.get(variable), exact, rel_tol, abs_tol)


def run_case(case: Case, methods: Sequence[str] = tuple(METHODS),
             limits: Limits = DEFAULT_LIMITS, record: bool = False,
             results: Optional[Mapping[str, Result]] = None) -> CaseRun:
    """Every method on one case, judged.  `record` keeps the trace views draw (values, the
    reverse sweep's rows, node gradients).  `results` supplies answers already computed
    elsewhere (the symbolic method, run for many cases at once by `run_library`)."""
    graph, point, wrt = case.graph, case.at, case.wrt
    fw = forward(graph, point)
    given = dict(results or {})
    answers = {m: given[m] if m in given else METHODS[m](graph, point, wrt, limits)
               for m in methods}
    run = CaseRun(case, shape(graph, wrt), fw.operations, answers, kink=bool(fw.kinks))
    if fw.ok and fw.kinks:
        run.one_sided = one_sided(graph, fw.values, fw.live, fw.kinks, wrt)
    if record:
        run.trace = _trace(graph, fw, wrt)
        if case.loss is not None and case.parameters:
            from .descent import record as record_descent

            run.descent = record_descent(case, limits=limits)
    judge(run)
    return run


def trace_of(run: CaseRun) -> Trace:
    """The run's trace, recorded now (once) when `run_case` was not asked to record it."""
    if run.trace is None:
        case = run.case
        run.trace = _trace(case.graph, forward(case.graph, case.at), case.wrt)
    return run.trace


def _trace(graph: Graph, fw: Forward, wrt: Sequence[str]) -> Trace:
    if not fw.ok:
        return Trace(None, fw.live, note=fw.message)
    s = sweep(graph, fw.values, graph.depends_bytes(list(wrt)), record=True)
    if s.failed is not None:
        return Trace(fw.values, fw.live, None, s.rows,
                     note=f"the local derivative of {graph.describe(s.failed)} is undefined")
    return Trace(fw.values, fw.live, {i: g for i, g in enumerate(s.grad) if g is not None},
                 s.rows)


def judge(run: CaseRun) -> None:
    """Fill agreement, expectation and the list of problems `check` reports."""
    case, results = run.case, run.results
    expect = case.expect
    rel_tol = expect.rel_tol if expect else DEFAULT_REL_TOL
    abs_tol = expect.abs_tol if expect else DEFAULT_ABS_TOL
    producing = [m for m, r in results.items() if r.status in HAS_GRADIENT]
    # SymPy is the reference when it answered; otherwise an exact numeric method; never the
    # numeric approximation.
    for candidate in ("sympy", "backprop", "forward", "naive"):
        if candidate in producing:
            run.reference = candidate
            break
    ref = results.get(run.reference)
    for m, r in results.items():
        if ref is None or m == run.reference or r.status not in HAS_GRADIENT:
            run.agrees[m] = None
            continue
        if m == numeric.NAME and run.kink:
            # A difference across a kink estimates no derivative: the check is that the
            # exact value lies between the one-sided differences.
            run.between = {v: numeric.between(r, v, g) for v, g in ref.gradient.items()}
            run.agrees[m] = None
            outside = [v for v, inside in run.between.items() if inside is False]
            if outside:
                run.problems.append(f"{m}: {run.reference}'s ∂/∂{', ∂/∂'.join(outside)} not "
                                    f"between the one-sided differences")
            continue
        agree = gradient_agrees(r, ref, rel_tol, abs_tol)
        run.agrees[m] = agree
        # At a kink the symbolic convention may legitimately differ from the numeric one; on
        # an ill-conditioned case float rounding is magnified past the tolerance (flagged).
        excused = run.reference == "sympy" and (run.kink or ref.status == ILL_CONDITIONED)
        if not agree and not excused:
            run.problems.append(f"{m} disagrees with {run.reference}")
    for m, r in results.items():
        if r.status == "error":
            run.problems.append(f"{m}: {r.note}")
        elif (r.status in FAILED_AT_POINT and ref is not None
              and ref.status in (OK, ILL_CONDITIONED) and not run.kink
              and m != numeric.NAME):   # numeric: x ± h left the domain
            # The function and its derivative exist here (the reference computed them), but
            # this method could not: a wrong domain check or an avoidable overflow.
            run.problems.append(f"{m}: status {r.status} ({r.note}), but {run.reference} "
                                f"computed the gradient")
    if expect is not None:
        matched = True
        for m, r in results.items():
            if r.status not in HAS_GRADIENT:
                continue
            if (m in ("sympy", numeric.NAME) and run.kink) or (m == "sympy"
                                                               and r.status == ILL_CONDITIONED):
                continue  # expectations at kinks state the exact numeric convention
            if expect.value is not None and not close(r.value, expect.value, rel_tol, abs_tol):
                matched = False
                run.problems.append(f"{m}: value {r.value!r}, expected {expect.value!r}")
            for v, g in expect.gradient.items():
                if not _grad_close(r, v, g, rel_tol, abs_tol):
                    matched = False
                    run.problems.append(f"{m}: ∂/∂{v} = {r.gradient.get(v)!r}, expected {g!r}")
        if not producing:
            matched = False
            statuses = ", ".join(f"{m} {r.status}" for m, r in results.items())
            run.problems.append(f"no method produced a gradient ({statuses})")
        run.expect_matched = matched
    if run.problems:
        run.verdict = Verdict.FAIL
    elif not producing:
        statuses = ", ".join(f"{m} {r.status}" for m, r in results.items())
        run.verdict = Verdict.UNVERIFIED
        run.unverified_reason = f"no method produced a gradient ({statuses})"
    elif len(producing) == 1 and expect is None:
        run.verdict = Verdict.UNVERIFIED
        others = ", ".join(f"{m} {r.status}" for m, r in results.items() if m not in producing)
        run.unverified_reason = (f"only {producing[0]} produced a gradient"
                                 + (f" ({others})" if others else "")
                                 + " and the case has no `expect` to compare it with")
    else:
        run.verdict = Verdict.PASS


@dataclass
class GradientCheck:
    """One row of a gradient check (what a handout's gradient-check section shows): the
    numeric estimate beside the exact value, CS231n's relative error and the tolerance the
    engine judged it with; at a kink, the one-sided differences and whether the exact value
    lies between them."""

    variable: str
    numeric: Optional[float]
    exact: Optional[float]
    exact_method: str
    rel_error: Optional[float]
    step: Optional[float]
    tolerance: Optional[float]
    agrees: Optional[bool]
    sides: Optional[tuple[Optional[float], Optional[float]]] = None
    between: Optional[bool] = None


def gradient_check(run: CaseRun, against: Optional[str] = None) -> list[GradientCheck]:
    """The gradient check of a case: the run's numeric result (computed now when the run did
    not include the numeric method) against the run's exact reference, or against the exact
    method `against` when the run has its gradient (a handout checks backprop's, the method
    students write themselves)."""
    case = run.case
    num = run.results.get(numeric.NAME) or METHODS[numeric.NAME](
        case.graph, case.at, case.wrt, DEFAULT_LIMITS)
    chosen = run.results.get(against) if against and against != numeric.NAME else None
    exact = against if chosen is not None and chosen.status in HAS_GRADIENT else run.reference
    ref = run.results.get(exact) if exact != numeric.NAME else None
    details = num.numeric
    rows = []
    for v in case.wrt:
        a = num.gradient.get(v)
        g = ref.gradient.get(v) if ref is not None else None
        sides = details.sides.get(v) if details else None
        rows.append(GradientCheck(
            v, a, g, exact if ref is not None else "", numeric.relative_error(a, g),
            details.step.get(v) if details else None,
            details.tolerance.get(v) if details else None,
            None if (g is None or a is None or sides) else numeric.agrees(num, v, g),
            sides, numeric.between(num, v, g) if sides else None))
    return rows


ProgressHook = Callable[[int, int, str], None]


def run_library(library: Library, methods: Sequence[str] = tuple(METHODS),
                limits: Limits = DEFAULT_LIMITS, progress: Optional[ProgressHook] = None,
                jobs: Optional[int] = None, record: bool = False) -> Run:
    """Run every case of a library; a failure in one case never stops the others.

    The symbolic method runs for all cases at once on `jobs` worker processes (default: one
    per core) while the numeric methods run here; `record` keeps each case's trace.
    """
    cases = library.cases
    symbolic = _symbolic_all(cases, limits, jobs) if "sympy" in methods else {}
    runs: list[CaseRun] = []
    errors = list(library.errors)
    for k, case in enumerate(cases):
        if progress:
            progress(k, len(cases), case.name)
        given = {"sympy": symbolic[k]} if k in symbolic else None
        try:
            runs.append(run_case(case, methods, limits, record=record, results=given))
        except (RecursionError, MemoryError) as err:
            errors.append(GradcompareError(f"could not be processed ({type(err).__name__})",
                                           file=case.file, line=case.line, case=case.name))
    if progress:
        progress(len(cases), len(cases), "")
    return Run(runs, errors, list(methods), limits)


def _symbolic_all(cases: Sequence[Case], limits: Limits, jobs: Optional[int]
                  ) -> dict[int, Result]:
    """The symbolic method's answers for every case, by position."""
    from .methods.symbolic import differentiate_many

    items = [(c.graph, c.at, c.wrt) for c in cases]
    return dict(enumerate(differentiate_many(items, limits, jobs=jobs)))


def differentiate(target: Union[Graph, Case, str], method: str = "backprop",
                  at: Optional[Mapping[str, float]] = None, wrt: Optional[Iterable[str]] = None,
                  limits: Limits = DEFAULT_LIMITS) -> Result:
    """Differentiate a graph, a case or an expression text with one method.

    >>> differentiate("(x + y) * z", at={"x": 3, "y": -4, "z": 5}).gradient
    {'x': 5.0, 'y': 5.0, 'z': -1.0}
    """
    from .parser import parse

    if isinstance(target, Case):
        graph, point, names = target.graph, dict(at or target.at), list(wrt or target.wrt)
    else:
        graph = parse(target, limits) if isinstance(target, str) else target
        if at is None:
            raise GradcompareError("differentiate: give the point as at={name: value}")
        point = dict(at)
        names = list(wrt) if wrt is not None else list(graph.variables)
    missing = [v for v in graph.variables if v not in point]
    if missing:
        raise GradcompareError(f"no value for {', '.join(missing)}")
    if method not in METHODS:
        raise GradcompareError(f"unknown method '{method}'; known: {', '.join(METHODS)}")
    return METHODS[method](graph, point, names, limits)


__all__ = ["CaseRun", "GradientCheck", "Run", "Trace", "Verdict", "gradient_check", "trace_of", "close", "differentiate", "judge",
           "one_sided", "run_case", "run_library"]
