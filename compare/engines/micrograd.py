"""micrograd (Karpathy's): its `micrograd.engine.Value` through the micrograd-style adapter.

micrograd 0.1.0 has `+ - * / **` (a number as the exponent only) and `relu`; every other
operation makes a case unsupported.  Its `backward` sorts the graph recursively, so a graph
deeper than Python's recursion limit raises RecursionError: that case's error.
"""

from __future__ import annotations

from .value import ValueAdapter


def adapter() -> ValueAdapter:
    return ValueAdapter("micrograd.engine", "Value", name="micrograd", distribution="micrograd")
