"""A case's graph as an engine-neutral program: the nodes the output depends on, in order.

Adapters replay a `Program` node by node on an engine's own objects, so the engine sees exactly
the case's sharing (a node used twice is one engine object used twice).  Only nodes the output
depends on are kept (a step the output never uses must not fail an engine); index order is a
topological order, so the replay is a loop, never a recursion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

from ..graph import Graph
from ..primitives import CONST, OPS, VAR

LEAF_VAR, LEAF_CONST = "var", "const"


@dataclass(frozen=True)
class Program:
    """Nodes as (operation, a, b): "var"/"const" leaves or a primitive's name (compare.primitives).

    `a`/`b` index earlier nodes (-1 when absent); `consts` holds the constants' values and
    `names` the variables' names, both by node; the last node is the output.
    """

    ops: tuple[tuple[str, int, int], ...]
    consts: Mapping[int, float]
    names: Mapping[int, str]
    point: Mapping[str, float]
    wrt: tuple[str, ...]
    # The constants' exact values as text ("1/10", "pi"), by node: for exports, not engines.
    exact: Mapping[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def primitives(self) -> list[str]:
        """The operations used, each once, in order of first use."""
        return list(dict.fromkeys(op for op, _, _ in self.ops if op not in (LEAF_VAR, LEAF_CONST)))

    def is_const(self, node: int) -> bool:
        return node in self.consts


def program_of(graph: Graph, point: Mapping[str, float], wrt: Sequence[str]) -> Program:
    """The nodes `graph.output` depends on, renumbered in their (topological) order."""
    n = len(graph)
    needed = [False] * n
    needed[graph.output] = True
    for i in range(graph.output, -1, -1):   # reverse index order: parents before children
        if needed[i]:
            for j in (graph.a[i], graph.b[i]):
                if j >= 0:
                    needed[j] = True
    index: dict[int, int] = {}
    ops: list[tuple[str, int, int]] = []
    consts: dict[int, float] = {}
    exact: dict[int, str] = {}
    names: dict[int, str] = {}
    for i in range(n):
        if not needed[i]:
            continue
        k = index[i] = len(ops)
        code = graph.op[i]
        if code == VAR:
            ops.append((LEAF_VAR, -1, -1))
            names[k] = graph.var_name[i]
        elif code == CONST:
            ops.append((LEAF_CONST, -1, -1))
            consts[k] = graph.const[i]
            exact[k] = str(graph.exact.get(i, consts[k]))
        else:
            prim = OPS[code]
            assert prim is not None
            b = graph.b[i]
            ops.append((prim.name, index[graph.a[i]], index[b] if b >= 0 else -1))
    return Program(tuple(ops), consts, names, {k: float(v) for k, v in point.items()},
                   tuple(wrt), exact)


def replay(program: Program, leaf: Callable[[str], Any], const: Callable[[float], Any],
           apply: Callable[[str, Any, Optional[Any], Optional[float]], Any]) -> list[Any]:
    """Build every node on an engine: `leaf(name)`, `const(value)`, `apply(op, x, y, y_const)`.

    `y_const` is the second argument's value when it is a constant node (None otherwise), so an
    adapter can pass a constant exponent as a float, as a user writes `x ** 2`.  Each variable
    and each shared node is built once.
    """
    built: list[Any] = []
    for k, (op, a, b) in enumerate(program.ops):
        if op == LEAF_VAR:
            built.append(leaf(program.names[k]))
        elif op == LEAF_CONST:
            built.append(const(program.consts[k]))
        else:
            built.append(apply(op, built[a], built[b] if b >= 0 else None, program.consts.get(b)))
    return built
