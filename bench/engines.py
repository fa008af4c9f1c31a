"""gradcompare's backprop vs micrograd 0.1.0 vs PyTorch scalar autograd, side by side.

Each engine builds the *same* graph (chain of relu, lattice v ← v·v + v, one-layer relu MLP with
squared loss), runs forward and backward, and is timed end to end (build + forward + backward)
in one process, the engines taking turns.  Times are per node of gradcompare's graph (leaves
included), the best of --repeat runs.  micrograd 0.1.0 has only +, ·, ** and relu, so relu is
the unary operation and the MLP's activation.  PyTorch uses 0-dim float64 tensors.  A fourth
engine, "floor", is a minimal pure-Python tape (values computed while recording, derivatives
written inline, nothing checked or counted): the least per-node cost CPython allows, measured
beside the others to show how much of gradcompare's time is its own.

    pip install micrograd==0.1.0 torch==2.13.0     # the `bench` extra
    python bench/engines.py                        # everything (an hour or more)
    python bench/engines.py --sizes 2000 --repeat 3 --quick   # only the engine table
    python bench/engines.py --sizes none                       # only the other parts
    python bench/engines.py --sizes 200000 --quick --engines micrograd   # one engine per process

Also printed: memory per node (tracemalloc peak during build + forward + backward; PyTorch's
C++ allocations are invisible to tracemalloc, so it gets the growth of the process's resident
memory instead), the time to drop the graph, a 10^6-node graph end to end, the deepest chain
each engine survives at Python's default recursion limit, and a 2·10^6-deep chain through all
three gradcompare methods.  No assertions: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
import tracemalloc
from typing import Any, Callable, Optional

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from compare import families  # noqa: E402
from compare.limits import DEFAULT_LIMITS  # noqa: E402
from compare.methods import METHODS, backprop  # noqa: E402

try:
    from micrograd.engine import Value
except ImportError:  # pragma: no cover
    Value = None
try:
    import torch

    torch.set_num_threads(1)   # scalar ops gain nothing from threads; idle spinning would
    # steal the second core from whichever engine runs next
except ImportError:  # pragma: no cover
    torch = None

HIDDEN = 8
DEFAULT_RECURSION_LIMIT = sys.getrecursionlimit()


# -- the graphs, once per engine -------------------------------------------------------------
def size_parameter(family: str, nodes: int) -> int:
    """The family's n giving about `nodes` nodes in gradcompare's graph."""
    if family == "chain":
        return nodes - 1
    if family == "lattice":
        return (nodes - 1) // 2
    return max(1, (nodes - 3 * HIDDEN - 6) // (1 + 3 * HIDDEN))   # mlp


def gc_build(family: str, n: int) -> families.Instance:
    if family == "chain":
        return families.chain(n, "relu")
    if family == "lattice":
        return families.lattice(n)
    return families.mlp(n, HIDDEN, "relu")


def run_gradcompare(family: str, n: int) -> tuple[float, Any]:
    inst = gc_build(family, n)
    r = backprop.differentiate(inst.graph, inst.point, inst.wrt)
    first = inst.wrt[0]
    return r.gradient[first], inst


def _mlp_values(n: int) -> tuple[list[float], list[list[float]], list[float], list[float]]:
    inst = families.mlp(1, HIDDEN, "relu")  # only for the parameter formulas' names
    del inst
    xs = [math.sin(i + 1.0) for i in range(n)]
    w = [[math.cos(3.0 * i + j) / math.sqrt(n) for i in range(n)] for j in range(HIDDEN)]
    bias = [0.1 * (j % 3) - 0.1 for j in range(HIDDEN)]
    v = [0.5 if j % 2 == 0 else -0.25 for j in range(HIDDEN)]
    return xs, w, bias, v


def run_micrograd(family: str, n: int) -> tuple[float, Any]:
    if family == "chain":
        x = Value(0.5)
        v = x
        for _ in range(n):
            v = v.relu()
        v.backward()
        return x.grad, v
    if family == "lattice":
        x = Value(-0.4)
        v = x
        for _ in range(n):
            v = v * v + v
        v.backward()
        return x.grad, v
    xs_f, w_f, b_f, v_f = _mlp_values(n)
    xs = [Value(t) for t in xs_f]
    w = [[Value(t) for t in row] for row in w_f]
    units = []
    for j in range(HIDDEN):
        s = w[j][0] * xs[0]
        for i in range(1, n):
            s = s + w[j][i] * xs[i]
        units.append((s + Value(b_f[j])).relu())
    vs = [Value(t) for t in v_f]
    y = vs[0] * units[0]
    for j in range(1, HIDDEN):
        y = y + vs[j] * units[j]
    d = (y + Value(0.05)) - 0.5
    loss = d * d
    loss.backward()
    return w[0][0].grad, loss


def run_torch(family: str, n: int) -> tuple[float, Any]:
    f64 = torch.float64
    if family == "chain":
        x = torch.tensor(0.5, dtype=f64, requires_grad=True)
        v = x
        for _ in range(n):
            v = v.relu()
        v.backward()
        return float(x.grad), v
    if family == "lattice":
        x = torch.tensor(-0.4, dtype=f64, requires_grad=True)
        v = x
        for _ in range(n):
            v = v * v + v
        v.backward()
        return float(x.grad), v
    xs_f, w_f, b_f, v_f = _mlp_values(n)
    xs = [torch.tensor(t, dtype=f64) for t in xs_f]
    w = [[torch.tensor(t, dtype=f64, requires_grad=True) for t in row] for row in w_f]
    units = []
    for j in range(HIDDEN):
        s = w[j][0] * xs[0]
        for i in range(1, n):
            s = s + w[j][i] * xs[i]
        units.append((s + torch.tensor(b_f[j], dtype=f64, requires_grad=True)).relu())
    vs = [torch.tensor(t, dtype=f64, requires_grad=True) for t in v_f]
    y = vs[0] * units[0]
    for j in range(1, HIDDEN):
        y = y + vs[j] * units[j]
    d = (y + torch.tensor(0.05, dtype=f64, requires_grad=True)) - 0.5
    loss = d * d
    loss.backward()
    return float(w[0][0].grad), loss


# -- the floor: the least a pure-Python reverse mode does per node ----------------------------
LEAF, RELU, ADD, SUB, MUL = range(5)


class Tape:
    """A minimal eager tape: values computed while recording, derivatives written inline.

    No table, no dependence tracking, no counting, no error checks, no names: what remains is
    the interpretive cost of one node in CPython, the floor any pure-Python engine pays.  It is
    not part of gradcompare; it is here to show how far gradcompare's per-node cost is from it.
    """

    __slots__ = ("val", "a", "b", "kind")

    def __init__(self) -> None:
        self.val: list[float] = []
        self.a: list[int] = []
        self.b: list[int] = []
        self.kind: list[int] = []

    def node(self, kind: int, value: float, a: int = -1, b: int = -1) -> int:
        self.val.append(value)
        self.a.append(a)
        self.b.append(b)
        self.kind.append(kind)
        return len(self.val) - 1

    def backward(self, out: int) -> list[float]:
        val, ga, gb, kind = self.val, self.a, self.b, self.kind
        grad = [0.0] * len(val)
        grad[out] = 1.0
        for u in range(out, -1, -1):
            g = grad[u]
            k = kind[u]
            if k == MUL:
                x, y = ga[u], gb[u]
                grad[x] += g * val[y]
                grad[y] += g * val[x]
            elif k == ADD:
                grad[ga[u]] += g
                grad[gb[u]] += g
            elif k == RELU:
                if val[u] > 0:
                    grad[ga[u]] += g
            elif k == SUB:
                grad[ga[u]] += g
                grad[gb[u]] -= g
        return grad


def run_tape(family: str, n: int) -> tuple[float, Any]:
    t = Tape()
    node, val = t.node, t.val
    if family == "chain":
        x = v = node(LEAF, 0.5)
        for _ in range(n):
            a = val[v]
            v = node(RELU, a if a > 0 else 0.0, v)
        return t.backward(v)[x], t
    if family == "lattice":
        x = v = node(LEAF, -0.4)
        for _ in range(n):
            a = val[v]
            m = node(MUL, a * a, v, v)
            v = node(ADD, val[m] + a, m, v)
        return t.backward(v)[x], t
    xs_f, w_f, b_f, v_f = _mlp_values(n)
    xs = [node(LEAF, z) for z in xs_f]
    w = [[node(LEAF, z) for z in row] for row in w_f]
    units = []
    for j in range(HIDDEN):
        s = node(MUL, val[w[j][0]] * val[xs[0]], w[j][0], xs[0])
        for i in range(1, n):
            p = node(MUL, val[w[j][i]] * val[xs[i]], w[j][i], xs[i])
            s = node(ADD, val[s] + val[p], s, p)
        bj = node(LEAF, b_f[j])
        s = node(ADD, val[s] + val[bj], s, bj)
        units.append(node(RELU, max(val[s], 0.0), s))
    vs = [node(LEAF, z) for z in v_f]
    y = node(MUL, val[vs[0]] * val[units[0]], vs[0], units[0])
    for j in range(1, HIDDEN):
        p = node(MUL, val[vs[j]] * val[units[j]], vs[j], units[j])
        y = node(ADD, val[y] + val[p], y, p)
    c = node(LEAF, 0.05)
    y = node(ADD, val[y] + val[c], y, c)
    half = node(LEAF, 0.5)
    d = node(SUB, val[y] - val[half], y, half)
    loss = node(MUL, val[d] * val[d], d, d)
    return t.backward(loss)[w[0][0]], t


ENGINES: dict[str, Callable[[str, int], tuple[float, Any]]] = {"gradcompare": run_gradcompare,
                                                                "floor": run_tape}
if Value is not None:
    ENGINES["micrograd"] = run_micrograd
if torch is not None:
    ENGINES["pytorch"] = run_torch


# -- measuring -------------------------------------------------------------------------------
def timed(fn: Callable[[], tuple[float, Any]]) -> tuple[float, float, float]:
    """(seconds for build + forward + backward, seconds to drop the graph, one gradient).

    Dropping = `del` plus the garbage collection it needs (micrograd's closures make reference
    cycles that only the collector frees), less an empty collection (the fixed cost of walking
    the process's heap).
    """
    gc.collect()
    t0 = time.perf_counter()
    grad, keep = fn()
    t1 = time.perf_counter()
    del keep
    gc.collect()
    t2 = time.perf_counter()
    gc.collect()
    t3 = time.perf_counter()
    return t1 - t0, max((t2 - t1) - (t3 - t2), 0.0), grad


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_bytes(fn: Callable[[], tuple[float, Any]], engine: str) -> int:
    gc.collect()
    if engine == "pytorch":
        before = rss_bytes()
        _, keep = fn()
        grown = rss_bytes() - before
        del keep
        return max(grown, 0)
    tracemalloc.start()
    _, keep = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del keep
    return peak


def compare_engines(sizes: list[int], repeat: int, fams: list[str]) -> list[dict[str, Any]]:
    rows = []
    sys.setrecursionlimit(10 * max(sizes) + 10_000)   # for micrograd's recursive sort only
    try:
        for family in fams:
            for target in sizes:
                n = size_parameter(family, target)
                nodes = len(gc_build(family, n).graph)
                best = {e: math.inf for e in ENGINES}
                drop = {e: math.inf for e in ENGINES}
                grads: dict[str, float] = {}
                names = list(ENGINES)
                runs = max(repeat, min(30, repeat * 20_000 // max(nodes, 1)))   # small: more
                for r in range(runs):
                    order = names[r % len(names):] + names[:r % len(names)]   # take turns
                    for e in order:
                        s, d, g = timed(lambda: ENGINES[e](family, n))
                        best[e] = min(best[e], s)
                        drop[e] = min(drop[e], d)
                        grads[e] = g
                mem = {e: peak_bytes(lambda: ENGINES[e](family, n), e) for e in ENGINES}
                ref = grads["gradcompare"]
                for e in ENGINES:
                    agree = math.isclose(grads[e], ref, rel_tol=1e-9, abs_tol=1e-300)
                    rows.append({"family": family, "nodes": nodes, "engine": e,
                                 "us_per_node": best[e] / nodes * 1e6,
                                 "ratio": best[e] / best["gradcompare"],
                                 "bytes_per_node": mem[e] / nodes,
                                 "drop_ms": drop[e] * 1e3, "agrees": agree})
                    print(f"  {family:8} {nodes:>8,} {e:12} {best[e] / nodes * 1e6:8.3f} µs/node"
                          f"  ×{best[e] / best['gradcompare']:6.1f}  "
                          f"{mem[e] / nodes:7.0f} B/node  drop {drop[e] * 1e3:8.1f} ms"
                          f"{'' if agree else '  GRADIENT DISAGREES'}", flush=True)
    finally:
        sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    return rows


def deepest_chain(engine: str, depths: list[int], budget_s: float) -> tuple[int, str]:
    """The deepest relu chain (of `depths`) the engine survives at the default recursion limit."""
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    survived, why = 0, "all depths tried"
    for depth in depths:
        t0 = time.perf_counter()
        try:
            timed(lambda: ENGINES[engine]("chain", depth))
        except RecursionError:
            return survived, f"RecursionError at {depth:,}"
        survived = depth
        if time.perf_counter() - t0 > budget_s:
            why = f"stopped trying: {depth:,} took {time.perf_counter() - t0:.0f} s"
            break
    return survived, why


def first_failing_depth(engine: str, low: int, high: int) -> int:
    """Bisection for the first chain depth that raises RecursionError (micrograd)."""
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    while low + 1 < high:
        mid = (low + high) // 2
        try:
            ENGINES[engine]("chain", mid)
            low = mid
        except RecursionError:
            high = mid
    return high


def million(family: str = "lattice") -> None:
    n = size_parameter(family, 1_000_000)
    gc.collect()
    t0 = time.perf_counter()
    inst = gc_build(family, n)
    t1 = time.perf_counter()
    r = backprop.differentiate(inst.graph, inst.point, inst.wrt)
    t2 = time.perf_counter()
    nodes = len(inst.graph)
    tracemalloc.start()
    inst2 = gc_build(family, n)
    retained = tracemalloc.get_traced_memory()[0]
    backprop.differentiate(inst2.graph, inst2.point, inst2.wrt)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del inst2
    t3 = time.perf_counter()
    del inst
    unreachable = gc.collect()
    t4 = time.perf_counter()
    print(f"  {family} {nodes:,} nodes: build {t1 - t0:.2f} s + forward/backward {t2 - t1:.2f} s"
          f" = {t2 - t0:.2f} s ({(t2 - t0) / nodes * 1e6:.2f} µs/node); status {r.status}, "
          f"{r.counts.total:,} operations")
    print(f"  memory: graph {retained / nodes:.0f} B/node retained, peak {peak / nodes:.0f} "
          f"B/node during build + forward + backward")
    print(f"  dropping it: {(t4 - t3) * 1e3:.0f} ms, gc.collect() found {unreachable} "
          f"unreachable objects (no reference cycles)")


def deep_chain_all_methods(depth: int = 2_000_000) -> None:
    t0 = time.perf_counter()
    inst = families.chain(depth)
    print(f"  built sin-chain of {depth:,} in {time.perf_counter() - t0:.2f} s")
    for name, method in METHODS.items():
        t0 = time.perf_counter()
        r = method(inst.graph, inst.point, inst.wrt, DEFAULT_LIMITS)
        total = f"{r.counts.total:,}" if r.counts else "-"
        print(f"  {name:9} {r.status:12} {time.perf_counter() - t0:6.2f} s  operations {total}"
              f"{' (predicted)' if r.predicted else ''}  {r.note[:70]}")


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:3]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="2000,20000,200000",
                   help="target node counts, comma-separated (2000,2e4), or 'none' to skip the "
                        "engine table (default: %(default)s)")
    p.add_argument("--families", default="chain,lattice,mlp",
                   help="graphs, comma-separated, of chain, lattice, mlp (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=5,
                   help="runs per engine, the best is kept; small graphs get more runs, up to "
                        "30 (default: %(default)s)")
    p.add_argument("--engines", default=",".join(ENGINES),
                   help="engines, comma-separated, of " + ", ".join(ENGINES) + "; gradcompare "
                        "always runs, as the reference.  One engine per process keeps "
                        "micrograd's garbage out of the others' collections "
                        "(default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="skip the million-node, deep-chain and survival parts")
    args = p.parse_args(argv)
    sizes = [] if args.sizes == "none" else [int(float(s)) for s in args.sizes.split(",")]
    wanted = {"gradcompare", *args.engines.split(",")}
    unknown = wanted - set(ENGINES)
    if unknown:
        p.error(f"unknown or unavailable engine(s): {', '.join(sorted(unknown))}; "
                f"available: {', '.join(ENGINES)}")
    bad = set(args.families.split(",")) - {"chain", "lattice", "mlp"}
    if bad:
        p.error(f"unknown famil(ies): {', '.join(sorted(bad))}; known: chain, lattice, mlp")
    for name in list(ENGINES):
        if name not in wanted:
            del ENGINES[name]
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; engines: "
          f"{', '.join(ENGINES)}"
          + (f" (torch {torch.__version__}, {torch.get_num_threads()} threads)" if torch else ""))
    if sizes:
        print("\nbuild + forward + backward, best of", args.repeat, "(more runs at small sizes)")
        compare_engines(sizes, args.repeat, args.families.split(","))
    if args.quick:
        return 0
    print("\n10^6 nodes, end to end (gradcompare backprop)")
    million("lattice")
    million("chain")
    print("\ndeepest relu chain at the default recursion limit "
          f"({DEFAULT_RECURSION_LIMIT})")
    for e in ENGINES:
        if e == "micrograd":
            fail = first_failing_depth(e, 10, 5_000)
            print(f"  {e:12} survives {fail - 1:,}; RecursionError from {fail:,}")
            continue
        depths = [1_000, 10_000, 100_000, 1_000_000, 2_000_000]
        survived, why = deepest_chain(e, depths, budget_s=60.0)
        print(f"  {e:12} survives {survived:,} ({why})")
    print("\n2·10^6-deep chain, every gradcompare method")
    deep_chain_all_methods()
    return 0


if __name__ == "__main__":
    sys.exit(main())
