"""The cost-growth study: every method on a family of graphs of growing size n.

`sweep("lattice", range(1, 31))` returns a tidy pandas table, one row per (family, n, method):
operation counts, seconds, peak memory, status.  The naive method beyond its budget reports its
exact predicted count (`predicted` is True: the work was not done); SymPy runs until its time
budget stops it (larger sizes of that family are then skipped) and reports the size of its
derivative raw and after cse.  `growth` states the measured growth per step and the ratio of
backprop's operations to the forward pass's (the cheap-gradient principle); `plot` draws counts
and times against n on a log scale.  `gradcompare scale FAMILY --sizes 1:30` is the command.
"""

from __future__ import annotations

import math
import tracemalloc
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import pandas as pd

from .errors import GradcompareError
from .fmt import count_text, ratio
from .tables import tidy_frame
from .families import FAMILIES
from .forward import forward
from .limits import DEFAULT_LIMITS, Limits
from .methods import METHODS
from .result import SKIPPED, TIMEOUT

COLUMNS = ["family", "n", "nodes", "forward_ops", "method", "status", "predicted",
           "derivatives", "multiplications", "additions", "passes", "operations", "seconds",
           "memory_bytes", "size_raw", "size_cse", "note"]
MEMORY_RERUN_SECONDS = 2.0   # memory is measured in a second, traced run when the first is quick

Progress = Callable[[int, int, str], None]


def parse_sizes(text: str) -> list[int]:
    """'1:30' (inclusive), '1:30:2', '10,100,1000' or '7' -> sizes."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1
            if step <= 0:
                raise ValueError
            sizes = list(range(start, stop + 1, step))
        else:
            sizes = [int(float(p)) for p in text.split(",") if p.strip()]
    except ValueError:
        raise GradcompareError(f"--sizes: expected START:STOP[:STEP] or N1,N2,..., got '{text}'"
                               ) from None
    if not sizes or min(sizes) < 1:
        raise GradcompareError(f"--sizes: sizes must be at least 1, got '{text}'")
    return sizes


def _measure_memory(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def sweep(families: Union[str, Sequence[str]], sizes: Iterable[int],
          methods: Sequence[str] = tuple(METHODS), limits: Limits = DEFAULT_LIMITS,
          progress: Optional[Progress] = None, memory: bool = True) -> pd.DataFrame:
    """Run `methods` on every family member of every size; one row per (family, n, method)."""
    fams = [families] if isinstance(families, str) else list(families)
    unknown = [f for f in fams if f not in FAMILIES]
    if unknown:
        raise GradcompareError(f"unknown family {', '.join(unknown)}; known: "
                               f"{', '.join(FAMILIES)}")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise GradcompareError(f"unknown method {', '.join(bad)}; known: {', '.join(METHODS)}")
    sizes = list(sizes)
    rows: list[dict[str, Any]] = []
    total, done = len(fams) * len(sizes), 0
    for family in fams:
        stopped: dict[str, str] = {}   # method -> why larger sizes are skipped
        for n in sizes:
            if progress:
                progress(done, total, f"{family} n={n}")
            inst = FAMILIES[family](n)
            graph, point, wrt = inst.graph, inst.point, inst.wrt
            fw = forward(graph, point)
            base = {"family": family, "n": n, "nodes": sum(fw.live),
                    "forward_ops": fw.operations}
            for m in methods:
                row = dict(base, method=m)
                if m in stopped:
                    row.update(status=SKIPPED, predicted=False, note=stopped[m])
                    rows.append(row)
                    continue
                r = METHODS[m](graph, point, wrt, limits)
                row.update(status=r.status, predicted=r.predicted, seconds=r.seconds,
                           note=r.note)
                if r.counts is not None:
                    row.update(derivatives=r.counts.derivatives,
                               multiplications=r.counts.multiplications,
                               additions=r.counts.additions, passes=r.counts.passes,
                               operations=r.counts.total)
                if r.details is not None:
                    row.update(size_raw=r.details.size_raw, size_cse=r.details.size_cse)
                if memory and m != "sympy" and r.seconds < MEMORY_RERUN_SECONDS:
                    row["memory_bytes"] = _measure_memory(
                        lambda: METHODS[m](graph, point, wrt, limits))
                if m == "sympy" and r.status == TIMEOUT:
                    stopped[m] = f"SymPy timed out at n = {n}"
                rows.append(row)
            done += 1
    if progress:
        progress(total, total, "")
    df = tidy_frame(rows, COLUMNS, ("n", "nodes", "forward_ops", "derivatives",
                                    "multiplications", "additions", "passes", "operations",
                                    "memory_bytes", "size_raw", "size_cse"))
    df["predicted"] = df["predicted"].astype(bool)
    return df



# -- growth ----------------------------------------------------------------------------------
def _steps(ns: list[int], ys: list[float]) -> tuple[list[float], list[float]]:
    """Per unit step of n: ratios and differences between consecutive measured sizes."""
    ratios, diffs = [], []
    for (n0, y0), (n1, y1) in zip(zip(ns, ys), zip(ns[1:], ys[1:])):
        k = n1 - n0
        if k <= 0 or y0 is None or y1 is None:
            continue
        if y0 > 0 and y1 > 0:
            r = ratio(y1, y0)
            ratios.append(r ** (1.0 / k) if r is not None and math.isfinite(r) else math.inf)
        d = ratio(y1 - y0, k)
        diffs.append(d if d is not None else math.inf)
    return ratios, diffs


def growth(df: pd.DataFrame, last: int = 3) -> pd.DataFrame:
    """Measured growth per step of n, from the last `last` steps of each series.

    One row per (family, series): the operations of each method (predicted ones included,
    they are exact), SymPy's derivative size raw and after cse, and the ratio of backprop's
    operations to the forward pass's operations.
    """
    out = []
    for family, fdf in df.groupby("family", sort=False):
        fdf = fdf.sort_values("n")
        series: dict[str, tuple[list[int], list[float]]] = {}
        for m, mdf in fdf.groupby("method", sort=False):
            ok = mdf[mdf["operations"].notna()]
            if len(ok):
                label = "forward mode" if m == "forward" else m   # not the forward pass
                series[f"{label} operations"] = (list(ok["n"]),
                                                 [int(v) for v in ok["operations"]])
            sz = mdf[mdf["size_raw"].notna()]
            if len(sz):
                series["sympy derivative size raw"] = (list(sz["n"]),
                                                       [int(v) for v in sz["size_raw"]])
                series["sympy derivative size after cse"] = (list(sz["n"]),
                                                             [int(v) for v in sz["size_cse"]])
        bp = fdf[(fdf["method"] == "backprop") & fdf["operations"].notna()]
        for name, (ns, ys) in series.items():
            ratios, diffs = _steps(ns[-last - 1:], ys[-last - 1:])
            out.append({"family": family, "series": name, "from_n": ns[max(0, len(ns) - last - 1)],
                        "to_n": ns[-1], "last": ys[-1],
                        "ratio_per_step": _mean(ratios), "difference_per_step": _mean(diffs)})
        if len(bp):
            r = bp["operations"].astype(float) / bp["forward_ops"].astype(float)
            out.append({"family": family, "series": "backprop / forward operations",
                        "from_n": int(bp["n"].iloc[0]), "to_n": int(bp["n"].iloc[-1]),
                        "last": float(r.iloc[-1]), "ratio_per_step": None,
                        "difference_per_step": None, "min": float(r.min()),
                        "max": float(r.max())})
        fm = fdf[(fdf["method"] == "forward") & fdf["operations"].notna()]
        if len(bp) and len(fm):
            both = fm.set_index("n")["operations"].astype(float) / bp.set_index("n")[
                "operations"].astype(float)
            both = both.dropna()
            if len(both):
                ns, ys = list(both.index), list(both.values)
                _, diffs = _steps(ns[-last - 1:], ys[-last - 1:])
                out.append({"family": family, "series": "forward / backprop operations",
                            "from_n": int(ns[0]), "to_n": int(ns[-1]), "last": float(ys[-1]),
                            "ratio_per_step": None, "difference_per_step": _mean(diffs),
                            "min": float(min(ys)), "max": float(max(ys))})
    return pd.DataFrame(out)


def _mean(xs: list[float]) -> Optional[float]:
    return sum(xs) / len(xs) if xs else None


def growth_text(df: pd.DataFrame) -> str:
    """The growth table as sentences, e.g. 'naive operations ×3.00 per step'."""
    lines = []
    for _, g in growth(df).iterrows():
        if g["series"] == "forward / backprop operations":
            lines.append(f"{g['family']}: forward mode / backprop operations = "
                         f"{g['last']:.2f} at n = {g['to_n']} (range {g['min']:.2f}–"
                         f"{g['max']:.2f}, {g['difference_per_step']:+.3f} per step of n)")
            continue
        if g["series"] == "backprop / forward operations":
            lines.append(f"{g['family']}: backprop / forward operations = {g['last']:.2f} at "
                         f"n = {g['to_n']} (range {g['min']:.2f}–{g['max']:.2f} over "
                         f"n = {g['from_n']}..{g['to_n']})")
            continue
        parts = []
        if g["ratio_per_step"] is not None and not _nan(g["ratio_per_step"]):
            parts.append(f"×{g['ratio_per_step']:.2f}")
        if g["difference_per_step"] is not None and not _nan(g["difference_per_step"]):
            parts.append(f"{g['difference_per_step']:+,.1f}")
        lines.append(f"{g['family']}: {g['series']} {' / '.join(parts)} per step of n "
                     f"(n = {g['from_n']}..{g['to_n']})")
    return "\n".join(lines)


def _nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


# -- the committed summary -------------------------------------------------------------------
SUMMARY_SIZES = tuple(range(1, 9))


def summary_sweep(sizes: Sequence[int] = SUMMARY_SIZES) -> pd.DataFrame:
    """The lattice and logistic families at small n, with SymPy given all the time it needs."""
    return sweep(list(_FAMILY_NOTE), sizes, limits=Limits(sympy_seconds=600.0), memory=False)


def growth_summary_markdown(sizes: Sequence[int] = SUMMARY_SIZES,
                            df: Optional[pd.DataFrame] = None) -> str:
    """Counts only (no timings), for the lattice and logistic families: deterministic text.

    Naive counts are exact (executed within the budget, predicted beyond it, marked *).
    SymPy's sizes are compare.sympy_bridge.expression_size of the derivative, raw and after cse.
    """
    if df is None:
        df = summary_sweep(sizes)
    lines = []
    for family, fdf in df.groupby("family", sort=False):
        by = {m: mdf.set_index("n") for m, mdf in fdf.groupby("method")}
        lines.append(f"**{family}** ({_FAMILY_NOTE[family]})")
        lines.append("")
        lines.append("| n | forward ops | naive ops | × | backprop ops | + | backprop / forward "
                     "| sympy raw | × | sympy cse | + |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        prev: dict[str, Optional[int]] = {}
        for n in sizes:
            fwd = int(by["backprop"].loc[n, "forward_ops"])
            nv = by["naive"].loc[n]
            bp = int(by["backprop"].loc[n, "operations"])
            sy = by["sympy"].loc[n]
            raw = None if pd.isna(sy["size_raw"]) else int(sy["size_raw"])
            cse = None if pd.isna(sy["size_cse"]) else int(sy["size_cse"])
            naive = int(nv["operations"])
            cells = [str(n), count_text(fwd),
                     count_text(naive) + ("*" if nv["predicted"] else ""),
                     _times(prev.get("naive"), naive), count_text(bp), _plus(prev.get("bp"), bp),
                     f"{bp / fwd:.2f}", "–" if raw is None else count_text(raw),
                     _times(prev.get("raw"), raw), "–" if cse is None else count_text(cse),
                     _plus(prev.get("cse"), cse)]
            lines.append("| " + " | ".join(cells) + " |")
            prev = {"naive": naive, "bp": bp, "raw": raw, "cse": cse}
        lines.append("")
    note = "× and + compare with the row above."
    if df["predicted"].any():
        note += ("  * predicted by compare.counting (over the naive budget, not executed; "
                 "the prediction equals execution wherever both exist).")
    lines.append(note)
    return "\n".join(lines) + "\n"


MODE_SIZES = (1, 2, 4, 8, 16, 32)
_MODE_NOTE = {
    "fanin": "Σ x_i·y_i: 2n inputs, one output",
    "fanout": "Σ sin(i·x): one input, n intermediate outputs summed",
}


def forward_vs_reverse_markdown(sizes: Sequence[int] = MODE_SIZES,
                                df: Optional[pd.DataFrame] = None) -> str:
    """Forward mode (one sweep per input) against backprop (one sweep per output) on a family
    with many inputs and one with one input: counts only, and the sentence they support."""
    if df is None:
        df = sweep(list(_MODE_NOTE), sizes, ("forward", "backprop"), memory=False)
    lines = [f"- **{f}**: {note}" for f, note in _MODE_NOTE.items()]
    lines += ["", "| family | n | forward-mode sweeps (= inputs) | forward-mode ops "
              "| backprop ops | forward-mode / backprop |", "|---|---:|---:|---:|---:|---:|"]
    last: dict[str, float] = {}
    for family, fdf in df.groupby("family", sort=False):
        by = {m: mdf.set_index("n") for m, mdf in fdf.groupby("method")}
        for n in sizes:
            fm, bp = by["forward"].loc[n], by["backprop"].loc[n]
            r = int(fm["operations"]) / int(bp["operations"])
            last[family] = r
            lines.append(f"| {family} | {n} | {int(fm['passes'])} | "
                         f"{count_text(int(fm['operations']))} | "
                         f"{count_text(int(bp['operations']))} | {r:.2f} |")
    fan = growth(df[df["family"] == "fanin"])
    slope = fan[fan["series"] == "forward / backprop operations"]["difference_per_step"]
    n_max = sizes[-1]
    lines += ["", f"Forward mode pays one sweep per input: on fanin its operations over "
              f"backprop's rise linearly in n (+{float(slope.iloc[0]):.3f} per input pair, "
              f"{last['fanin']:.2f} at n = {n_max}), while with one input (fanout) the two "
              f"do exactly the same count ({last['fanout']:.2f} at every n): for one "
              f"output forward mode at best ties, and it wins only where a function has "
              f"fewer inputs than outputs (a Jacobian, which one scalar output does not "
              f"have) or where keeping backprop's tape costs too much memory."]
    return "\n".join(lines) + "\n"


_FAMILY_NOTE = {
    "lattice": "v ← v·v + v: three edges to the previous level, 3^n paths",
    "logistic": "l ← 4·l·(1 − l): two edges to the previous iterate, 2^n paths",
}


def _times(a: Optional[int], b: Optional[int]) -> str:
    r = ratio(b, a) if a and b is not None else None
    return "" if r is None else f"×{r:.2f}" if math.isfinite(r) else "×∞"


def _plus(a: Optional[int], b: Optional[int]) -> str:
    if a is None or b is None:
        return ""
    return ("+" if b >= a else "") + count_text(b - a)


# -- the plot --------------------------------------------------------------------------------
STYLE = {"naive": "tab:red", "backprop": "tab:blue", "sympy": "tab:green", "forward": "tab:purple",
         "numeric": "tab:gray"}


SUMMARY_PAGE = "scale/README.md"


def write_summary(out: Any, sizes: Sequence[int] = SUMMARY_SIZES) -> list[Any]:
    """Write the growth study into `out`/scale/: the page the report index links to."""
    from .files import OutputFolder

    return OutputFolder(out).write_all(summary_page(sizes))


def summary_page(sizes: Sequence[int] = SUMMARY_SIZES) -> dict[str, "str | bytes"]:
    """The growth study as files (relative path -> content): a page and its plots.

    Counts only, so the committed page is the same on every machine.  It is its own command's
    output (`gradcompare scale --summary`), not recomputed by every report.
    """
    import io

    df = summary_sweep(sizes)
    files: dict[str, bytes] = {}
    links = []
    for family in _FAMILY_NOTE:
        buf = io.BytesIO()
        plot(df[df["family"] == family], buf, counts_only=True)
        files[f"scale/{family}.svg"] = buf.getvalue()
        links.append(f"![{family}: operations against n, log scale]({family}.svg)")
    text = "\n".join([
        "# How the cost grows", "",
        "Every method on two graph families of growing size n (the table: naive, backprop "
        "and SymPy; the plots: all five; written by "
        "`gradcompare scale --summary`; `gradcompare scale FAMILY --sizes 1:30 --plot FILE` "
        "draws larger sweeps, with times).", "",
        growth_summary_markdown(sizes, df), *links, "",
        "## Forward mode against reverse mode", "",
        "One sweep per input against one sweep per output (the `forward` and `backprop` "
        "methods, counted by the same definitions; `gradcompare scale fanin` and "
        "`gradcompare scale fanout` run them with times).", "",
        forward_vs_reverse_markdown(), "[Back to the index](../README.md)", ""])
    return {SUMMARY_PAGE: text, **files}


def plot(df: pd.DataFrame, path: Any, counts_only: bool = False,
         fmt: Optional[str] = None) -> Any:
    """Counts and seconds against n on a log scale, one line per method; predicted dashed.

    Writes SVG (reproducible: fixed hash salt, no date), PNG or PDF: `fmt`, else the file's
    extension; `path` may also be a binary file object (SVG unless `fmt` says otherwise).  `counts_only` leaves out the timing panel, so the
    picture is the same on every machine.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "gradcompare"
    fams = list(dict.fromkeys(df["family"]))
    cols = 1 if counts_only else 2
    fig, axes = plt.subplots(len(fams), cols, figsize=(5.5 * cols, 4 * len(fams)),
                             squeeze=False)
    for row, family in zip(axes, fams):
        fdf = df[df["family"] == family].sort_values("n")
        ax_c, ax_t = row[0], (None if counts_only else row[1])
        for m, mdf in fdf.groupby("method", sort=False):
            color = STYLE.get(m)
            if m == "sympy":
                sz = mdf[mdf["size_raw"].notna()]
                ax_c.plot(sz["n"], sz["size_raw"].astype(float), color=color, marker="o",
                          ms=3, label="sympy: derivative size, raw")
                ax_c.plot(sz["n"], sz["size_cse"].astype(float), color=color, marker="s",
                          ms=3, linestyle=":", label="sympy: derivative size after cse")
            else:
                _split_line(ax_c, mdf, "operations", color, m)
            if ax_t is not None:
                timed = mdf[mdf["seconds"].notna() & ~mdf["status"].isin([SKIPPED, TIMEOUT])]
                timed = timed[~timed["predicted"]]
                ax_t.plot(timed["n"], timed["seconds"].astype(float), color=color,
                          marker="o", ms=3, label=m)
        panels = [(ax_c, "operations (or derivative size)"), (ax_t, "seconds")]
        for ax, what in panels[:cols]:
            ax.set_yscale("log")
            ax.set_xlabel("n")
            ax.set_ylabel(what)
            ax.set_title(f"{family}: {what.split(' ')[0]}")
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    if fmt is None:
        fmt = (str(path).rsplit(".", 1)[-1].lower() if isinstance(path, str) and "." in path
               else "svg")
    kw: dict[str, Any] = {"format": fmt}
    if fmt == "svg":
        kw["metadata"] = {"Date": None}
    fig.savefig(path, **kw)
    plt.close(fig)
    return path


def _plottable(count: Any) -> float:
    """A count as a float for a log axis; NaN (not drawn) beyond the largest float."""
    try:
        return float(count)
    except OverflowError:
        return math.nan


def _split_line(ax: Any, mdf: pd.DataFrame, col: str, color: Optional[str], label: str) -> None:
    """Executed values solid, predicted values dashed (joined where they meet)."""
    d = mdf[mdf[col].notna()]
    if not len(d):
        return
    ns, ys, pred = list(d["n"]), [_plottable(v) for v in d[col]], list(d["predicted"])
    done = [(n, y) for n, y, p in zip(ns, ys, pred) if not p]
    if done:
        ax.plot(*zip(*done), color=color, marker="o", ms=3, label=label)
    if any(pred):
        first = pred.index(True)
        start = max(first - 1, 0)
        seg = [(n, y) for n, y, p in zip(ns[start:], ys[start:], pred[start:])]
        ax.plot(*zip(*seg), color=color, linestyle="--", label=f"{label} (predicted)")


__all__ = ["COLUMNS", "growth", "growth_summary_markdown", "growth_text", "parse_sizes",
           "plot", "summary_page", "sweep", "write_summary"]
