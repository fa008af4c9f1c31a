"""Building graphs from Python, and families of graphs with a size parameter n.

`Builder` writes a graph without expression text: every primitive of the table is a method
returning the new node (an int), so `b.add(b.mul(x, y), z)` is `(x*y) + z`.  Reuse is explicit:
pass the same node int twice and the node is shared.  Builders do not hash-cons by default
(that table costs more than the rest of building together); constants are still made once per
value.

The families are the cost-growth study's subjects (compare.scale):

* `chain(n)`: n nested unary operations, sin(sin(...sin(x)))  (one path; every method linear)
* `lattice(n)`: v ← v·v + v repeated n times.  The previous node is used by both new nodes, by
  three edges (two from v·v, one from + v), so there are 3^n paths from the output to x.
* `logistic(n)`: l ← 4·l·(1 − l) iterated n times, the expression-swell example of Baydin et
  al., "Automatic differentiation in machine learning: a survey", JMLR 18 (2018), Table 1.
  l is used twice per iteration: 2^n paths, and SymPy's derivative swells.
* `fanin(n)`: Σ x_i·y_i over i = 1..n accumulated left to right (2n variables, one long sum:
  the naive method walks the sum chain once per variable, n² work).
* `mlp(n)`: one scalar neural-network layer: n inputs (constants), `hidden` tanh units, a linear
  output and the squared loss (y − t)²; the parameters are the variables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from .graph import Exact, Graph
from .primitives import CODE, PRIMITIVES

# -- the builder -----------------------------------------------------------------------------


class Builder:
    """Build a Graph from Python calls; each primitive is a method returning a node int.

    >>> b = Builder()
    >>> x, y = b.var("x"), b.var("y")
    >>> f = b.mul(b.add(x, y), b.sin(x))
    >>> g = b.finish(f)
    >>> len(g), g.output == f
    (5, True)
    """

    def __init__(self, graph: Optional[Graph] = None, share: bool = False) -> None:
        self.graph = graph if graph is not None else Graph(share=share)
        self._consts: dict[float, int] = {}
        g = self.graph
        if g.share:
            for name, p in PRIMITIVES.items():
                setattr(self, name, _shared_method(g, name, p.arity))
        else:
            for name, p in PRIMITIVES.items():
                setattr(self, name, _append_method(g, CODE[name], p.arity))

    # Static type checkers do not see the generated methods; they are listed here.
    add: Callable[[int, int], int]
    sub: Callable[[int, int], int]
    mul: Callable[[int, int], int]
    div: Callable[[int, int], int]
    pow: Callable[[int, int], int]
    neg: Callable[[int], int]
    exp: Callable[[int], int]
    log: Callable[[int], int]
    sqrt: Callable[[int], int]
    sin: Callable[[int], int]
    cos: Callable[[int], int]
    tan: Callable[[int], int]
    tanh: Callable[[int], int]
    sigmoid: Callable[[int], int]
    relu: Callable[[int], int]
    abs: Callable[[int], int]
    max: Callable[[int, int], int]
    min: Callable[[int, int], int]

    def var(self, name: str) -> int:
        """The variable `name` (made on first use)."""
        return self.graph.variable(name)

    def vars(self, names: Iterable[str]) -> list[int]:
        """The variables `names` (each made on first use), in one step: a layer's weights."""
        return self.graph.variables_of(list(names))

    def const(self, value: float, exact: Optional[Exact] = None) -> int:
        """A constant, made once per value in this builder."""
        node = self._consts.get(value) if exact is None else None
        if node is None:
            node = self.graph.constant(value, exact)
            if exact is None:
                self._consts[value] = node
        return node

    def op(self, name: str, a: int, b: int = -1) -> int:
        """Any primitive by name: `b.op("tanh", x)`."""
        method = getattr(self, name, None)
        if name not in PRIMITIVES or method is None:
            raise KeyError(f"unknown primitive '{name}'; known: {', '.join(PRIMITIVES)}")
        return method(a) if b < 0 else method(a, b)

    def sum(self, nodes: Iterable[int]) -> int:
        """Left-to-right sum ((n1 + n2) + n3) + ...  of at least one node."""
        it = iter(nodes)
        total = next(it)
        add = self.add
        for node in it:
            total = add(total, node)
        return total

    def dot(self, xs: Iterable[int], ys: Iterable[int]) -> int:
        """Σ x_i·y_i, accumulated left to right."""
        mul = self.mul
        return self.sum(mul(x, y) for x, y in zip(xs, ys))

    def finish(self, output: int) -> Graph:
        """Make `output` the graph's output, drop the building tables and return the graph."""
        self.graph.output = output
        self._consts = {}
        return self.graph.seal()


def _append_method(g: Graph, code: int, arity: int) -> Callable[..., int]:
    """A method appending one node of this code (no hash-consing): three list appends."""
    op, a_list, b_list = g.op, g.a, g.b
    op_append, a_append, b_append = op.append, a_list.append, b_list.append
    if arity == 1:
        def unary(x: int) -> int:
            i = len(op)
            if not 0 <= x < i:
                raise IndexError(f"node {x} does not exist (graph has {i} nodes)")
            op_append(code)
            a_append(x)
            b_append(-1)
            g.output = i
            return i
        return unary

    def binary(x: int, y: int) -> int:
        i = len(op)
        if not (0 <= x < i and 0 <= y < i):
            raise IndexError(f"node {x if not 0 <= x < i else y} does not exist "
                             f"(graph has {i} nodes)")
        op_append(code)
        a_append(x)
        b_append(y)
        g.output = i
        return i
    return binary


def _shared_method(g: Graph, name: str, arity: int) -> Callable[..., int]:
    apply = g.apply
    if arity == 1:
        return lambda x: apply(name, x)
    return lambda x, y: apply(name, x, y)


# -- the families ----------------------------------------------------------------------------


@dataclass
class Instance:
    """One member of a family: its graph, a point to differentiate at and the variables."""

    family: str
    n: int
    graph: Graph
    point: dict[str, float]
    wrt: list[str]


def chain(n: int, op: str = "sin", x0: float = 0.5) -> Instance:
    """op(op(...op(x))) with n operations."""
    b = Builder()
    v = b.var("x")
    f = getattr(b, op)
    for _ in range(n):
        v = f(v)
    return Instance("chain", n, b.finish(v), {"x": x0}, ["x"])


def lattice(n: int, x0: float = -0.4) -> Instance:
    """v ← v·v + v, n times (values stay in (−1/4, 0) from x0 = −0.4)."""
    b = Builder()
    v = b.var("x")
    mul, add = b.mul, b.add
    for _ in range(n):
        v = add(mul(v, v), v)
    return Instance("lattice", n, b.finish(v), {"x": x0}, ["x"])


def logistic(n: int, l0: float = 0.3) -> Instance:
    """l ← 4·l·(1 − l), n times: (4·l)·(1 − l) as a program writes it."""
    b = Builder()
    v = b.var("l0")
    four, one = b.const(4.0), b.const(1.0)
    mul, sub = b.mul, b.sub
    for _ in range(n):
        v = mul(mul(four, v), sub(one, v))
    return Instance("logistic", n, b.finish(v), {"l0": l0}, ["l0"])


def fanin(n: int) -> Instance:
    """Σ_{i=1..n} x_i·y_i, summed left to right."""
    b = Builder()
    xs = [b.var(f"x{i}") for i in range(1, n + 1)]
    ys = [b.var(f"y{i}") for i in range(1, n + 1)]
    point = {f"x{i}": 1.0 + i / n for i in range(1, n + 1)}
    point.update({f"y{i}": 0.5 - i / n for i in range(1, n + 1)})
    out = b.dot(xs, ys)
    return Instance("fanin", n, b.finish(out), point, [*point])


def fanout(n: int, x0: float = 0.3) -> Instance:
    """One input, n intermediate outputs summed: Σ_{i=1..n} sin(i·x).

    The contrast to `fanin`: here forward mode's one sweep is all there is to do."""
    b = Builder()
    x = b.var("x")
    out = b.sum(b.sin(b.mul(b.const(float(i)), x)) for i in range(1, n + 1))
    return Instance("fanout", n, b.finish(out), {"x": x0}, ["x"])


def mlp(n: int, hidden: int = 4, activation: str = "tanh") -> Instance:
    """Squared loss of one hidden layer: (Σ_j v_j·act(Σ_i w_ji·x_i + b_j) + c − t)².

    The inputs x_i are variables that are not differentiated (data); the target t = 0.5 is a
    constant; the parameters w, b, v, c are differentiated.  All values are deterministic and
    of moderate size.
    """
    b = Builder()
    act = getattr(b, activation)
    mul, add = b.mul, b.add
    point: dict[str, float] = {f"x{i}": math.sin(i + 1.0) for i in range(n)}
    xs = b.vars(point)
    root = math.sqrt(n)
    units = []
    for j in range(hidden):
        names = [f"w{j}_{i}" for i in range(n)]
        point.update(zip(names, [math.cos(3.0 * i + j) / root for i in range(n)]))
        ws = b.vars(names)
        s = mul(ws[0], xs[0])
        for i in range(1, n):
            s = add(s, mul(ws[i], xs[i]))
        point[f"b{j}"] = 0.1 * (j % 3) - 0.1
        units.append(act(add(s, b.var(f"b{j}"))))
    y = -1
    for j, h in enumerate(units):
        point[f"v{j}"] = 0.5 if j % 2 == 0 else -0.25
        term = mul(b.var(f"v{j}"), h)
        y = term if y < 0 else add(y, term)
    point["c"] = 0.05
    d = b.sub(add(y, b.var("c")), b.const(0.5))
    loss = mul(d, d)
    wrt = [name for name in point if not name.startswith("x")]
    return Instance("mlp", n, b.finish(loss), point, wrt)


FAMILIES: dict[str, Callable[[int], Instance]] = {
    "chain": chain,
    "lattice": lattice,
    "logistic": logistic,
    "fanin": fanin,
    "fanout": fanout,
    "mlp": mlp,
}


__all__ = ["Builder", "FAMILIES", "Instance", "chain", "fanin", "fanout", "lattice", "logistic", "mlp"]
