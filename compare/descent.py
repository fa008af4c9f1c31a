"""Gradient descent on a case: the objective J(θ) and the optimizers, as torch.optim has them.

The lecture computes the gradient to run θ ← θ − α·∇J(θ).  Here:

* `Objective` is J as one computational graph built from the case's own graph (one copy per data
  row, the row's values as constants, the loss on top, the mean over the rows), so every method
  in compare.methods differentiates it like any case and its operations are counted the same
  way.  A case without data and loss descends its expression itself, the other variables held
  at their `at` values.
* The optimizers follow torch.optim's documented algorithms (and its arithmetic order, so a run
  agrees with PyTorch's to rounding): SGD with momentum, dampening, Nesterov and weight decay
  (the momentum buffer is the gradient itself on the first step), RMSprop (α = 0.99, ε = 1e-8
  added after the square root, optional momentum and centered), Adam (β = (0.9, 0.999),
  ε = 1e-8, bias correction, optional amsgrad, weight decay as an L2 term).  `gd` is full-batch
  SGD, `momentum` is SGD with momentum 0.9.
* `descend` runs one optimizer and records a trajectory: every step's parameters, the loss on
  all rows, the gradient's norm, the operations the chosen method has spent so far, a status.
  A loss or parameter that turns inf/NaN stops the run as `diverged` at that step; a zero
  gradient with nothing left to move stops it as `stationary` (there is no step to take).

* `record` is what the engine keeps for a report's descent page (trajectories and the contour
  grid), so the report only draws them.

Nothing here prints or parses arguments (the command is compare.cli.descend; its table is
compare.tables.descent_table); numpy and matplotlib are imported only by the functions that
compute a grid or draw.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from .cases import TARGET_LOSSES, Case
from .errors import GradcompareError
from .forward import forward
from .graph import Graph
from .limits import DEFAULT_LIMITS, Limits
from .primitives import CONST, OPS, VAR
from .result import DOMAIN, HAS_GRADIENT, NONFINITE, OVERFLOW

OPTIMIZERS = ("gd", "sgd", "momentum", "rmsprop", "adam")
# Each optimizer's settings and their defaults (torch.optim's; lr None: see `learning_rate`).
# batch None: every row at every step; `gd` is full batch by definition.
DEFAULTS: dict[str, dict[str, Any]] = {
    "gd": {"lr": None, "weight_decay": 0.0},
    "sgd": {"lr": None, "momentum": 0.0, "dampening": 0.0, "nesterov": False,
            "weight_decay": 0.0, "batch": 1},
    "momentum": {"lr": None, "momentum": 0.9, "dampening": 0.0, "nesterov": False,
                 "weight_decay": 0.0, "batch": None},
    "rmsprop": {"lr": None, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False,
                "weight_decay": 0.0, "batch": None},
    "adam": {"lr": None, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "amsgrad": False,
             "weight_decay": 0.0, "batch": None},
}
# torch.optim's default learning rates, used when neither --lr nor the case gives one.
TORCH_LR = {"gd": 1e-3, "sgd": 1e-3, "momentum": 1e-3, "rmsprop": 1e-2, "adam": 1e-3}
MAX_STEPS = 1_000_000
DIVERGED, STATIONARY = "diverged", "stationary"


# -- the objective -----------------------------------------------------------------------------
class Objective:
    """J(θ) of a case: the graph over all rows, and over any mini-batch of rows (cached)."""

    def __init__(self, case: Case, parameters: Optional[Sequence[str]] = None,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.case = case
        self.parameters = list(parameters or case.parameters or case.wrt)
        columns = set(case.data_columns)
        for p in self.parameters:
            if p not in case.graph.variables:
                raise GradcompareError(f"parameter '{p}' is not a variable of this case "
                                       f"(variables: {', '.join(case.graph.variables)})",
                                       case=case.name)
            if p in columns:
                raise GradcompareError(f"'{p}' is a data column of this case, not a parameter: "
                                       f"descent keeps data fixed", case=case.name)
        self.start = {p: case.at[p] for p in self.parameters}
        self.rows = len(case.data) if case.loss else 1
        size = self.rows * (sum(case.graph.live()) + 8)
        if size > limits.max_nodes:
            raise GradcompareError(f"the objective would have about {size:,} nodes, above "
                                   f"max_nodes ({limits.max_nodes:,})", case=case.name)
        self._graphs: dict[tuple[int, ...], Graph] = {}
        self.graph = self.batch(tuple(range(self.rows)))

    @property
    def has_loss(self) -> bool:
        return self.case.loss is not None

    def batch(self, rows: tuple[int, ...]) -> Graph:
        """J over these rows only (the mean over them), built once per distinct batch."""
        graph = self._graphs.get(rows)
        if graph is None:
            graph = _build(self.case, self.parameters, rows if self.has_loss else ())
            if len(self._graphs) < 512:
                self._graphs[rows] = graph
        return graph

    def formula(self) -> str:
        """J written out, for tables and pages."""
        case = self.case
        if not self.has_loss:
            return "J(θ) = f(θ)"
        y = case.target
        per_row = {"mean": "f",
                   "squared_error": f"(f − {y})²",
                   "binary_cross_entropy": f"−[{y}·ln f + (1 − {y})·ln(1 − f)]"}[case.loss]
        return f"J(θ) = (1/{self.rows}) Σ {per_row}" if self.rows > 1 else f"J(θ) = {per_row}"


def _build(case: Case, parameters: Sequence[str], rows: Sequence[int]) -> Graph:
    """Copy the case's live graph once per row: parameters stay variables, data and the other
    variables become constants; then the loss per row and the mean."""
    src = case.graph
    live = src.live()
    graph = Graph()
    for p in parameters:
        graph.variable(p)                    # the parameters first, in their order
    fixed = {v: case.at[v] for v in src.variables if v not in parameters}
    terms = []
    for r in rows or [None]:
        values = dict(fixed)
        row = case.data[r] if r is not None else {}
        values.update({k: v for k, v in row.items() if k != case.target})
        mapped = [-1] * len(src)
        for i in range(len(src)):
            if not live[i]:
                continue
            code = src.op[i]
            if code == VAR:
                name = src.var_name[i]
                mapped[i] = (graph.variable(name) if name in parameters
                             else graph.constant(values[name]))
            elif code == CONST:
                mapped[i] = graph.constant(src.const[i], src.exact[i])
            else:
                y = src.b[i]
                mapped[i] = graph.apply(OPS[code].name, mapped[src.a[i]],
                                        mapped[y] if y >= 0 else -1)
        f = mapped[src.output]
        terms.append(_loss_term(graph, case, f, row.get(case.target) if case.target else None))
    total = terms[0]
    for term in terms[1:]:
        total = graph.apply("add", total, term)
    if len(terms) > 1:
        total = graph.apply("div", total, graph.constant(len(terms)))
    graph.output = total
    return graph.seal()


def _loss_term(graph: Graph, case: Case, f: int, y: Optional[float]) -> int:
    if case.loss in (None, "mean"):
        return f
    assert y is not None and case.loss in TARGET_LOSSES
    if case.loss == "squared_error":
        return graph.apply("pow", graph.apply("sub", f, graph.constant(y)), graph.constant(2))
    one = graph.constant(1)
    if y == 1:
        return graph.apply("neg", graph.apply("log", f))
    if y == 0:
        return graph.apply("neg", graph.apply("log", graph.apply("sub", one, f)))
    exact = Fraction(repr(y))
    both = graph.apply("add",
                       graph.apply("mul", graph.constant(y, exact), graph.apply("log", f)),
                       graph.apply("mul", graph.constant(1 - y, 1 - exact),
                                   graph.apply("log", graph.apply("sub", one, f))))
    return graph.apply("neg", both)


# -- the optimizers ----------------------------------------------------------------------------
class Optimizer:
    """One torch.optim algorithm on a list of parameters; `step` returns the new parameters
    and what it computed on the way (per parameter), for handouts to write out."""

    name = ""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.s = dict(settings)
        self.t = 0

    def step(self, theta: list[float], grad: list[float]
             ) -> tuple[list[float], dict[str, list[float]]]:
        raise NotImplementedError

    def _decayed(self, theta: list[float], grad: list[float]) -> list[float]:
        wd = self.s["weight_decay"]
        return [g + wd * p for g, p in zip(grad, theta)] if wd else list(grad)


class SGD(Optimizer):
    """torch.optim.SGD: b₁ = g₁ (no dampening on the first step), then b = μ·b + (1 − τ)·g;
    Nesterov uses g + μ·b; θ ← θ − γ·(that)."""

    name = "sgd"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self.buf: Optional[list[float]] = None

    def step(self, theta, grad):
        self.t += 1
        lr, mu, tau = self.s["lr"], self.s.get("momentum", 0.0), self.s.get("dampening", 0.0)
        d = self._decayed(theta, grad)
        record = {"g": d}
        if mu != 0:
            if self.buf is None:
                self.buf = list(d)
            else:
                self.buf = [b * mu + (1 - tau) * x for b, x in zip(self.buf, d)]
            record["b"] = list(self.buf)
            d = ([x + mu * b for x, b in zip(d, self.buf)] if self.s.get("nesterov")
                 else list(self.buf))
        record["update"] = d
        return [p + (-lr) * x for p, x in zip(theta, d)], record


class RMSprop(Optimizer):
    """torch.optim.RMSprop: v = α·v + (1 − α)·g²; centered subtracts the squared running mean
    of g; the denominator is √v + ε; optional momentum buffer b = μ·b + g/(√v + ε)."""

    name = "rmsprop"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self.v: Optional[list[float]] = None
        self.gavg: Optional[list[float]] = None
        self.buf: Optional[list[float]] = None

    def step(self, theta, grad):
        self.t += 1
        lr, alpha, eps, mu = self.s["lr"], self.s["alpha"], self.s["eps"], self.s["momentum"]
        d = self._decayed(theta, grad)
        n = len(d)
        v = self.v or [0.0] * n
        v = [x * alpha + (1 - alpha) * g * g for x, g in zip(v, d)]
        self.v = v
        record = {"g": d, "v": v}
        if self.s["centered"]:
            gavg = _lerp(self.gavg or [0.0] * n, d, 1 - alpha)
            self.gavg = gavg
            record["g_avg"] = gavg
            avg = [math.sqrt(x + (-1) * m * m) + eps for x, m in zip(v, gavg)]
        else:
            avg = [math.sqrt(x) + eps for x in v]
        record["denominator"] = avg
        if mu > 0:
            self.buf = [b * mu + g / a for b, g, a in zip(self.buf or [0.0] * n, d, avg)]
            record["b"] = self.buf
            record["update"] = self.buf
            return [p + (-lr) * b for p, b in zip(theta, self.buf)], record
        record["update"] = [g / a for g, a in zip(d, avg)]
        return [p + (-lr) * g / a for p, g, a in zip(theta, d, avg)], record


class Adam(Optimizer):
    """torch.optim.Adam: m = β₁·m + (1 − β₁)·g, v = β₂·v + (1 − β₂)·g², m̂ = m/(1 − β₁ᵗ),
    v̂ = v/(1 − β₂ᵗ) (amsgrad: the running maximum of v), θ ← θ − γ·m̂/(√v̂ + ε)."""

    name = "adam"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self.m: Optional[list[float]] = None
        self.v: Optional[list[float]] = None
        self.vmax: Optional[list[float]] = None

    def step(self, theta, grad):
        self.t += 1
        t = self.t
        lr, b1, b2, eps = self.s["lr"], self.s["beta1"], self.s["beta2"], self.s["eps"]
        d = self._decayed(theta, grad)
        n = len(d)
        m = _lerp(self.m or [0.0] * n, d, 1 - b1)
        v = [x * b2 + (1 - b2) * g * g for x, g in zip(self.v or [0.0] * n, d)]
        self.m, self.v = m, v
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        step_size = lr / bc1
        bc2_sqrt = bc2 ** 0.5
        second = v
        if self.s["amsgrad"]:
            self.vmax = [max(a, b) for a, b in zip(self.vmax or [0.0] * n, v)]
            second = self.vmax
        denom = [math.sqrt(x) / bc2_sqrt + eps for x in second]
        record = {"g": d, "m": m, "v": v, "m_hat": [x / bc1 for x in m],
                  "v_hat": [x / bc2 for x in second], "denominator": denom,
                  "bias1": [bc1] * n, "bias2": [bc2] * n}
        if self.s["amsgrad"]:
            record["v_max"] = list(second)
        record["update"] = [x / bc1 / dn for x, dn in zip(m, denom)]
        return [p + (-step_size) * x / dn for p, x, dn in zip(theta, m, denom)], record


def _lerp(start: list[float], end: list[float], weight: float) -> list[float]:
    """torch.lerp's formula (start + w·(end − start) for w < 1/2, as Adam's and RMSprop's
    running means use it)."""
    if abs(weight) < 0.5:
        return [s + weight * (e - s) for s, e in zip(start, end)]
    return [e - (e - s) * (1 - weight) for s, e in zip(start, end)]


RULES: dict[str, Callable[[Mapping[str, Any]], Optimizer]] = {
    "gd": SGD, "sgd": SGD, "momentum": SGD, "rmsprop": RMSprop, "adam": Adam}


# -- settings ------------------------------------------------------------------------------------
@dataclass
class Config:
    """One optimizer with every setting decided (lr and batch included)."""

    optimizer: str
    settings: dict[str, Any]

    @property
    def lr(self) -> float:
        return self.settings["lr"]

    @property
    def batch(self) -> Optional[int]:
        return self.settings.get("batch")

    def make(self) -> Optimizer:
        return RULES[self.optimizer](self.settings)


def configure(objective: Objective, optimizers: Sequence[str] = OPTIMIZERS,
              lr: Optional[float] = None, batch: Optional[int] = None,
              overrides: Optional[Mapping[str, Mapping[str, Any]]] = None) -> list[Config]:
    """Every chosen optimizer's settings: torch's defaults, then the case's learning rate, then
    `lr` and `batch` for all, then `overrides[optimizer][setting]`.  Raises a GradcompareError
    with one clear line for a bad choice."""
    unknown = [o for o in optimizers if o not in DEFAULTS]
    if unknown or not optimizers:
        raise GradcompareError(f"unknown optimizer {', '.join(unknown) or '(none given)'}; "
                               f"known: {', '.join(OPTIMIZERS)}")
    overrides = dict(overrides or {})
    for name in overrides:
        if name not in optimizers:
            raise GradcompareError(f"settings given for {name}, which is not among the "
                                   f"optimizers run ({', '.join(optimizers)})")
    configs = []
    for name in dict.fromkeys(optimizers):
        s = dict(DEFAULTS[name])
        s["lr"] = lr if lr is not None else (objective.case.learning_rate or TORCH_LR[name])
        if batch is not None and "batch" in s:
            s["batch"] = batch
        for key, value in overrides.get(name, {}).items():
            if key not in s:
                raise GradcompareError(f"{name} has no setting '{key}'; its settings: "
                                       f"{', '.join(s)}")
            s[key] = value
        _check(name, s, objective.rows)
        if s.get("batch") is not None and s["batch"] >= objective.rows:
            s["batch"] = None                  # a batch of every row is the full batch
        configs.append(Config(name, s))
    return configs


def _check(name: str, s: Mapping[str, Any], rows: int) -> None:
    def bad(message: str) -> GradcompareError:
        return GradcompareError(f"{name}: {message}")

    for key, value in s.items():
        if key in ("nesterov", "centered", "amsgrad"):
            if not isinstance(value, bool):
                raise bad(f"{key} is true or false, got {value!r}")
        elif key == "batch":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 1):
                raise bad(f"the batch is a number of rows ≥ 1, got {value!r}")
            if value is not None and value > rows:
                raise bad(f"a batch of {value} rows, but the case has {rows} data "
                          f"row{'s' if rows != 1 else ''}")
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not math.isfinite(value):
            raise bad(f"{key} must be a finite number, got {value!r}")
    if not s["lr"] > 0:
        raise bad(f"the learning rate must be positive, got {s['lr']:g}")
    for key in ("weight_decay", "momentum", "eps", "alpha", "dampening"):
        if key in s and s[key] < 0:
            raise bad(f"{key} must not be negative, got {s[key]:g}")
    for key in ("beta1", "beta2"):
        if key in s and not 0 <= s[key] < 1:
            raise bad(f"{key} must be in [0, 1), got {s[key]:g}")
    if s.get("nesterov") and (s["momentum"] <= 0 or s["dampening"] != 0):
        raise bad("Nesterov momentum needs a momentum above 0 and no dampening (as in torch)")


def batches(rows: int, size: Optional[int], seed: int) -> Iterator[tuple[int, ...]]:
    """The rows of each step: all of them (size None), or mini-batches of `size` rows from a
    fresh seeded shuffle every epoch (random.Random(seed)); an epoch's last batch may be
    smaller, as torch's DataLoader gives it without drop_last."""
    if size is None:
        everything = tuple(range(rows))
        while True:
            yield everything
    rng = random.Random(seed)
    while True:
        order = list(range(rows))
        rng.shuffle(order)
        for k in range(0, rows, size):
            yield tuple(sorted(order[k:k + size]))


# -- a run -------------------------------------------------------------------------------------
@dataclass
class Step:
    """One row of a trajectory: the parameters θ_t and what was known there."""

    step: int
    theta: dict[str, float]
    loss: Optional[float]                 # J(θ_t) on every row
    grad_norm: Optional[float]            # ‖g_t‖ of the gradient the update from θ_t uses
    gradient: Optional[dict[str, float]]  # (the last row's: the one a further update would)
    operations: Optional[int]             # the method's operations so far (None: not counted)
    status: str = "ok"
    note: str = ""
    rows: Optional[tuple[int, ...]] = None   # the mini-batch, when not every row
    record: dict[str, list[float]] = field(default_factory=dict)   # the optimizer's workings


@dataclass
class Trajectory:
    optimizer: str
    settings: dict[str, Any]
    method: str
    parameters: list[str]
    steps: list[Step]

    @property
    def final(self) -> Step:
        return self.steps[-1]

    @property
    def status(self) -> str:
        return self.final.status


def descend(objective: Objective, config: Config, steps: int, method: str = "backprop",
            seed: int = 0, limits: Limits = DEFAULT_LIMITS,
            progress: Optional[Callable[[int, int, str], None]] = None,
            cache: Optional[dict] = None) -> Trajectory:
    """Run one optimizer for `steps` updates (fewer when it diverges or stops).

    `cache` (shared by `run` across optimizers) keeps the full-batch answers by point: every
    optimizer starts at the same θ, and a method that timed out there is not asked again.
    """
    from .methods import METHODS

    if steps < 1 or steps > MAX_STEPS:
        raise GradcompareError(f"steps must be from 1 to {MAX_STEPS:,}, got {steps}")
    if method not in METHODS:
        raise GradcompareError(f"unknown method {method}; known: {', '.join(METHODS)}")
    differentiate = METHODS[method]
    params = objective.parameters
    full = config.batch is None
    order = batches(objective.rows, config.batch, seed)
    rule = config.make()
    theta = [objective.start[p] for p in params]
    trajectory = Trajectory(config.optimizer, dict(config.settings), method, list(params), [])
    rows = trajectory.steps
    spent: Optional[int] = 0
    every = max(1, steps // 200)
    for t in range(steps + 1):
        point = dict(zip(params, theta))
        # The last row too gets the gradient its update would use (a full-batch run's ∇J(θ),
        # a mini-batch run's next batch), so every row has a gradient norm, counted alike.
        batch = None if full else next(order)
        if full:
            key = tuple(theta)
            r = cache.get(key) if cache is not None else None
            if r is None:
                r = differentiate(objective.graph, point, params, limits)
                if cache is not None:
                    cache[key] = r
            loss, loss_note = r.value, r.note
            if loss is None and r.status not in _UNDEFINED_AT_POINT:
                # The method gave up (a SymPy timeout, over budget): J itself may be fine.
                fw = forward(objective.graph, point)
                loss, loss_note = fw.value, fw.message
        else:
            fw = forward(objective.graph, point)
            loss, loss_note = fw.value, fw.message
            r = differentiate(objective.batch(batch), point, params, limits)
        spent = spent + r.counts.total if spent is not None and r.counts else None
        status, note = "ok", ""
        gradient = None
        if loss is None or not math.isfinite(loss):
            status, note = DIVERGED, f"the loss is {loss if loss is not None else 'undefined'}" \
                                     f"{': ' + loss_note if loss_note else ''}"
        elif r.status not in HAS_GRADIENT:
            status = DIVERGED if r.status in (OVERFLOW, NONFINITE) else str(r.status)
            note = r.note
        else:
            gradient = {p: r.gradient[p] for p in params}
            status, note = str(r.status), r.note
        grad = [gradient[p] for p in params] if gradient else None
        norm = math.sqrt(sum(g * g for g in grad)) if grad else None
        row = Step(t, point, loss, norm, gradient, spent, status, note, batch)
        rows.append(row)
        if progress is not None and (t % every == 0 or t == steps):
            progress(t, steps, config.optimizer)
        if status not in HAS_GRADIENT or t == steps or grad is None:
            break
        try:
            new, record = rule.step(theta, grad)
        except (ArithmeticError, ValueError) as err:
            rows.append(_diverged(t + 1, params, f"the update overflowed ({err})", spent))
            break
        row.record = record
        if not all(map(math.isfinite, new)):
            rows.append(_diverged(t + 1, params, "a parameter became "
                                  + ", ".join(f"{p} = {x}" for p, x in zip(params, new)
                                              if not math.isfinite(x)), spent,
                                  dict(zip(params, new))))
            break
        if full and new == theta and not any(grad):
            row.status, row.note = STATIONARY, "∇J = 0: a stationary point, there is no step"
            break
        theta = new
    return trajectory


_UNDEFINED_AT_POINT = (DOMAIN, OVERFLOW, NONFINITE)


def _diverged(t: int, params: Sequence[str], note: str, spent: Optional[int],
              theta: Optional[dict[str, float]] = None) -> Step:
    return Step(t, theta or {p: math.nan for p in params}, math.nan, None, None, spent,
                DIVERGED, note)


def run(case: Case, optimizers: Sequence[str] = OPTIMIZERS, steps: int = 100,
        lr: Optional[float] = None, batch: Optional[int] = None, seed: int = 0,
        method: str = "backprop", parameters: Optional[Sequence[str]] = None,
        overrides: Optional[Mapping[str, Mapping[str, Any]]] = None,
        limits: Limits = DEFAULT_LIMITS,
        progress: Optional[Callable[[int, int, str], None]] = None
        ) -> tuple[Objective, list[Trajectory]]:
    """Every chosen optimizer on the case's objective, from the case's point."""
    if steps < 1 or steps > MAX_STEPS:
        raise GradcompareError(f"steps must be from 1 to {MAX_STEPS:,}, got {steps}")
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise GradcompareError(f"the learning rate must be positive, got {lr:g}")
    if batch is not None and batch < 1:
        raise GradcompareError(f"the batch is a number of rows ≥ 1, got {batch}")
    objective = Objective(case, parameters, limits)
    if batch is not None and batch > objective.rows:
        raise GradcompareError(f"a batch of {batch} rows, but {case.name} has "
                               f"{objective.rows} data row{'s' if objective.rows != 1 else ''}")
    configs = configure(objective, optimizers, lr, batch, overrides)
    cache: dict = {}
    return objective, [descend(objective, c, steps, method, seed, limits, progress, cache)
                       for c in configs]


# -- views' data: the table and the plots --------------------------------------------------------
def summary(trajectories: Sequence[Trajectory]) -> list[dict[str, Any]]:
    """One line per optimizer: where it ended, after how many steps, at what cost."""
    out = []
    for tr in trajectories:
        last = tr.final
        ok = [s for s in tr.steps if s.loss is not None and math.isfinite(s.loss)]
        out.append({"optimizer": tr.optimizer, "steps": last.step, "lr": tr.settings["lr"],
                    "batch": tr.settings.get("batch"), "loss": ok[-1].loss if ok else None,
                    "theta": dict(ok[-1].theta) if ok else {}, "operations": last.operations,
                    "status": last.status, "note": last.note})
    return out


def contour_grid(objective: Objective, trajectories: Sequence[Trajectory], size: int = 500):
    """(xs, ys, J on the grid) around the start and every path, for two parameters; J from
    compare.batched (NaN where it has no value)."""
    import numpy as np

    from .batched import grid

    x, y = objective.parameters
    xs = [s.theta[x] for tr in trajectories for s in tr.steps if math.isfinite(s.theta[x])]
    ys = [s.theta[y] for tr in trajectories for s in tr.steps if math.isfinite(s.theta[y])]
    xs.append(objective.start[x])
    ys.append(objective.start[y])

    def span(values: list[float]) -> np.ndarray:
        lo, hi = min(values), max(values)
        pad = max(0.25 * (hi - lo), 0.5, 0.1 * max(abs(lo), abs(hi)))
        return np.linspace(lo - pad, hi + pad, size)

    gx, gy = span(xs), span(ys)
    return gx, gy, grid(objective.graph, x, gx, y, gy)


def contour_of(objective: Objective, trajectories: Sequence[Trajectory], size: int = 300):
    """`contour_grid` for two parameters, None for any other number (nothing to draw)."""
    return (contour_grid(objective, trajectories, size) if len(objective.parameters) == 2
            else None)


REPORT_STEPS = 100      # updates per optimizer on a report's descent page
REPORT_GRID = 80        # the contour grid of a report's plot (the command draws finer ones)


@dataclass
class Recorded:
    """A case's descent as the report draws it, recorded by the engine (run_case with
    record=True): every optimizer's trajectory and, for two parameters, the contour grid."""

    objective: Objective
    trajectories: list[Trajectory]
    contour: Any                     # (xs, ys, J on the grid) or None
    steps: int


def record(case: Case, steps: int = REPORT_STEPS, grid: int = REPORT_GRID,
           limits: Limits = DEFAULT_LIMITS) -> Recorded:
    """Every optimizer with its defaults and the case's learning rate, backprop gradients."""
    objective, trajectories = run(case, steps=steps, limits=limits)
    return Recorded(objective, trajectories, contour_of(objective, trajectories, grid), steps)


def plot(objective: Objective, trajectories: Sequence[Trajectory], contour: Any = None) -> Any:
    """The loss against the step for every optimizer (log scale when the losses are positive
    and span a decade), and beside it, given `contour` (from `contour_of`: two parameters),
    the contour of J with each path.  Draws only: every number was computed before."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    two = contour is not None and len(objective.parameters) == 2
    fig, axes = plt.subplots(1, 2 if two else 1, figsize=(12 if two else 6.5, 4.8))
    ax = axes[0] if two else axes
    losses = []
    for tr in trajectories:
        steps = [s.step for s in tr.steps if s.loss is not None and math.isfinite(s.loss)]
        values = [s.loss for s in tr.steps if s.loss is not None and math.isfinite(s.loss)]
        losses += values
        label = f"{tr.optimizer} (α = {tr.settings['lr']:g})" + (
            f", {tr.status}" if tr.status not in ("ok", "nondifferentiable") else "")
        ax.plot(steps, values, label=label, linewidth=1.4)
    if losses and min(losses) > 0 and max(losses) > 10 * min(losses):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss J(θ)" if objective.has_loss else "f(θ) (no loss: the function itself)")
    ax.set_title(f"{objective.case.name}: {objective.formula()}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if two:
        cx = axes[1]
        gx, gy, z = contour
        finite = z[np.isfinite(z)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            if lo > 0 and hi > 100 * lo:
                levels = np.geomspace(lo, hi, 20)
            else:
                levels = np.linspace(lo, hi, 20) if hi > lo else 5
            cx.contour(gx, gy, z, levels=levels, linewidths=0.6, cmap="viridis")
        for tr in trajectories:
            px = [s.theta[objective.parameters[0]] for s in tr.steps]
            py = [s.theta[objective.parameters[1]] for s in tr.steps]
            cx.plot(px, py, linewidth=1.0, label=tr.optimizer)
        cx.plot([objective.start[objective.parameters[0]]],
                [objective.start[objective.parameters[1]]], "k*", markersize=9, label="start")
        cx.set_xlabel(objective.parameters[0])
        cx.set_ylabel(objective.parameters[1])
        cx.set_title("contour of J with each optimizer's path", fontsize=9)
        cx.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_bytes(objective: Objective, trajectories: Sequence[Trajectory], fmt: str = "svg",
               contour: Any = None) -> bytes:
    """The figure as deterministic bytes (no date, fixed hash salt): committed reports."""
    import io

    import matplotlib.pyplot as plt

    # Text as text (smaller, and it stays text); only for this figure, not for the others.
    with plt.rc_context({"svg.hashsalt": "gradcompare", "svg.fonttype": "none"}):
        fig = plot(objective, trajectories, contour)
        buf = io.BytesIO()
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        fig.savefig(buf, format=fmt, metadata=metadata)
        plt.close(fig)
    return buf.getvalue()


__all__ = ["Adam", "Config", "DEFAULTS", "Objective", "OPTIMIZERS", "REPORT_GRID",
           "REPORT_STEPS", "RMSprop", "Recorded", "SGD", "Step", "TORCH_LR", "Trajectory",
           "batches", "configure", "contour_grid", "contour_of", "descend", "plot",
           "plot_bytes", "record", "run", "summary"]
