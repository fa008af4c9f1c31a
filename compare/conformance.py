"""The case library as a conformance suite for other autodiff engines.

`run(library, ["torch", "micrograd"])` replays every case's graph on each engine (in a worker
process per engine, under a per-case deadline: compare.engines.worker) and judges the engine's
value and gradient against the case's exact reference at the case's tolerance:

- *pass*: value and gradient agree.  At a kink the engine's gradient is not judged against
  SymPy's convention: it is recorded and classified as `convention` (PyTorch's, which
  gradcompare's numeric methods use), `one-sided` (between the exact one-sided derivatives,
  compare.tangent.one_sided) or `outside` (a *fail*).
- *fail* (wrong value or gradient, NaN included), *error* (the engine raised: the exception's
  text, RecursionError on a deep graph included), *timeout* (past `limits.engine_seconds`):
  that case's result; the other cases go on.
- *unsupported*: the case uses an operation the engine lacks (listed), never a failure.
- *skipped*: the case has no exact reference (the function is undefined at the point, or no
  method could verify a gradient); the engine's answer is still recorded.

The reference is SymPy's exact gradient where it answered; at a kink, gradcompare's
backprop (PyTorch's convention) with the exact one-sided derivatives; where SymPy gave up, a
backprop gradient the case's `check` verified (against `expect` or the naive method).

`kink_probes` asks each engine itself what it does at the classic kinks (relu, abs, max/min
ties, sqrt at 0, pow at 0): the kink table is measured, never written down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, Union

from .cases import DEFAULT_ABS_TOL, DEFAULT_REL_TOL, Case, Library
from .engine import CaseRun, Run, close, run_case, run_library
from .engines.base import Adapter, EngineMissing
from .engines.program import Program, program_of
from .errors import GradcompareError
from .limits import DEFAULT_LIMITS, Limits
from .result import HAS_GRADIENT, OK

PASS, FAIL, ERROR, TIMEOUT, UNSUPPORTED, SKIPPED = (
    "pass", "fail", "error", "timeout", "unsupported", "skipped")
VERDICTS = (PASS, FAIL, ERROR, TIMEOUT, UNSUPPORTED, SKIPPED)
FAILING = (FAIL, ERROR, TIMEOUT)
# How an engine's gradient at a kink is classified.
CONVENTION, ONE_SIDED, OUTSIDE = "convention", "one-sided", "outside"
LOAD_SECONDS = 300.0   # importing an engine (torch, jax) may take a while on a busy machine

EngineSpec = Union[str, Adapter]
ProgressHook = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Reference:
    """A case's exact answer, as an engine is judged against it."""

    case: str
    value: Optional[float]                       # None: no reference (see `reason`)
    gradient: dict[str, float]
    source: str = ""                             # where the numbers come from
    exact_value: Optional[str] = None            # SymPy's exact text, when short
    exact_gradient: dict[str, str] = field(default_factory=dict)
    kink: bool = False
    one_sided: dict[str, tuple[Optional[float], Optional[float]]] = field(default_factory=dict)
    rel_tol: float = DEFAULT_REL_TOL
    abs_tol: float = DEFAULT_ABS_TOL
    reason: str = ""

    def judge(self, value: Optional[float], gradient: dict[str, float]
              ) -> tuple[str, str, str]:
        """(verdict, kink class, detail) of an engine's answer against this reference."""
        if self.value is None:
            return SKIPPED, "", f"no exact reference: {self.reason}"
        problems: list[str] = []
        if not close(value, self.value, self.rel_tol, self.abs_tol):
            problems.append(f"value {_num(value)}, expected {_num(self.value)}")
        classes: list[str] = []
        for v, want in self.gradient.items():
            got = gradient.get(v)
            if close(got, want, self.rel_tol, self.abs_tol):
                classes.append(CONVENTION)
                continue
            if self.kink and self._between(v, got):
                classes.append(ONE_SIDED)
                continue
            if self.kink:
                classes.append(OUTSIDE)
                left, right = self.one_sided.get(v, (None, None))
                problems.append(f"∂/∂{v} = {_num(got)}, outside the one-sided derivatives "
                                f"[{_num(left)}, {_num(right)}] (convention {_num(want)})")
            else:
                problems.append(f"∂/∂{v} = {_num(got)}, expected {_num(want)}")
        kink = ""
        if self.kink:
            kink = next((c for c in (OUTSIDE, ONE_SIDED) if c in classes), CONVENTION)
        return (FAIL if problems else PASS), kink, "; ".join(problems)

    def _between(self, v: str, got: Optional[float]) -> bool:
        left, right = self.one_sided.get(v, (None, None))
        if got is not None and got in (left, right):   # a side itself, inf included (sqrt'(0))
            return True
        if got is None or left is None or right is None or not math.isfinite(got):
            return False
        lo, hi = min(left, right), max(left, right)
        slack = max(self.rel_tol * max(abs(lo), abs(hi)), self.abs_tol)
        return lo - slack <= got <= hi + slack


def _num(x: Optional[float]) -> str:
    return "none" if x is None else repr(float(x) + 0.0)   # + 0.0: no "-0.0"


def reference_of(cr: CaseRun) -> Reference:
    """The exact reference of a case run with (at least) backprop and sympy."""
    case = cr.case
    tol = dict(rel_tol=case.expect.rel_tol, abs_tol=case.expect.abs_tol) if case.expect else {}
    sym, bp = cr.results.get("sympy"), cr.results.get("backprop")
    exact_value = sym.details.value_exact if sym is not None and sym.details else None
    exact_gradient = dict(sym.details.exact) if sym is not None and sym.details else {}
    if cr.kink and bp is not None and bp.status in HAS_GRADIENT and cr.passed:
        value = sym.value if sym is not None and sym.value is not None else bp.value
        return Reference(case.name, value, dict(bp.gradient),
                         "backprop: PyTorch's convention at the kink, with the exact "
                         "one-sided derivatives", exact_value, {}, True,
                         dict(cr.one_sided), **tol)
    if sym is not None and sym.status == OK and not cr.kink:
        return Reference(case.name, sym.value, dict(sym.gradient), "sympy (exact)",
                         exact_value, exact_gradient, **tol)
    if bp is not None and bp.status == OK and cr.passed and not cr.kink:
        return Reference(case.name, bp.value, dict(bp.gradient),
                         f"backprop, verified by check (sympy: "
                         f"{sym.status if sym is not None else 'not run'})", **tol)
    statuses = ", ".join(f"{m} {r.status}" for m, r in cr.results.items())
    return Reference(case.name, None, {}, reason=f"{statuses}; check: {cr.verdict}", **tol)


@dataclass
class EngineResult:
    """One engine on one case."""

    case: str
    engine: str
    verdict: str
    detail: str = ""
    kink: str = ""                               # convention / one-sided / outside at a kink
    value: Optional[float] = None
    gradient: dict[str, float] = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)
    seconds: Optional[float] = None              # build + forward + backward, in the engine
    nodes: int = 0


@dataclass
class KinkRow:
    """What one engine gives at one classic kink (measured, by kink_probes)."""

    probe: str
    engine: str
    gradient: Optional[float]
    text: str                                    # the number, or why there is none


@dataclass
class Conformance:
    engines: dict[str, str]                      # engine -> version
    results: list[EngineResult]
    references: dict[str, Reference]
    kinks: list[KinkRow] = field(default_factory=list)
    errors: list[GradcompareError] = field(default_factory=list)

    def of(self, engine: str) -> list[EngineResult]:
        return [r for r in self.results if r.engine == engine]

    def count(self, engine: str, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.of(engine))

    def tally(self, engine: str) -> str:
        """`93 pass, 0 fail, 0 error, 0 timeout, 4 unsupported, 2 skipped`."""
        return ", ".join(f"{self.count(engine, v)} {v}" for v in VERDICTS)

    def speed(self, engine: str) -> tuple[Optional[float], int, int]:
        """(µs per node over the cases the engine answered, those cases, their nodes)."""
        timed = [r for r in self.of(engine) if r.seconds is not None]
        nodes = sum(r.nodes for r in timed)
        seconds = sum(r.seconds for r in timed if r.seconds is not None)
        return (seconds / nodes * 1e6 if nodes else None), len(timed), nodes

    @property
    def failed(self) -> bool:
        return any(r.verdict in FAILING for r in self.results)

    def frame(self):
        """A tidy pandas DataFrame: one row per (case, engine, variable) with the engine's
        value and partial, the reference's, the verdict, kink class, detail, seconds, nodes
        (one row with a blank variable where the engine gave no gradient)."""
        import pandas as pd

        rows = []
        for r in self.results:
            ref = self.references.get(r.case)
            names = list(ref.gradient) if ref is not None and ref.value is not None else []
            for v in names or [None]:
                rows.append({"case": r.case, "engine": r.engine, "verdict": r.verdict,
                             "kink": r.kink, "variable": v, "value": r.value,
                             "partial": r.gradient.get(v) if v else None,
                             "reference_value": ref.value if ref else None,
                             "reference_partial": ref.gradient.get(v) if ref and v else None,
                             "detail": r.detail, "seconds": r.seconds, "nodes": r.nodes})
        return pd.DataFrame(rows)


# The classic kinks asked of every engine: (label, expression, point, variable).
PROBES: tuple[tuple[str, str, dict[str, float], str], ...] = (
    ("relu'(0)", "relu(x)", {"x": 0.0}, "x"),
    ("abs'(0)", "abs(x)", {"x": 0.0}, "x"),
    ("max(x, y) at x = y = 1: ∂/∂x", "max(x, y)", {"x": 1.0, "y": 1.0}, "x"),
    ("max(x, y) at x = y = 1: ∂/∂y", "max(x, y)", {"x": 1.0, "y": 1.0}, "y"),
    ("min(x, y) at x = y = 1: ∂/∂x", "min(x, y)", {"x": 1.0, "y": 1.0}, "x"),
    ("min(x, y) at x = y = 1: ∂/∂y", "min(x, y)", {"x": 1.0, "y": 1.0}, "y"),
    ("sqrt'(0)", "sqrt(x)", {"x": 0.0}, "x"),
    ("d(x^2)/dx at x = 0", "x ^ 2", {"x": 0.0}, "x"),
    ("d(x^y)/dy at x = 0, y = 2", "x ^ y", {"x": 0.0, "y": 2.0}, "y"),
)
GRADCOMPARE = "gradcompare"
ONE_SIDED_COLUMN = "exact one-sided (left, right)"


def probe_cases() -> list[Case]:
    from .parser import parse

    return [Case(name=label, at=dict(point), wrt=[var], graph=parse(text), expression=text)
            for label, text, point, var in PROBES]


def _probe_reference() -> list[KinkRow]:
    """gradcompare's own answers at the probes (its convention) and the one-sided pair."""
    rows = []
    for case in probe_cases():
        cr = run_case(case, ["backprop"])
        var = case.wrt[0]
        r = cr.results["backprop"]
        g = r.gradient.get(var) if r.status in HAS_GRADIENT else None
        rows.append(KinkRow(case.name, GRADCOMPARE, g, _num(g) if g is not None
                            else str(r.status)))
        left, right = cr.one_sided.get(var, (None, None))
        text = f"({_num(left)}, {_num(right)})" if cr.kink else "not a kink"
        rows.append(KinkRow(case.name, ONE_SIDED_COLUMN, None, text))
    return rows


class _EnginePool:
    """One engine's worker process: loaded once, then given one program per case."""

    def __init__(self, spec: EngineSpec, limits: Limits) -> None:
        from .engines import worker
        from .isolation import WorkerPool

        self.spec, self.limits, self.worker = spec, limits, worker
        self.name = spec if isinstance(spec, str) else spec.name
        self.pool = WorkerPool(1, memory_mb=0)   # no address-space cap: engines reserve a lot
        status, answer = self.pool.result(self.pool.submit(worker.load, (spec,), LOAD_SECONDS))
        if status != "done":
            self.pool.close()
            raise EngineMissing(f"engine '{self.name}' could not be loaded ({status}: "
                                f"{answer or 'no answer'})")
        if answer[0] != "ok":
            self.pool.close()
            raise EngineMissing(answer[1])
        self.version = answer[1]
        self._warm_up()

    def _warm_up(self) -> None:
        """The engine's first run, under a case's deadline; a worker it kills or hangs is
        replaced and the engine loaded again (the cases then say what is wrong)."""
        status, _ = self.pool.result(self.pool.submit(self.worker.warm_up, (self.spec,),
                                                      self.limits.engine_seconds))
        if status != "done":
            self.pool.result(self.pool.submit(self.worker.load, (self.spec,), LOAD_SECONDS))

    def run(self, programs: Sequence[Program]) -> list[tuple[str, object]]:
        """Each program under the deadline, one at a time.  A worker killed at a deadline (or
        dead) is replaced by a fresh fork, which loads the engine again before the next case
        starts its clock, so that importing torch is never timed as a case."""
        out = []
        for program in programs:
            ticket = self.pool.submit(self.worker.run, (self.spec, program),
                                      self.limits.engine_seconds)
            out.append(self.pool.result(ticket))
            if out[-1][0] != "done":
                self.pool.result(self.pool.submit(self.worker.load, (self.spec,), LOAD_SECONDS))
                self._warm_up()
        return out

    def close(self) -> None:
        self.pool.close()


def _result(case: str, engine: str, program: Program, outcome: tuple[str, object],
            ref: Optional[Reference], limits: Limits) -> EngineResult:
    status, answer = outcome
    res = EngineResult(case, engine, ERROR, nodes=len(program))
    if status == "timeout":
        res.verdict = TIMEOUT
        res.detail = f"no answer within {limits.engine_seconds:g} s (engine_seconds)"
        return res
    if status != "done" or not isinstance(answer, dict):
        res.detail = f"the engine's process failed: {answer}"
        return res
    if answer["status"] == "unsupported":
        res.verdict, res.unsupported = UNSUPPORTED, list(answer["ops"])
        res.detail = "lacks " + ", ".join(res.unsupported)
        return res
    if answer["status"] == "error":
        res.detail = str(answer["error"])
        if ref is not None and ref.value is None:   # undefined here: raising is an answer too
            res.verdict = SKIPPED
            res.detail = f"no exact reference: {ref.reason}; the engine raised {res.detail}"
        return res
    res.value, res.gradient, res.seconds = answer["value"], answer["gradient"], answer["seconds"]
    if ref is None:
        res.verdict, res.detail = SKIPPED, "no exact reference"
        return res
    res.verdict, res.kink, res.detail = ref.judge(res.value, res.gradient)
    return res


def run(library: Library, engines: Sequence[EngineSpec], limits: Limits = DEFAULT_LIMITS,
        jobs: Optional[int] = None, reference_run: Optional[Run] = None,
        progress: Optional[ProgressHook] = None, probes: bool = True) -> Conformance:
    """Every case of `library` on every engine, judged against the exact references.

    `engines` are names (`torch`, `value:MODULE:CLASS`, …) or adapter objects.  Every engine is
    loaded before any case runs, so a missing one raises EngineMissing (one line) at once.
    `reference_run` reuses a run (of this library or a larger one) that included backprop and
    sympy, or backprop and naive.
    """
    pools: list[_EnginePool] = []
    try:
        for spec in engines:
            pools.append(_EnginePool(spec, limits))
        if reference_run is None:
            reference_run = run_library(library, ["backprop", "sympy"], limits, jobs=jobs)
        chosen = {case.name for case in library.cases}
        runs = [cr for cr in reference_run.runs if cr.case.name in chosen]
        refs = {cr.case.name: reference_of(cr) for cr in runs}
        programs = [program_of(cr.case.graph, cr.case.at, cr.case.wrt) for cr in runs]
        probe_list = probe_cases() if probes else []
        probe_programs = [program_of(c.graph, c.at, c.wrt) for c in probe_list]
        out = Conformance({p.name: p.version for p in pools}, [], refs,
                          _probe_reference() if probes else [], list(reference_run.errors))
        for k, p in enumerate(pools):
            if progress:
                progress(k, len(pools), p.name)
            for cr, program, outcome in zip(runs, programs, p.run(programs)):
                out.results.append(_result(cr.case.name, p.name, program, outcome,
                                           refs[cr.case.name], limits))
            for case, program, outcome in zip(probe_list, probe_programs,
                                              p.run(probe_programs)):
                out.kinks.append(_kink_row(case, p.name, program, outcome))
        if progress:
            progress(len(pools), len(pools), "")
        return out
    finally:
        for p in pools:
            p.close()


def _kink_row(case: Case, engine: str, program: Program, outcome: tuple[str, object]
              ) -> KinkRow:
    res = _result(case.name, engine, program, outcome, None, DEFAULT_LIMITS)
    if res.value is None:
        text = res.verdict + (f": {res.detail}" if res.detail else "")
        return KinkRow(case.name, engine, None, text)
    g = res.gradient.get(case.wrt[0])
    return KinkRow(case.name, engine, g, _num(g))


__all__ = ["Conformance", "EngineResult", "KinkRow", "Reference", "VERDICTS", "PROBES",
           "probe_cases", "reference_of", "run"]
