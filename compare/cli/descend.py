"""`gradcompare descend`: gradient descent and the optimizers on one case's objective."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import GradcompareError
from ..fmt import plural
from .common import (EXIT_INVALID, EXIT_OK, METHOD_NAMES, Progress, format_option,
                     library_line, load_selected, plot_format, print_errors)

READS_CASES = True
OPTIMIZER_NAMES = ("gd", "sgd", "momentum", "rmsprop", "adam")   # compare.descent.OPTIMIZERS
HELP = "Run gradient descent and the optimizers (SGD, Momentum, RMSprop, Adam) on a case."
EPILOG = """\
Examples:
  gradcompare descend lecture-sigmoid-neuron-loss --optimizer gd --steps 1 --lr 0.1
  gradcompare descend least-squares-line --steps 200 --plot descent.svg
  gradcompare descend lecture-sigmoid-neuron-data --optimizer sgd,adam --batch 2 --seed 1 \\
      --set sgd.momentum=0.9 --set sgd.nesterov=true --format csv

The objective is the case's loss over its data rows (or, without a loss, the function itself);
only the case's parameters move.  Settings and their defaults (torch.optim's) are listed in
README.md; --set OPTIMIZER.NAME=VALUE changes one (true/false for nesterov, centered, amsgrad)."""


def add(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("descend", parents=[parent], help=HELP, description=HELP
                       + "  Prints one row per (optimizer, step): the parameters, the loss, the "
                       "gradient's norm, the operations the method has spent so far, a status.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", metavar="CASE", nargs="?", help="the case (same as --case CASE)")
    p.add_argument("--optimizer", default=",".join(OPTIMIZER_NAMES), metavar="O1,O2",
                   help=f"optimizers to run (default all: {','.join(OPTIMIZER_NAMES)})")
    p.add_argument("--steps", type=int, default=100, metavar="N",
                   help="updates per optimizer (default 100)")
    p.add_argument("--lr", type=float, metavar="ALPHA",
                   help="learning rate of every optimizer (default: the case's learning_rate, "
                        "else torch's default: 1e-3, RMSprop 1e-2)")
    p.add_argument("--batch", type=int, metavar="B",
                   help="rows per step for every optimizer but gd (default: sgd 1, the others "
                        "every row)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the mini-batch shuffle (default 0)")
    p.add_argument("--method", choices=METHOD_NAMES, default="backprop",
                   help="how every gradient is computed (default backprop)")
    p.add_argument("--parameters", metavar="P1,P2",
                   help="what moves (default: the case's parameters)")
    p.add_argument("--set", metavar="OPTIMIZER.NAME=VALUE", action="append", default=[],
                   dest="settings", help="one optimizer setting, e.g. adam.amsgrad=true, "
                                         "rmsprop.centered=true, sgd.momentum=0.9")
    p.add_argument("--plot", metavar="FILE",
                   help="draw the loss against the step (and, for two parameters, the contour "
                        "of the loss with each path) into FILE (.svg, .png or .pdf; replacing it)")
    format_option(p)
    p.set_defaults(func=main)


def _settings(pairs: list[str]) -> dict[str, dict[str, object]]:
    """--set OPTIMIZER.NAME=VALUE options as {optimizer: {name: value}}."""
    out: dict[str, dict[str, object]] = {}
    for pair in pairs:
        key, eq, text = pair.partition("=")
        opt, dot, name = key.strip().partition(".")
        if not eq or not dot or not opt or not name:
            raise GradcompareError(f"--set expects OPTIMIZER.NAME=VALUE (e.g. adam.amsgrad=true), "
                                   f"got '{pair}'")
        text = text.strip()
        value: object
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        elif name == "batch":
            try:
                value = int(text)
            except ValueError:
                raise GradcompareError(f"--set {key}: expected a whole number, got '{text}'") \
                    from None
        else:
            try:
                value = float(text)
            except ValueError:
                raise GradcompareError(f"--set {key}: expected a number or true/false, got "
                                       f"'{text}'") from None
        out.setdefault(opt, {})[name] = value
    return out


def main(args: argparse.Namespace) -> int:
    from .. import descent
    from ..tables import descent_table, render

    if args.steps < 1:
        raise GradcompareError(f"--steps must be at least 1, got {args.steps}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise GradcompareError(f"--lr must be a positive number, got {args.lr:g}")
    if args.batch is not None and args.batch < 1:
        raise GradcompareError(f"--batch must be at least 1, got {args.batch}")
    fmt = plot_format(args.plot)
    optimizers = [o.strip() for o in args.optimizer.split(",") if o.strip()]
    unknown = [o for o in optimizers if o not in OPTIMIZER_NAMES]
    if unknown or not optimizers:
        raise GradcompareError(f"unknown optimizer {', '.join(unknown) or '(none given)'}; "
                               f"known: {', '.join(OPTIMIZER_NAMES)}")
    if args.name:
        args.case = [args.name, *[n for n in args.case if n != args.name]]
    library, limits = load_selected(args)
    if library.errors and len(library.cases) != 1:
        print_errors(library.errors)
        return EXIT_INVALID
    if len(library.cases) != 1:
        raise GradcompareError(f"descend runs on one case; selected {len(library.cases)} "
                               f"(name one: gradcompare descend CASE)")
    case = library.cases[0]
    line = library_line(args)
    if line:
        print(line, file=sys.stderr if args.format in ("csv", "json") else sys.stdout)
    parameters = ([p.strip() for p in args.parameters.split(",") if p.strip()]
                  if args.parameters else None)
    objective, trajectories = descent.run(
        case, optimizers, args.steps, args.lr, args.batch, args.seed, args.method, parameters,
        _settings(args.settings), limits, progress=Progress("descend"))
    df = descent_table(trajectories)
    if args.format in ("csv", "json"):
        sys.stdout.write(render(df, args.format))
    else:
        shown = df.drop(columns=["note"])
        print(f"{case.name}: {objective.formula()}; moving {', '.join(objective.parameters)}; "
              f"gradients by {args.method}")
        sys.stdout.write(render(shown, args.format))
        print()
        for s in descent.summary(trajectories):
            where = ", ".join(f"{p} = {v:.6g}" for p, v in s["theta"].items())
            ops = f", {s['operations']:,} operations" if s["operations"] is not None else ""
            loss = f"{s['loss']:.6g}" if s["loss"] is not None else "—"
            line = f"{s['optimizer']}: {s['status']} after {plural(s['steps'], 'step')}, " \
                   f"loss {loss} at {where}{ops}"
            print(line + (f" ({s['note']})" if s["note"] else ""))
    if args.plot and fmt:
        from ..files import write_atomic

        contour = descent.contour_of(objective, trajectories)
        write_atomic(Path(args.plot), descent.plot_bytes(objective, trajectories, fmt, contour))
        print(f"wrote {args.plot}", file=sys.stderr)
    if library.errors:      # other cases of the file: reported, as every command does
        print_errors(library.errors)
        return EXIT_INVALID
    return EXIT_OK
