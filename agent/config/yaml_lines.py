"""YAML loading that remembers where every key came from.

The loader builds plain dicts and lists but records, per key path, the 1-based line of the key
(or list item), so a validation error deep in the tree can point at the line to fix. It also
reads scalars by YAML 1.2 rules rather than PyYAML's YAML 1.1 defaults, because those silently
turn ``07:30`` into the integer 450 (base 60) and ``no``/``off`` into ``False``; in a config
such surprises become wrong departure times and country codes, not errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

Key = str | int
KeyPath = tuple[Key, ...]

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


class _PositionedDict(dict[Any, Any]):
    """A dict that knows the line of each of its keys (only alive during loading)."""

    key_lines: dict[Any, int]
    duplicates: list[tuple[Any, int, int]]


class _PositionedList(list[Any]):
    item_lines: list[int]


class LineLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars and key/item line numbers."""

    def construct_yaml_map_lines(self, node: yaml.MappingNode) -> Iterator[_PositionedDict]:
        data = _PositionedDict()
        data.key_lines = {}
        data.duplicates = []
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError as e:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found an unhashable key",
                    key_node.start_mark,
                ) from e
            line = key_node.start_mark.line + 1
            if key in data.key_lines:
                data.duplicates.append((key, line, data.key_lines[key]))
            data.key_lines[key] = line
            data[key] = self.construct_object(value_node, deep=True)

    def construct_yaml_seq_lines(self, node: yaml.SequenceNode) -> Iterator[_PositionedList]:
        data = _PositionedList()
        data.item_lines = [child.start_mark.line + 1 for child in node.value]
        yield data
        data.extend(self.construct_sequence(node, deep=True))


LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in {_BOOL, _INT, _FLOAT}]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
LineLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
LineLoader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$"), list("-+0123456789")
)
LineLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*\.(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_yaml_map_lines)
LineLoader.add_constructor("tag:yaml.org,2002:seq", LineLoader.construct_yaml_seq_lines)


@dataclass(frozen=True)
class Duplicate:
    path: KeyPath
    line: int
    first_line: int


@dataclass
class LoadedYaml:
    """The plain data of one document and where each key path sits in the file."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)

    def line_of(self, path: KeyPath) -> int:
        """Line of the longest prefix of ``path`` that exists in the file (1 for the root)."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


# A config has a few hundred nodes; aliases could expand a small file into billions ("billion
# laughs"), so copying stops well before memory does.
MAX_NODES = 100_000


class YamlShapeError(yaml.YAMLError):
    """A document that parses but cannot be a config: recursive aliases or absurd expansion."""


def load_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document; raises ``yaml.YAMLError`` (with marks for syntax) on failure."""
    loader = LineLoader(text)
    try:
        raw = loader.get_single_data()
    finally:
        loader.dispose()
    result = LoadedYaml(data=None)
    result.data = _strip(raw, (), result, [0], set())
    return result


def _strip(node: Any, path: KeyPath, out: LoadedYaml, count: list[int], active: set[int]) -> Any:
    """Copy into plain containers while filling the line index."""
    count[0] += 1
    if count[0] > MAX_NODES:
        raise YamlShapeError(f"document expands to more than {MAX_NODES} nodes (alias bomb?)")
    if isinstance(node, _PositionedDict | _PositionedList):
        if id(node) in active:
            raise YamlShapeError(f"recursive alias at line {out.line_of(path)}")
        active.add(id(node))
        try:
            return _strip_container(node, path, out, count, active)
        finally:
            active.discard(id(node))
    return node


def _strip_container(
    node: _PositionedDict | _PositionedList,
    path: KeyPath,
    out: LoadedYaml,
    count: list[int],
    active: set[int],
) -> Any:
    if isinstance(node, _PositionedDict):
        for key, line, first_line in node.duplicates:
            out.duplicates.append(Duplicate((*path, _key(key)), line, first_line))
        plain: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*path, _key(key))
            out.lines[child] = node.key_lines[key]
            plain[key] = _strip(value, child, out, count, active)
        return plain
    items: list[Any] = []
    for index, value in enumerate(node):
        child = (*path, index)
        out.lines[child] = node.item_lines[index]
        items.append(_strip(value, child, out, count, active))
    return items


def _key(key: Any) -> Key:
    return key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)
