"""What runs inside an engine's worker process: load the adapter once, replay programs.

Every function here is called through compare.isolation's WorkerPool, so an engine that hangs
is killed at the case's deadline and one that crashes the process (a segfault in a C
extension) costs its case only.  Everything an engine raises, RecursionError included, comes
back as text.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Union

from . import adapter_for
from .base import Adapter, EngineMissing
from .program import Program

_LOADED: dict[str, Adapter] = {}


def _adapter(spec: Union[str, Adapter]) -> Adapter:
    if isinstance(spec, Adapter):   # an adapter object (a class in hand): load it once
        key = f"{spec.name}@{id(spec)}"
        if key not in _LOADED:
            spec.load()
            _LOADED[key] = spec
        return _LOADED[key]
    if spec not in _LOADED:
        adapter = adapter_for(spec)
        adapter.load()
        _LOADED[spec] = adapter
    return _LOADED[spec]


def load(spec: Union[str, Adapter]) -> tuple[str, str]:
    """("ok", version) or ("missing", the one line saying why): the import only (a class's
    own code runs in `warm_up`, under a case's deadline)."""
    try:
        adapter = _adapter(spec)
        version = adapter.load()
    except EngineMissing as err:
        return "missing", str(err)
    except Exception as err:   # an engine whose import breaks in another way
        return "missing", f"engine '{spec}' could not be loaded: {type(err).__name__}: {err}"
    return "ok", version


def warm_up(spec: Union[str, Adapter]) -> None:
    """Run a loaded engine once on a two-node program, so that its one-time start-up (PyTorch
    initialises its autograd engine on the first backward) is not timed as a case's work.
    The caller gives it a case's deadline and ignores how it ends: an engine that fails, hangs
    or dies even here is judged by its cases, not refused as missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _adapter(spec).evaluate(_WARM_UP)
    except Exception:
        pass


_WARM_UP = Program((("var", -1, -1), ("var", -1, -1), ("mul", 0, 1)), {}, {0: "x", 1: "y"},
                   {"x": 2.0, "y": 3.0}, ("x", "y"))


def run(spec: Union[str, Adapter], program: Program) -> dict[str, Any]:
    """One program on one engine: {"status": "ok" | "unsupported" | "error", …}."""
    adapter = _adapter(spec)
    lacking = adapter.missing(program)
    if lacking:
        return {"status": "unsupported", "ops": lacking}
    try:
        with warnings.catch_warnings():   # an engine's RuntimeWarning (1/0 at a kink) is noise
            warnings.simplefilter("ignore")
            answer = adapter.evaluate(program)
    except RecursionError as err:
        return {"status": "error", "error": f"RecursionError: {err}"}
    except Exception as err:
        return {"status": "error", "error": _short(err)}
    return {"status": "ok", "value": answer.value, "gradient": answer.gradient,
            "seconds": answer.seconds, "finite": all(
                math.isfinite(v) for v in (answer.value, *answer.gradient.values()))}


def _short(err: BaseException) -> str:
    try:
        text = f"{type(err).__name__}: {err}"
    except Exception:
        text = type(err).__name__
    return " ".join(text.split())[:300]
