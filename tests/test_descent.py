"""Gradient descent on a loss over data (compare.descent, `gradcompare descend`).

The optimizers' first updates are derived here independently, from torch.optim's documented
formulas in exact fractions (square roots to 50 digits), not copied from the output; when
PyTorch is importable the same runs are compared with torch.optim to 1e-12.
"""

from __future__ import annotations

import json
import math
import random
from decimal import Decimal, getcontext
from fractions import Fraction as F
from pathlib import Path

import pytest

from compare import descent
from compare.cases import load_library, load_text
from compare.methods import METHODS

from clirun import gc

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = {c.name: c for c in load_library(ROOT / "cases").cases}
LINE = LIBRARY["least-squares-line"]
ROWS = [(F(r["x"]), F(r["y"])) for r in LINE.data]       # (0, 1), (1, 3.5), (2, 4.5), (3, 7)


# -- the lecture's exercise with its target -----------------------------------------------------
@pytest.mark.parametrize("method", list(METHODS))
def test_the_lecture_neuron_with_target_1(method):
    """x = 1, θ = (−3, 3), target 1: J = −ln f = ln 2, ∂J/∂θ0 = ∂J/∂θ1 = −1/2, and one step
    at α = 0.1 gives θ = (−2.95, 3.05) — with every method's gradient."""
    case = LIBRARY["lecture-sigmoid-neuron-loss"]
    objective, [gd] = descent.run(case, ["gd"], steps=1, lr=0.1, method=method)
    first, second = gd.steps
    assert first.loss == pytest.approx(math.log(2), rel=1e-15)
    assert first.gradient == pytest.approx({"theta0": -0.5, "theta1": -0.5}, rel=1e-15)
    assert second.theta == pytest.approx({"theta0": -2.95, "theta1": 3.05}, rel=1e-15)
    assert "x" not in second.theta                    # the input is data: it never moves
    assert objective.formula() == "J(θ) = −[y·ln f + (1 − y)·ln(1 − f)]"


def test_operations_per_step_are_the_methods_counts():
    case = LIBRARY["lecture-sigmoid-neuron-loss"]
    objective, _ = descent.run(case, ["gd"], steps=1, lr=0.1)
    per_step = {}
    for method in ("naive", "backprop"):
        _, [tr] = descent.run(case, ["gd"], steps=3, lr=0.1, method=method)
        counts = METHODS[method](objective.graph, objective.start, objective.parameters)
        assert [s.operations for s in tr.steps] == [counts.counts.total * k for k in (1, 2, 3, 4)]
        per_step[method] = counts.counts.total
    assert per_step["naive"] > per_step["backprop"]   # θ0 and θ1 share the path through f
    _, [sym] = descent.run(case, ["gd"], steps=1, lr=0.1, method="sympy")
    assert [s.operations for s in sym.steps] == [None, None]   # SymPy's work is not counted


# -- the first three updates of every optimizer, derived independently ---------------------------
def _grad(w, b, rows):
    """∇J of (1/N) Σ (w·x + b − y)² over `rows`, exactly."""
    n = len(rows)
    r = [w * x + b - y for x, y in rows]
    return [F(2, n) * sum(e * x for e, (x, _) in zip(r, rows)), F(2, n) * sum(r)]


def _sqrt(q):
    getcontext().prec = 50
    return F(Decimal(q.numerator).__truediv__(Decimal(q.denominator)).sqrt())


def _reference(name, settings, steps=3, batches=None):
    """θ after each update, from torch.optim's documented algorithm, in exact arithmetic."""
    s = {k: F(v) if isinstance(v, float) else v for k, v in settings.items()}
    theta = [F(LINE.at["w"]), F(LINE.at["b"])]
    state: dict = {}
    out = []
    for t in range(1, steps + 1):
        rows = ROWS if batches is None else [ROWS[i] for i in batches[t - 1]]
        g = _grad(*theta, rows)
        wd = s.get("weight_decay", 0)
        g = [gi + wd * p for gi, p in zip(g, theta)]
        if name in ("gd", "sgd", "momentum"):
            mu, tau = s.get("momentum", 0), s.get("dampening", 0)
            if mu:
                b = g if t == 1 else [mu * bi + (1 - tau) * gi for bi, gi in zip(state["b"], g)]
                state["b"] = b
                g = [gi + mu * bi for gi, bi in zip(g, b)] if s.get("nesterov") else b
            theta = [p - s["lr"] * gi for p, gi in zip(theta, g)]
        elif name == "rmsprop":
            a, eps, mu = s["alpha"], s["eps"], s["momentum"]
            v = [a * vi + (1 - a) * gi * gi for vi, gi in zip(state.get("v", [0, 0]), g)]
            state["v"] = v
            vt = v
            if s["centered"]:
                ga = [a * m + (1 - a) * gi for m, gi in zip(state.get("ga", [0, 0]), g)]
                state["ga"] = ga
                vt = [vi - m * m for vi, m in zip(v, ga)]
            step = [gi / (_sqrt(vi) + eps) for gi, vi in zip(g, vt)]
            if mu > 0:
                step = [mu * bi + x for bi, x in zip(state.get("b", [0, 0]), step)]
                state["b"] = step
            theta = [p - s["lr"] * x for p, x in zip(theta, step)]
        else:
            b1, b2, eps = s["beta1"], s["beta2"], s["eps"]
            m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(state.get("m", [0, 0]), g)]
            v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(state.get("v", [0, 0]), g)]
            state["m"], state["v"] = m, v
            if s["amsgrad"]:
                v = [max(x, y) for x, y in zip(state.get("vmax", [0, 0]), v)]
                state["vmax"] = v
            m_hat = [mi / (1 - b1 ** t) for mi in m]
            v_hat = [vi / (1 - b2 ** t) for vi in v]
            theta = [p - s["lr"] * mh / (_sqrt(vh) + eps)
                     for p, mh, vh in zip(theta, m_hat, v_hat)]
        out.append(theta)
    return out


VARIANTS = [
    ("gd", {}),
    ("gd", {"weight_decay": 0.1}),
    ("sgd", {"batch": 4}),
    ("sgd", {"batch": 4, "momentum": 0.9, "dampening": 0.5}),
    ("sgd", {"batch": 4, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("momentum", {}),
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("adam", {}),
    ("adam", {"amsgrad": True, "weight_decay": 0.1, "beta1": 0.5}),
]


@pytest.mark.parametrize("name, overrides", VARIANTS, ids=[f"{n}-{k}" for k, (n, _) in
                                                             enumerate(VARIANTS)])
def test_first_three_updates_equal_the_documented_algorithm(name, overrides):
    objective = descent.Objective(LINE)
    [config] = descent.configure(objective, [name], lr=0.05, overrides={name: overrides})
    tr = descent.descend(objective, config, steps=3)
    settings = {**config.settings, "lr": 0.05}
    want = _reference(name, settings)
    got = [[s.theta["w"], s.theta["b"]] for s in tr.steps[1:]]
    for g, w in zip(got, want):
        assert g == pytest.approx([float(x) for x in w], rel=1e-12, abs=1e-15)
    assert got[0] != got[1] != got[2]


def test_sgd_takes_one_row_at_a_time_from_a_seeded_shuffle():
    order = []
    rng = random.Random(7)                        # the documented rule: one shuffle per epoch
    for _ in range(2):
        rows = list(range(4))
        rng.shuffle(rows)
        order += [(i,) for i in rows]
    objective = descent.Objective(LINE)
    [config] = descent.configure(objective, ["sgd"], lr=0.05)
    tr = descent.descend(objective, config, steps=6, seed=7)
    assert [s.rows for s in tr.steps] == order[:7]      # the last row: the next batch's
    assert all(s.grad_norm is not None for s in tr.steps)
    per_row = tr.steps[0].operations
    assert [s.operations for s in tr.steps] == [per_row * k for k in range(1, 8)]
    want = _reference("sgd", {"lr": 0.05}, steps=6, batches=order)
    got = [v for s in tr.steps[1:] for v in (s.theta["w"], s.theta["b"])]
    assert got == pytest.approx([float(x) for w in want for x in w], rel=1e-12)
    other = descent.descend(objective, config, steps=6, seed=8)
    assert [s.rows for s in other.steps[:-1]] != order[:6]


def test_the_mean_of_a_written_out_square_is_the_squared_error_loss():
    _, a = descent.run(LINE, steps=20)
    _, b = descent.run(LIBRARY["least-squares-line-mean"], steps=20)
    for ta, tb in zip(a, b):
        for sa, sb in zip(ta.steps, tb.steps):
            assert sa.theta == pytest.approx(sb.theta, rel=1e-12)
        assert [s.loss for s in ta.steps] == pytest.approx([s.loss for s in tb.steps])


def test_gd_converges_to_the_normal_equations_solution():
    _, [tr] = descent.run(LINE, ["gd"], steps=2000, lr=0.1)
    assert tr.final.theta == pytest.approx({"w": 1.9, "b": 1.15}, rel=1e-9)


# -- PyTorch itself ---------------------------------------------------------------------------
TORCH_RUNS = [
    ("gd", {}, "SGD", {}),
    ("sgd", {"batch": 2, "momentum": 0.9, "dampening": 0.1}, "SGD",
     {"momentum": 0.9, "dampening": 0.1}),
    ("sgd", {"batch": 1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, "SGD",
     {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("momentum", {}, "SGD", {"momentum": 0.9}),
    ("rmsprop", {}, "RMSprop", {}),
    ("rmsprop", {"momentum": 0.5, "centered": True, "weight_decay": 0.1}, "RMSprop",
     {"momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("adam", {}, "Adam", {}),
    ("adam", {"amsgrad": True, "weight_decay": 0.1}, "Adam",
     {"amsgrad": True, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name, ours, torch_name, theirs", TORCH_RUNS,
                         ids=[f"{r[0]}-{k}" for k, r in enumerate(TORCH_RUNS)])
def test_a_run_equals_torch_optim(name, ours, torch_name, theirs):
    torch = pytest.importorskip("torch")
    objective = descent.Objective(LINE)
    [config] = descent.configure(objective, [name], lr=0.05, overrides={name: ours})
    tr = descent.descend(objective, config, steps=40, seed=3)
    w = torch.tensor(LINE.at["w"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(LINE.at["b"], dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, torch_name)([w, b], lr=0.05, **theirs)
    xs = torch.tensor([r["x"] for r in LINE.data], dtype=torch.float64)
    ys = torch.tensor([r["y"] for r in LINE.data], dtype=torch.float64)
    for s in tr.steps[:-1]:
        rows = list(s.rows) if s.rows is not None else list(range(len(LINE.data)))
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(w * xs[rows] + b, ys[rows])
        loss.backward()
        assert [w.grad.item(), b.grad.item()] == pytest.approx(
            [s.gradient["w"], s.gradient["b"]], rel=1e-12, abs=1e-14)
        opt.step()
        nxt = tr.steps[s.step + 1].theta
        assert [w.item(), b.item()] == pytest.approx([nxt["w"], nxt["b"]], rel=1e-12)


@pytest.mark.parametrize("name, torch_name, theirs", [
    ("gd", "SGD", {}), ("rmsprop", "RMSprop", {"centered": True}), ("adam", "Adam", {})])
def test_binary_cross_entropy_runs_equal_torch_bceloss(name, torch_name, theirs):
    """The lecture's neuron on its four rows: J is BCELoss of σ(θ0 + θ1·x) (f stays far from
    0 and 1 here, where BCELoss's clamp of ln at −100 does not act)."""
    torch = pytest.importorskip("torch")
    case = LIBRARY["lecture-sigmoid-neuron-data"]
    _, [tr] = descent.run(case, [name], steps=30, overrides={name: theirs})
    theta = torch.tensor([case.at["theta0"], case.at["theta1"]], dtype=torch.float64,
                         requires_grad=True)
    opt = getattr(torch.optim, torch_name)([theta], lr=case.learning_rate, **theirs)
    xs = torch.tensor([r["x"] for r in case.data], dtype=torch.float64)
    ys = torch.tensor([r["y"] for r in case.data], dtype=torch.float64)
    for s in tr.steps:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(theta[0] + theta[1] * xs),
                                                        ys)
        loss.backward()
        assert theta.tolist() == pytest.approx([s.theta["theta0"], s.theta["theta1"]],
                                               rel=1e-12)
        assert loss.item() == pytest.approx(s.loss, rel=1e-12)
        assert theta.grad.tolist() == pytest.approx(
            [s.gradient["theta0"], s.gradient["theta1"]], rel=1e-12)
        opt.step()
    assert tr.status == "ok" and len(tr.steps) == 31


# -- trouble --------------------------------------------------------------------------------
def test_a_diverging_run_stops_with_status_diverged_at_that_step():
    case = LIBRARY["rosenbrock-classic-start"]
    _, [tr] = descent.run(case, ["gd"], steps=100, lr=1.0)
    assert tr.status == "diverged" and len(tr.steps) < 10
    assert all(s.status == "ok" for s in tr.steps[:-1])
    assert "overflow" in tr.final.note or "inf" in tr.final.note


def test_at_a_stationary_point_there_is_no_step():
    _, runs = descent.run(LIBRARY["booth-minimum"], steps=10)
    for tr in runs:
        assert [s.status for s in tr.steps] == ["stationary"]
        assert "no step" in tr.final.note
    # With weight decay the gradient used is not zero: the parameters move.
    _, [tr] = descent.run(LIBRARY["booth-minimum"], ["gd"], steps=2,
                          overrides={"gd": {"weight_decay": 0.1}})
    assert tr.status == "ok" and len(tr.steps) == 3


def test_a_case_without_a_loss_descends_the_function_and_keeps_its_data():
    case = LIBRARY["cs231n-sigmoid-neuron-2d"]      # parameters w0, w1, w2; x0, x1 are data
    objective, [tr] = descent.run(case, ["gd"], steps=1, lr=0.1)
    assert objective.formula() == "J(θ) = f(θ)" and not objective.has_loss
    gradient = case.expect.gradient
    assert tr.steps[1].theta == pytest.approx({w: case.at[w] - 0.1 * gradient[w]
                                               for w in ("w0", "w1", "w2")})


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0.0}, "learning rate must be positive"),
    ({"lr": -0.1}, "learning rate must be positive"),
    ({"steps": 0}, "steps must be from 1"),
    ({"batch": 5}, "a batch of 5 rows, but least-squares-line has 4 data rows"),
    ({"optimizers": ["adagrad"]}, "unknown optimizer adagrad"),
    ({"parameters": ["q"]}, "parameter 'q' is not a variable"),
    ({"parameters": ["w", "x"]}, "'x' is a data column of this case, not a parameter"),
    ({"overrides": {"adam": {"beta2": 1.0}}}, "beta2 must be in"),
    ({"overrides": {"sgd": {"nesterov": True}}}, "Nesterov momentum needs"),
    ({"overrides": {"sgd": {"momentum": -1.0}}}, "momentum must not be negative"),
])
def test_bad_settings_are_one_clear_error(kwargs, message):
    from compare.errors import GradcompareError

    with pytest.raises(GradcompareError, match=message):
        descent.run(LINE, **kwargs)


def _cli(*args):
    return gc("descend", *args, "--cases", str(ROOT / "cases"), cwd=ROOT)


@pytest.mark.parametrize("args", [
    ["least-squares-line", "--lr", "0"], ["least-squares-line", "--steps", "0"],
    ["least-squares-line", "--batch", "5"], ["least-squares-line", "--optimizer", "sgdd"],
    ["least-squares-line", "--parameters", "w,zz"], ["least-squares-line", "--parameters", "x"],
    ["least-squares-line", "--set", "adam.amsgrad"], ["no-such-case"],
])
def test_the_command_refuses_bad_settings_with_one_line_and_exit_2(args):
    done = _cli(*args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr


def test_the_command_prints_the_trajectory_in_every_format(tmp_path):
    done = _cli("lecture-sigmoid-neuron-loss", "--optimizer", "gd", "--steps", "1", "--lr",
                "0.1", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["step"], r["theta0"], r["theta1"]) for r in rows] == [
        (0, -3.0, 3.0), (1, -2.95, 3.05)]
    assert rows[0]["loss"] == math.log(2) and rows[0]["operations"] == 18
    done = _cli("least-squares-line", "--steps", "5", "--format", "csv", "--plot",
                str(tmp_path / "d.svg"))
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[0].split(",")
    assert header == ["optimizer", "step", "w", "b", "loss", "grad_norm", "operations",
                      "status", "note"]
    assert len(done.stdout.splitlines()) == 1 + 5 * 6
    assert (tmp_path / "d.svg").read_bytes().startswith(b"<?xml")
    done = _cli("rosenbrock-classic-start", "--lr", "1", "--optimizer", "gd")
    assert done.returncode == 0 and "diverged" in done.stdout and "Traceback" not in done.stderr


def test_the_contour_grid_is_the_objective_at_each_point():
    from compare.forward import forward

    objective, runs = descent.run(LINE, ["gd"], steps=3)
    xs, ys, z = descent.contour_grid(objective, runs, size=500)
    assert z.shape == (500, 500)
    for i, j in [(0, 0), (123, 456), (499, 250)]:
        value = forward(objective.graph, {"w": xs[j], "b": ys[i]}).value
        assert z[i, j] == pytest.approx(value, rel=1e-12)


def test_the_report_draws_the_descent_the_engine_recorded_and_computes_nothing(
        tmp_path, monkeypatch):
    from compare import batched
    from compare.engine import Run, run_case
    from compare.limits import DEFAULT_LIMITS
    from compare.report import write_report

    case = LIBRARY["lecture-sigmoid-neuron-data"]
    cr = run_case(case, ("naive", "backprop"), record=True)
    recorded = cr.descent
    assert recorded.steps == descent.REPORT_STEPS
    assert [tr.optimizer for tr in recorded.trajectories] == list(descent.OPTIMIZERS)
    xs, ys, z = recorded.contour
    assert z.shape == (descent.REPORT_GRID, descent.REPORT_GRID)
    assert run_case(LINE, ("backprop",)).descent is None          # only when recording

    def refuse(*args, **kwargs):
        raise AssertionError("a view ran the engine")

    for module, name in ((descent, "run"), (descent, "descend"), (descent, "contour_grid"),
                         (batched, "evaluate")):
        monkeypatch.setattr(module, name, refuse)
    write_report(Run([cr], [], ["naive", "backprop"], DEFAULT_LIMITS), tmp_path, None)
    page = (tmp_path / "descent" / f"{case.name}.md").read_text()
    assert f"runs {descent.REPORT_STEPS} updates" in page
    final = recorded.trajectories[-1].final
    assert final.status in page and (tmp_path / "descent" / f"{case.name}.svg").stat().st_size


def test_schema_accepts_the_new_fields_as_the_loader_does():
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "compare" / "case-schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = (ROOT / "cases" / "descent.yaml").read_text()
    assert not list(validator.iter_errors(yaml.safe_load(good)))
    for old, new in [("    target: y\n", ""), ("    loss: squared_error\n", ""),
                     ("loss: mean", "loss: mean\n    target: y"),
                     ("loss: squared_error", "loss: hinge")]:
        text = good.replace(old, new, 1)
        assert text != good
        assert list(validator.iter_errors(yaml.safe_load(text))), (old, new)
        assert load_text(text, "d.yaml")[1], (old, new)


def test_the_commands_copy_of_the_optimizer_names_agrees():
    from compare.cli import descend as command

    assert command.OPTIMIZER_NAMES == descent.OPTIMIZERS
    assert set(descent.DEFAULTS) == set(descent.OPTIMIZERS) == set(descent.TORCH_LR)


# -- handouts -----------------------------------------------------------------------------------
def _handout(name, lang, exercise=False):
    from compare.engine import run_case
    from compare.handout import render

    page, _ = render(run_case(LIBRARY[name], record=True), lang, exercise)
    return page.split("\n## ")[-1]          # the last section: descent


def test_the_handout_trains_the_neuron_on_its_loss_moving_only_theta():
    en = _handout("lecture-sigmoid-neuron-loss", "en")
    assert "θ ← θ − α·∇θJ(θ)" in en and "J = ln 2 ≈ 0.693147" in en
    assert "∇θJ = (∂J/∂θ₀, ∂J/∂θ₁) = (−1/2, −1/2)" in en
    assert "θ₀ ← θ₀ − α·∂J/∂θ₀ = −3 − 0.1 × (−1/2) = −2.95" in en
    assert "θ₁ ← θ₁ − α·∂J/∂θ₁ = 3 − 0.1 × (−1/2) = 3.05" in en
    assert "x ←" not in en and "Held fixed" in en
    # Adam's first step written out: m, v, bias correction, m̂, v̂.
    adam = en.split("#### Adam")[1]
    for row in ("| m = 0.9·m + 0.1·g | (−0.05, −0.05)", "| 1 − 0.9ᵗ | (0.1, 0.1) | (0.19, 0.19)",
                "| m̂ = m/(1 − 0.9ᵗ) | (−1/2, −1/2)", "| v̂ = v/(1 − 0.999ᵗ) | (1/4, 1/4)",
                "| θ ← θ − α·(…) | (−2.9, 3.1)"):
        assert row in adam, row
    assert "#### Stochastic gradient descent" in en      # every optimizer, sgd too
    vi = _handout("lecture-sigmoid-neuron-loss", "vi")
    for term in ("hàm lỗi", "tham số", "tốc độ học", "hạ gradient"):
        assert term in vi, term
    assert "−2,95" in vi and "3,05" in vi


def test_the_exercise_leaves_the_descent_numbers_blank():
    page = _handout("lecture-sigmoid-neuron-loss", "en", exercise=True)
    assert "2.95" not in page and "0.693147" not in page and "1/2" not in page


def test_a_handout_without_a_loss_says_it_descends_the_function_itself():
    en = _handout("cs231n-sigmoid-neuron-2d", "en")
    assert "descends the function f itself" in en and "x₀ ←" not in en and "w₀ ←" in en
    vi = _handout("cs231n-sigmoid-neuron-2d", "vi")
    assert "trên chính hàm f" in vi


def test_at_a_stationary_point_the_handout_says_there_is_no_step():
    en = _handout("booth-minimum", "en")
    assert "stationary point" in en and "no step" in en
    assert "too long for this learning rate" not in en


def test_a_bad_neighbour_case_is_reported_but_the_named_case_descends(tmp_path):
    (tmp_path / "my.yaml").write_text(
        "cases:\n  - name: mine\n    expression: (w * x - 1) ^ 2\n    at: {w: 0.25, x: 2}\n"
        "    parameters: [w]\n  - name: broken\n    expression: x +\n    at: {x: 1}\n")
    done = gc("descend", "mine", "--cases", "my.yaml", "--steps", "2", "--optimizer", "gd",
              cwd=tmp_path)
    assert done.returncode == 2                       # as `run`: rejected cases exit 2
    assert "mine: J(θ)" in done.stdout and "gd: " in done.stdout
    assert "cases from my.yaml" in done.stdout
    assert done.stderr.count("\n") == 1 and "case 'broken'" in done.stderr
