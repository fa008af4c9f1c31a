"""How work is counted, and the exact prediction of the naive method's cost.

Definitions (pinned by tests; the reports quote them):

* An *edge* is (parent node, argument position).  `a + a` has two edges to `a`.
* An edge is *relevant* when its parent is live (the output depends on it) and its child
  depends on at least one variable being differentiated.
* A *path* is a sequence of relevant edges from the output down to one variable.
* **forward operations**: operation nodes evaluated by the forward pass (leaves are free).
* **naive** (per variable, per path, nothing reused): a path of length L costs L local-derivative
  evaluations and L multiplications (the running product starts from 1); a variable reached by
  P paths costs P − 1 additions.
* **backprop** (one reverse sweep): every relevant edge costs one local-derivative evaluation and
  one multiplication (upstream gradient × local derivative); a node that receives k
  contributions costs k − 1 additions.
* **total** = local-derivative evaluations + multiplications + additions.
* **SymPy size**: operations in SymPy's derivatives written out as trees (as printed, shared
  subexpressions repeated): a sum or product of k terms counts k − 1, a power or a function
  call counts 1, symbols and numbers 0; summed over the differentiated variables.  *After cse*:
  the same count over the common-subexpression elimination of the value and the derivatives
  (each shared piece written once).
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph
from .result import Counts


@dataclass(frozen=True)
class Shape:
    """Size of a graph as the tables report it."""

    nodes: int          # live nodes, leaves included
    operations: int     # live operation nodes (the forward pass's count)
    edges: int          # live edges
    relevant_edges: int
    paths: int          # paths from the output to the differentiated variables, summed


def predict_naive(graph: Graph, wrt: list[str]) -> tuple[Counts, dict[str, int]]:
    """Exact naive cost by dynamic programming over path counts (Python ints: no overflow).

    For each variable v and node u: P(u) = number of paths u -> v, S(u) = their total length;
    P(v) = 1, S(v) = 0, and over u's edges: P(u) = Σ P(child), S(u) = Σ S(child) + P(child).
    Returns the counts and the number of paths per variable.
    """
    live = graph.live()
    op_a, op_b = graph.a, graph.b
    n = len(graph)
    counts = Counts()
    paths: dict[str, int] = {}
    for name in wrt:
        target = graph.variables.get(name, -1)
        p = [0] * n
        s = [0] * n
        if target >= 0:
            p[target] = 1
            for u in range(target + 1, n):
                if not live[u]:
                    continue
                pu = su = 0
                c = op_a[u]
                if c >= 0 and p[c]:
                    pu += p[c]
                    su += s[c] + p[c]
                c = op_b[u]
                if c >= 0 and p[c]:
                    pu += p[c]
                    su += s[c] + p[c]
                p[u] = pu
                s[u] = su
        out = graph.output
        total_paths = p[out] if out >= 0 and target <= out else 0
        if target == out:
            total_paths, length = 1, 0
        else:
            length = s[out] if total_paths else 0
        paths[name] = total_paths
        counts.derivatives += length
        counts.multiplications += length
        counts.additions += max(total_paths - 1, 0)
    return counts, paths


def shape(graph: Graph, wrt: list[str]) -> Shape:
    live = graph.live()
    dep = graph.depends_on(wrt)
    nodes = operations = edges = relevant = 0
    for i in range(len(graph)):
        if not live[i]:
            continue
        nodes += 1
        if graph.is_leaf(i):
            continue
        operations += 1
        for child in graph.args(i):
            edges += 1
            relevant += dep[child]
    _, paths = predict_naive(graph, wrt)
    return Shape(nodes, operations, edges, relevant, sum(paths.values()))
