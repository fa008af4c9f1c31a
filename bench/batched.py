"""Batched evaluation and descent against the floors of issue 16, measured in one run.

* per point, batched (compare.batched: value and backprop gradient of a whole array of points)
  against the scalar loop (compare.methods.backprop once per point), at 10^4 and 10^6 points:
  floors 50× and 200×.  The scalar loop's cost per point is measured on the same points (at
  10^6 on the first 50,000 of them: its cost per point does not depend on how many follow);
* a 500 × 500 contour of bundled two-parameter cases (their objective J on the grid): < 1 s;
* a 1,000-step Adam run on a bundled case of about 20 nodes: < 1 s.

Best of --repeat runs, the scalar loop's as well as the batched evaluation's (a busy machine
slows either; the best run is the one least disturbed).  Prints the numbers and the floors; exits 1 when a floor is missed.
Timings stay out of the test suite.

    python bench/batched.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compare import batched, descent  # noqa: E402
from compare.cases import load_library  # noqa: E402
from compare.methods.backprop import differentiate  # noqa: E402

SPEED_CASES = ("lecture-sigmoid-neuron-steps", "rosenbrock-classic-start", "beale-point")
CONTOUR_CASES = ("rosenbrock-classic-start", "lecture-sigmoid-neuron-data")
ADAM_CASE = "beale-point"


def best(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    args = ap.parse_args()
    cases = {c.name: c for c in load_library(ROOT / "cases").cases}
    missed = []
    print("per point: batched vs the scalar loop (backprop, value + gradient)")
    print(f"{'case':32} {'nodes':>5} {'points':>9} {'scalar':>10} {'batched':>10} "
          f"{'ratio':>7} {'floor':>6}")
    for name in SPEED_CASES:
        case = cases[name]
        graph, wrt = case.graph, case.wrt
        rng = np.random.default_rng(0)
        for n, floor in ((10**4, 50), (10**6, 200)):
            cols = {v: case.at[v] + 0.1 * rng.uniform(-1, 1, n) for v in graph.variables}
            sample = min(n, 50_000)
            points = [{v: float(cols[v][k]) for v in graph.variables} for k in range(sample)]

            def scalar() -> None:
                for p in points:
                    differentiate(graph, p, wrt)

            per_scalar = best(args.repeat, scalar) / sample
            per_batched = best(args.repeat, lambda: batched.evaluate(graph, cols, wrt)) / n
            ratio = per_scalar / per_batched
            ok = ratio >= floor
            if not ok:
                missed.append(f"{name} at {n:,} points: {ratio:.0f}× < {floor}×")
            print(f"{name:32} {len(graph):5} {n:9,} {per_scalar * 1e9:8.0f}ns "
                  f"{per_batched * 1e9:8.1f}ns {ratio:6.0f}× {floor:5}× {'' if ok else 'MISSED'}")
    print("\n500 × 500 contour of the objective J (compare.batched over the grid): floor 1 s")
    for name in CONTOUR_CASES:
        objective, runs = descent.run(cases[name], ["gd"], steps=10)
        seconds = best(args.repeat, lambda: descent.contour_grid(objective, runs, 500))
        ok = seconds < 1.0
        if not ok:
            missed.append(f"contour of {name}: {seconds:.2f} s")
        print(f"{name:32} {len(objective.graph):5} nodes  {seconds:.3f} s "
              f"{'' if ok else 'MISSED'}")
    case = cases[ADAM_CASE]
    seconds = best(args.repeat, lambda: descent.run(case, ["adam"], steps=1000))
    ok = seconds < 1.0
    if not ok:
        missed.append(f"1,000 Adam steps on {ADAM_CASE}: {seconds:.2f} s")
    print(f"\n1,000-step Adam run (backprop gradients) on {ADAM_CASE} "
          f"({sum(case.graph.live())} nodes): {seconds:.3f} s (floor 1 s) "
          f"{'' if ok else 'MISSED'}")
    if missed:
        print("\nmissed: " + "; ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
