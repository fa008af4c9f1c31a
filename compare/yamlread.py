"""Strict, position-keeping YAML reading for case files.

PyYAML is used only as a safe event parser: we assemble the document ourselves, iteratively,
so that we can (1) refuse aliases, anchors, merge keys and explicit tags instead of expanding or
constructing them, (2) refuse duplicate keys, citing both lines, (3) keep each value's line for
error messages, and (4) keep every scalar as text with a flag saying whether it was written plain,
so numbers are read as a user means them (`1e-3` is 0.001; `no`, `2024-01-01`, `010`, `.nan`
are not numbers) by compare.cases, not by YAML 1.1's resolver.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import yaml

from .errors import CaseError, shorten
from .limits import DEFAULT_LIMITS, Limits

# The case format is 4 levels deep; deeper documents are refused (limits.max_yaml_depth).
MAX_DEPTH = DEFAULT_LIMITS.max_yaml_depth
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Node:
    """A YAML value: `value` is str (scalar), dict[str, Node] (mapping) or list[Node]."""

    value: Union[str, dict, list]
    line: int                 # 1-based
    kind: str                 # 'scalar', 'mapping' or 'sequence'
    plain: bool = False       # scalar written without quotes
    key_lines: Any = None     # mapping: key -> line of the key
    problem: Optional[str] = None   # a refused construct here (alias, tag, duplicate key, ...)
    problem_line: int = 0

    def describe(self) -> str:
        if self.kind == "mapping":
            return "a mapping"
        if self.kind == "sequence":
            return "a list"
        if self.plain and self.value in ("", "~", "null", "Null", "NULL"):
            return "nothing (null)"
        text = shorten(self.value)
        return f"'{text}'" if self.plain else f"quoted text '{text}'"

    def flag(self, message: str, line: int) -> None:
        """Record a refused construct (the first one wins)."""
        if self.problem is None:
            self.problem, self.problem_line = message, line


_DROPPED = object()   # the pending key of a refused mapping entry: its value is not kept


def first_problem(node: Node, file: Optional[str] = None,
                  skip: Optional[Node] = None) -> Optional[CaseError]:
    """The earliest refused construct in `node`'s subtree (not below `skip`), as an error.

    Aliases, anchors, tags, merge keys and duplicate keys are recorded where they occur rather
    than raised at once, so that one bad case is reported and the cases beside it still load.
    """
    found: Optional[Node] = None
    found_path = ""
    stack: list[tuple[Node, str]] = [(node, "")]
    while stack:
        n, path = stack.pop()
        if n.problem is not None and (found is None or n.problem_line < found.problem_line):
            found, found_path = n, path
        if n is skip:
            continue
        if n.kind == "mapping":
            stack.extend((child, f"{path}.{key}" if path else str(key))
                         for key, child in n.value.items())
        elif n.kind == "sequence":
            stack.extend((child, f"{path}[{k}]") for k, child in enumerate(n.value))
    if found is None:
        return None
    return CaseError(found.problem or "", file=file, line=found.problem_line,
                     field=found_path or None)


# What YAML counts as a line break besides \n and \r: an editor shows no new line for these.
_YAML_ONLY_BREAKS = re.compile("[\x85\u2028\u2029]")


def _editor_lines(text: str) -> Callable[[Any], int]:
    """mark -> the line an editor shows (lines end at \n, \r\n or \r).

    PyYAML also ends lines at NEL, U+2028 and U+2029, so one of those in a comment would shift
    every line number after it; where the text has any, lines are counted from the mark's
    character offset instead (a bisection in the offsets of the real line ends).
    """
    if not isinstance(text, str) or not _YAML_ONLY_BREAKS.search(text):
        return lambda mark: mark.line + 1
    ends = [m.start() for m in re.finditer(r"\r\n|\r|\n", text)]

    def line(mark: Any) -> int:
        return bisect.bisect_right(ends, mark.index - 1) + 1 if mark.index > 0 else 1

    return line


FLOW_DEPTH_CEILING = 100
_COMPACT_DASHES = re.compile(r"(?:- +)*")
_BLOCK_SCALAR = re.compile(r"(?:^|[\s:-])[|>][-+0-9]*\s*$")
_QUOTE_MAY_START_AFTER = set(":-[{,?")
# Outside any flow collection a bracket opens one only where a value starts; elsewhere it is
# part of plain text ("it's [1]").
_FLOW_MAY_START_AFTER = {"", ":", "-", "?"}


def flow_nesting_problem(text: str, max_depth: int) -> Optional[tuple[int, int]]:
    """(line, depth) where `[` and `{` nest deeper than `max_depth`, or None — in one linear
    pass, before the YAML parser sees the text.

    PyYAML's scanner slows down sharply on deep flow nesting (20 KB of unclosed `[` takes it
    over a minute), so the depth is checked first.  Quoted scalars, comments and block scalars
    (`|`, `>`) are skipped; a quote or a bracket opens a scalar or a collection only where one
    can start.
    """
    depth = 0
    line_no = 0
    block_indent = -1       # inside a block scalar: the indentation of its key's line
    for line in text.splitlines():
        line_no += 1
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if block_indent >= 0:
            if not stripped or indent > block_indent:
                continue
            block_indent = -1
        # Block sequences written compactly ("- - - x") nest one level per dash; their depth
        # slows PyYAML the same way (it pops from the front of a list per level).
        dashes = len(_COMPACT_DASHES.match(stripped).group()) // 2 if depth == 0 else 0
        if dashes + indent // 2 > max_depth:
            return line_no, dashes + indent // 2
        quote = ""
        previous = ""
        i, n = 0, len(line)
        content_end = n
        while i < n:
            ch = line[i]
            if quote == '"':
                if ch == "\\":
                    i += 2
                    continue
                if ch == '"':
                    quote = ""
            elif quote == "'":
                if ch == "'":
                    if i + 1 < n and line[i + 1] == "'":
                        i += 2
                        continue
                    quote = ""
            elif ch in "\"'" and (previous == "" or previous in _QUOTE_MAY_START_AFTER):
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
                content_end = i
                break
            elif ch in "[{" and (depth or previous in _FLOW_MAY_START_AFTER):
                depth += 1
                if depth > max_depth:
                    return line_no, depth
            elif ch in "]}":
                depth = max(depth - 1, 0)
            if not ch.isspace():
                previous = ch if quote == "" or ch in "\"'" else "x"
            i += 1
        if quote == "" and depth == 0 and _BLOCK_SCALAR.search(line[:content_end]):
            block_indent = indent
    return None


def read_yaml(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> Node:
    """Parse one YAML document into Nodes, refusing what the case format does not use.

    Invalid YAML, a second document and nesting beyond `limits.max_yaml_depth` raise a
    CaseError; constructs that are valid YAML but refused here are recorded on the nodes (see
    `first_problem`).  Nothing is ever expanded or constructed.
    """
    max_depth = limits.max_yaml_depth
    stack: list[tuple[Node, list]] = []   # open containers, with a pending key for mappings
    root: Node | None = None
    documents = 0
    skipping = 0   # depth inside a container nested too deeply (its events are not kept)

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
            key = node.value
            if node.kind != "scalar":
                parent.flag("a mapping key must be plain text", node.line)
            elif node.problem is not None:
                parent.flag(node.problem, node.problem_line)
            elif key == "<<" and node.plain:
                parent.flag("merge keys (<<) are not supported in case files", node.line)
            elif key in parent.key_lines:
                parent.flag(f"duplicate key '{shorten(key)}' (first at line "
                            f"{parent.key_lines[key]})", node.line)
            else:
                pending.append(key)
                parent.key_lines[key] = node.line
                return
            pending.append(_DROPPED)
            return
        key = pending.pop()
        if key is not _DROPPED:
            parent.value[key] = node

    # Past max_yaml_depth a case is refused by the event pass below, its neighbours still
    # load; far past it the text is not given to the parser at all (whose time grows with the
    # cube of the depth): the whole file is refused.
    ceiling = max(FLOW_DEPTH_CEILING, max_depth)
    deep = flow_nesting_problem(text, ceiling) if isinstance(text, str) else None
    if deep is not None:
        raise CaseError(f"nested deeper than {ceiling} levels: not parsed (max_yaml_depth is "
                        f"{max_depth})", file=file, line=deep[0])
    editor_line = _editor_lines(text)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = editor_line(event.start_mark) if event.start_mark else 0
            if skipping:
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    skipping += 1
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    skipping -= 1
                continue
            if isinstance(event, yaml.AliasEvent):
                alias = Node(f"*{event.anchor}", line, "scalar")
                alias.flag("YAML aliases (*name) are not supported in case files", line)
                attach(alias)
                continue
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise fail("a case file holds one YAML document", line)
                continue
            if isinstance(event, yaml.ScalarEvent):
                node = Node(event.value, line, "scalar", plain=event.style is None)
                bad = _SURROGATE.search(event.value)
                if bad:
                    node.flag(f"text with U+{ord(bad.group()):04X}, a lone surrogate (not a "
                              f"character); write the character itself", line)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= max_depth:
                    # Not kept: a flagged placeholder stands where the container would be.
                    deep = Node("", line, "scalar")
                    deep.flag(f"nesting deeper than {max_depth} levels (max_yaml_depth)", line)
                    attach(deep)
                    skipping = 1
                    continue
                if isinstance(event, yaml.MappingStartEvent):
                    node = Node({}, line, "mapping", key_lines={})
                else:
                    node = Node([], line, "sequence")
            if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent,
                                  yaml.SequenceStartEvent)):
                if event.anchor:
                    node.flag("YAML anchors (&name) are not supported in case files", line)
                if event.tag is not None:
                    node.flag(f"YAML tags ({shorten(event.tag, 100)}) are not supported in case "
                              f"files", line)
                attach(node)
                if node.kind != "scalar":
                    stack.append((node, []))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = editor_line(mark) if mark else None
        position = getattr(err, "position", None)   # a ReaderError: bad character or encoding
        if line is None and isinstance(position, int) and isinstance(text, str):
            line = text.count("\n", 0, position) + 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CaseError(f"not valid YAML: {problem}", file=file, line=line) from None
    if root is None:
        raise CaseError("the file is empty; expected a mapping with a 'cases' list", file=file,
                        line=1)
    return root
