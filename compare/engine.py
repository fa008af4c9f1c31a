"""Run the methods on cases and judge the answers: agreement, expectations, one-sided slopes.

This is the library behind every command; it computes, the tables and reports only present.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

from .cases import DEFAULT_ABS_TOL, DEFAULT_REL_TOL, Case, Library
from .counting import Shape, shape
from .errors import GradcompareError
from .forward import Forward, forward
from .graph import Graph
from .limits import DEFAULT_LIMITS, Limits
from .methods import METHODS
from .primitives import OPS
from .result import DOMAIN, HAS_GRADIENT, NONDIFFERENTIABLE, NONFINITE, OK, OVERFLOW, Result

# Statuses saying a method found the function or its derivative undefined at the point.
FAILED_AT_POINT = (DOMAIN, OVERFLOW, NONFINITE)


def close(a: Optional[float], b: Optional[float], rel_tol: float = DEFAULT_REL_TOL,
          abs_tol: float = DEFAULT_ABS_TOL) -> bool:
    """Agreement of two numbers; NaN, inf and missing values never agree."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= max(rel_tol * max(abs(a), abs(b)), abs_tol)


def one_sided(graph: Graph, fw: Forward, wrt: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Exact left and right partial derivatives at a point with kinks.

    Forward-mode directional derivatives: away from kinks tangents follow the local partials; at
    a kink the primitive's `kink_tangent` gives the one-sided rule (relu: max(t, 0), abs: |t|,
    max: max(ta, tb), ...).  Right = D(+e_v), left = −D(−e_v).
    """
    values, live = fw.values, fw.live
    kinks = set(fw.kinks)
    out: dict[str, tuple[float, float]] = {}
    for name in wrt:
        sides = []
        for direction in (-1.0, 1.0):
            tangent = [0.0] * len(graph)
            tangent[graph.variables[name]] = direction
            for i in range(len(graph)):
                if not live[i] or graph.is_leaf(i):
                    continue
                prim = OPS[graph.op[i]]
                args = graph.args(i)
                ts = [tangent[c] for c in args]
                if not any(ts):
                    continue
                a = values[args[0]]
                b = values[args[1]] if len(args) > 1 else None
                if i in kinks:
                    tangent[i] = prim.kink_tangent(a, b, ts[0], ts[1] if len(ts) > 1 else 0.0)
                else:
                    tangent[i] = sum(prim.partials[k](a, b, values[i]) * t
                                     for k, t in enumerate(ts) if t)
            sides.append(direction * tangent[graph.output])
        out[name] = (sides[0], sides[1])
    return out


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
    one_sided: dict[str, tuple[float, float]] = field(default_factory=dict)
    kink: bool = False
    problems: list[str] = field(default_factory=list)  # why `check` fails on this case

    @property
    def passed(self) -> bool:
        return not self.problems

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


def gradient_agrees(result: Result, reference: Result, rel_tol: float, abs_tol: float) -> bool:
    return close(result.value, reference.value, rel_tol, abs_tol) and all(
        close(result.gradient.get(v), g, rel_tol, abs_tol)
        for v, g in reference.gradient.items())


def run_case(case: Case, methods: Sequence[str] = tuple(METHODS),
             limits: Limits = DEFAULT_LIMITS) -> CaseRun:
    graph, point, wrt = case.graph, case.at, case.wrt
    fw = forward(graph, point)
    results = {m: METHODS[m](graph, point, wrt, limits) for m in methods}
    run = CaseRun(case, shape(graph, wrt), fw.operations, results, kink=bool(fw.kinks))
    if fw.ok and fw.kinks:
        run.one_sided = one_sided(graph, fw, wrt)
    judge(run)
    return run


def judge(run: CaseRun) -> None:
    """Fill agreement, expectation and the list of problems `check` reports."""
    case, results = run.case, run.results
    expect = case.expect
    rel_tol = expect.rel_tol if expect else DEFAULT_REL_TOL
    abs_tol = expect.abs_tol if expect else DEFAULT_ABS_TOL
    producing = [m for m, r in results.items() if r.status in HAS_GRADIENT]
    # SymPy is the reference when it answered; otherwise backprop, otherwise nothing.
    for candidate in ("sympy", "backprop", "naive"):
        if candidate in producing:
            run.reference = candidate
            break
    ref = results.get(run.reference)
    for m, r in results.items():
        if ref is None or m == run.reference or r.status not in HAS_GRADIENT:
            run.agrees[m] = None
            continue
        agree = gradient_agrees(r, ref, rel_tol, abs_tol)
        run.agrees[m] = agree
        # At a kink the symbolic convention may legitimately differ from the numeric one.
        excused = run.kink and run.reference == "sympy"
        if not agree and not excused:
            run.problems.append(f"{m} disagrees with {run.reference}")
    for m, r in results.items():
        if r.status == "error":
            run.problems.append(f"{m}: {r.note}")
        elif (r.status in FAILED_AT_POINT and ref is not None and ref.status == OK
              and not run.kink):
            # The function and its derivative exist here (the reference computed them), but
            # this method could not: a wrong domain check or an avoidable overflow.
            run.problems.append(f"{m}: status {r.status} ({r.note}), but {run.reference} "
                                f"computed the gradient")
    if expect is not None:
        matched = True
        for m, r in results.items():
            if r.status not in HAS_GRADIENT:
                continue
            if run.kink and m == "sympy":
                continue  # expectations at kinks state the numeric convention
            if expect.value is not None and not close(r.value, expect.value, rel_tol, abs_tol):
                matched = False
                run.problems.append(f"{m}: value {r.value!r}, expected {expect.value!r}")
            for v, g in expect.gradient.items():
                if not close(r.gradient.get(v), g, rel_tol, abs_tol):
                    matched = False
                    run.problems.append(f"{m}: ∂/∂{v} = {r.gradient.get(v)!r}, expected {g!r}")
        if not producing:
            matched = False
            statuses = ", ".join(f"{m} {r.status}" for m, r in results.items())
            run.problems.append(f"no method produced a gradient ({statuses})")
        run.expect_matched = matched


ProgressHook = Callable[[int, int, str], None]


def run_library(library: Library, methods: Sequence[str] = tuple(METHODS),
                limits: Limits = DEFAULT_LIMITS, progress: Optional[ProgressHook] = None) -> Run:
    """Run every case of a library; a failure in one case never stops the others."""
    runs: list[CaseRun] = []
    errors = list(library.errors)
    for k, case in enumerate(library.cases):
        if progress:
            progress(k, len(library.cases), case.name)
        try:
            runs.append(run_case(case, methods, limits))
        except (RecursionError, MemoryError) as err:
            errors.append(GradcompareError(f"could not be processed ({type(err).__name__})",
                                           file=case.file, line=case.line, case=case.name))
    if progress:
        progress(len(library.cases), len(library.cases), "")
    return Run(runs, errors, list(methods), limits)


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


__all__ = ["CaseRun", "Run", "close", "differentiate", "judge", "one_sided", "run_case",
           "run_library", "NONDIFFERENTIABLE"]
