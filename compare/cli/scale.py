"""`gradcompare scale`: the cost-growth study on generated graph families."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..errors import GradcompareError
from .common import (EXIT_OK, Progress, chosen_methods, format_option, methods_option,
                     parse_limits, plot_format)

READS_CASES = False
FAMILY_NAMES = ("chain", "lattice", "logistic", "fanin", "fanout", "mlp")   # compare.families.FAMILIES
HELP = "Cost-growth study: every method on a family of graphs of growing size n."


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "scale", parents=[parent], help=HELP,
        description=HELP + "  Families: " + ", ".join(FAMILY_NAMES) + ".  With --summary it "
        "writes the growth study the report links to (counts only, deterministic).",
        epilog="Examples:\n  gradcompare scale logistic --sizes 1:30 --plot logistic.svg\n"
               "  gradcompare scale --summary --out reports   # reports/scale/README.md",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("family", metavar="FAMILY", nargs="?", choices=[*FAMILY_NAMES, "all"],
                   help=f"one of {', '.join(FAMILY_NAMES)}, or all")
    p.add_argument("--sizes", default="1:30", metavar="A:B[:STEP]|N1,N2",
                   help="sizes n (default 1:30, inclusive)")
    methods_option(p)
    p.add_argument("--plot", metavar="FILE",
                   help="also draw counts and times into FILE (.svg, .png or .pdf; replacing it)")
    format_option(p)
    p.add_argument("--no-memory", action="store_true",
                   help="skip the traced second run that measures memory")
    p.add_argument("--summary", action="store_true",
                   help="write the growth study page (lattice and logistic, n = 1…8) into "
                        "DIR/scale/ instead of printing a sweep")
    p.add_argument("--out", metavar="DIR", default="reports",
                   help="with --summary: the report folder (default: reports)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from .. import scale

    limits = parse_limits(getattr(args, "limit", []))
    if args.summary:
        written = scale.write_summary(Path(args.out))
        print(f"wrote {len(written)} files to {Path(args.out) / 'scale'}/")
        return EXIT_OK
    if args.family is None:
        raise GradcompareError("scale needs a FAMILY (or --summary); families: "
                               + ", ".join(FAMILY_NAMES))
    fmt = plot_format(args.plot)   # a wrong suffix or target is refused before the sweep
    sizes = scale.parse_sizes(args.sizes)
    methods = chosen_methods(args)
    fams = list(FAMILY_NAMES) if args.family == "all" else [args.family]
    t0 = time.perf_counter()
    df = scale.sweep(fams, sizes, methods, limits, progress=Progress("scale"),
                     memory=not args.no_memory)
    from ..tables import render

    if args.format in ("csv", "json"):
        sys.stdout.write(render(df, args.format))
    else:
        sys.stdout.write(render(df.drop(columns=["note"]), args.format))
        print()
        print(scale.growth_text(df))
        print(f"({time.perf_counter() - t0:.1f} s)")
    if args.plot and fmt:
        import io

        from ..files import write_atomic

        buf = io.BytesIO()
        scale.plot(df, buf, fmt=fmt)
        write_atomic(Path(args.plot), buf.getvalue())
        print(f"wrote {args.plot}", file=sys.stderr)
    return EXIT_OK
