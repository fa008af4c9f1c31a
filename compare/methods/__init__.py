"""The differentiation methods, one module each, all with the same signature:

    differentiate(graph, point, wrt, limits) -> compare.result.Result
"""

from __future__ import annotations

from typing import Callable

from . import backprop, forward_mode, naive, numeric, symbolic

METHODS: dict[str, Callable] = {
    naive.NAME: naive.differentiate,
    backprop.NAME: backprop.differentiate,
    symbolic.NAME: symbolic.differentiate,
    forward_mode.NAME: forward_mode.differentiate,
    numeric.NAME: numeric.differentiate,
}

__all__ = ["METHODS"]
