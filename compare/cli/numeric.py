"""`gradcompare numeric CASE`: the central difference's error against the exact gradient over
h = 1e-1 … 1e-14 — truncation falling as h², round-off rising as 1/h — with the step the
numeric method chose; `--plot FILE` draws the V-shaped curve (matplotlib, imported only then)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import GradcompareError
from .common import EXIT_OK, library_line, load_selected, plot_format, text_table

READS_CASES = True
HELP = "Central-difference error against the exact gradient over the step h (gradient check)."
EXAMPLE = "gradcompare numeric log-times-exp --plot steps.svg"


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("numeric", parents=[parent], help=HELP,
                       description=HELP + "  The exact value is backprop's.",
                       epilog=f"Example: {EXAMPLE}")
    p.add_argument("name", metavar="CASE", help="the case (its name, as `gradcompare list` "
                                                 "shows it)")
    p.add_argument("--plot", metavar="FILE", help="draw the error against h into FILE (.svg, .png, .pdf; replacing it)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..methods import backprop, numeric

    fmt = plot_format(args.plot)
    args.case = [*args.case, args.name]
    library, limits = load_selected(args)
    cases = [c for c in library.cases if c.name == args.name]
    if not cases:
        problems = [str(e) for e in library.errors if e.case == args.name]
        raise GradcompareError(problems[0] if problems else
                               f"no case named '{args.name}'; `gradcompare list` shows them")
    case = cases[0]
    line = library_line(args)
    if line:
        print(line)
    exact = backprop.differentiate(case.graph, case.at, case.wrt, limits)
    if not exact.ok or None in exact.gradient.values():
        raise GradcompareError(f"case '{case.name}': no exact gradient to compare with "
                               f"({exact.status}: {exact.note})")
    chosen = numeric.differentiate(case.graph, case.at, case.wrt, limits)
    curves = {v: numeric.error_curve(case.graph, case.at, v) for v in case.wrt
              if case.graph.variables.get(v) is not None}
    rows = []
    for k, h in enumerate(numeric.CURVE_STEPS):
        row: list[object] = [f"{h:.0e}"]
        for v, curve in curves.items():
            d = curve[k][1]
            row.append("outside the domain" if d is None else
                       f"{abs(d - exact.gradient[v]):.3e}")
        rows.append(row)
    print(text_table(rows, ["h", *(f"|error| ∂f/∂{v}" for v in curves)]))
    steps = chosen.numeric.step if chosen.numeric else {}
    for v in curves:
        h = steps.get(v)
        err = numeric.relative_error(chosen.gradient.get(v), exact.gradient[v])
        print(f"∂f/∂{v}: exact {exact.gradient[v]!r}; numeric chose h = "
              + (f"{h:.3g}, relative error {err:.2e}" if h is not None and err is not None
                 else f"nothing ({chosen.status}: {chosen.note})"))
        sides = chosen.numeric.sides.get(v) if chosen.numeric else None
        if sides is not None:
            inside = numeric.between(chosen, v, exact.gradient[v])
            print(f"  at a kink: one-sided differences {sides[0]!r} (left), {sides[1]!r} "
                  f"(right); the exact value lies between them: "
                  f"{'yes' if inside else 'unknown' if inside is None else 'NO'}")
    if args.plot and fmt:
        _plot(case.name, curves, exact.gradient, steps, chosen.gradient, Path(args.plot), fmt)
        print(f"wrote {args.plot}", file=sys.stderr)
    return EXIT_OK


def _plot(name, curves, exact, steps, chosen, path: Path, fmt: str) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..files import write_atomic

    fig, ax = plt.subplots(figsize=(7, 4.5))
    tiny = 1e-17
    for v, curve in curves.items():
        pts = [(h, max(abs(d - exact[v]), tiny)) for h, d in curve if d is not None]
        line, = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"∂f/∂{v}")
        if steps.get(v) is not None and chosen.get(v) is not None:
            ax.plot([steps[v]], [max(abs(chosen[v] - exact[v]), tiny)], marker="*",
                    markersize=14, color=line.get_color(), linestyle="none",
                    label=f"chosen h for {v} = {steps[v]:.2g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("step h")
    ax.set_ylabel("|central difference − exact|")
    ax.set_title(f"{name}: truncation (h²) against round-off (1/h)")
    ax.legend(fontsize=8)
    buf = io.BytesIO()
    meta = {"Date": None} if fmt in ("svg", "pdf") else {}
    fig.savefig(buf, format=fmt, metadata=meta, bbox_inches="tight")
    plt.close(fig)
    write_atomic(path, buf.getvalue())
