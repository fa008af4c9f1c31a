"""Strict, position-keeping YAML reading for case files.

PyYAML is used only as a safe event parser: we assemble the document ourselves, iteratively,
so that we can (1) refuse aliases, anchors, merge keys and explicit tags instead of expanding or
constructing them, (2) refuse duplicate keys, citing both lines, (3) keep each value's line for
error messages, and (4) keep every scalar as text with a flag saying whether it was written plain,
so numbers are read as a user means them (`1e-3` is 0.001; `no`, `2024-01-01`, `010`, `.nan`
are not numbers) by compare.cases, not by YAML 1.1's resolver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import yaml

from .errors import CaseError

MAX_DEPTH = 12  # the case format is 4 levels deep; deeper documents are refused


@dataclass
class Node:
    """A YAML value: `value` is str (scalar), dict[str, Node] (mapping) or list[Node]."""

    value: Union[str, dict, list]
    line: int                 # 1-based
    kind: str                 # 'scalar', 'mapping' or 'sequence'
    plain: bool = False       # scalar written without quotes
    key_lines: Any = None     # mapping: key -> line of the key

    def describe(self) -> str:
        if self.kind == "mapping":
            return "a mapping"
        if self.kind == "sequence":
            return "a list"
        return f"'{self.value}'" if self.plain else f"quoted text '{self.value}'"


def read_yaml(text: str, file: str) -> Node:
    """Parse one YAML document into Nodes, refusing what the case format does not use."""
    stack: list[tuple[Node, list]] = []   # open containers, with a pending key for mappings
    root: Node | None = None
    documents = 0

    def fail(message: str, line: int) -> CaseError:
        return CaseError(message, file=file, line=line)

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent, pending = stack[-1]
        if parent.kind == "sequence":
            parent.value.append(node)
            return
        if not pending:
            if node.kind != "scalar":
                raise fail("a mapping key must be plain text", node.line)
            key = node.value
            if key == "<<" and node.plain:
                raise fail("merge keys (<<) are not supported in case files", node.line)
            if key in parent.value:
                raise fail(f"duplicate key '{key}' (first at line {parent.key_lines[key]})",
                           node.line)
            pending.append(key)
            parent.key_lines[key] = node.line
            return
        key = pending.pop()
        parent.value[key] = node

    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.AliasEvent):
                raise fail("YAML aliases (*name) are not supported in case files", line)
            if getattr(event, "anchor", None):
                raise fail("YAML anchors (&name) are not supported in case files", line)
            tag = getattr(event, "tag", None)
            if tag is not None:
                raise fail(f"YAML tags ({tag}) are not supported in case files", line)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise fail("a case file holds one YAML document", line)
            elif isinstance(event, yaml.ScalarEvent):
                attach(Node(event.value, line, "scalar", plain=event.style is None))
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise fail(f"nesting deeper than {MAX_DEPTH} levels", line)
                if isinstance(event, yaml.MappingStartEvent):
                    node = Node({}, line, "mapping", key_lines={})
                else:
                    node = Node([], line, "sequence")
                attach(node)
                stack.append((node, []))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CaseError(f"not valid YAML: {problem}", file=file, line=line) from None
    if root is None:
        raise CaseError("the file is empty; expected a mapping with a 'cases' list", file=file,
                        line=1)
    return root
