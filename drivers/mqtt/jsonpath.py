"""A small JSON path: dotted keys and list indices, e.g. ``SML.Total_in`` or ``phases[2].power``.

Enough for the payloads devices publish, simple enough to validate when the map is loaded. The
empty path (or ``$``) is the whole document, for devices that publish a bare number per topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class PathSyntaxError(ValueError):
    """The path text is not a valid path (raised while loading a map)."""


class PathNotFound(LookupError):
    """The document has no value at the path (raised while decoding a payload)."""


@dataclass(frozen=True, slots=True)
class JsonPath:
    text: str
    steps: tuple[str | int, ...]

    def find(self, document: Any) -> Any:
        node = document
        for i, step in enumerate(self.steps):
            where = self._prefix(i)
            if isinstance(step, int):
                if not isinstance(node, list):
                    raise PathNotFound(f"expected a list at {where}, got {_kind(node)}")
                if step >= len(node):
                    raise PathNotFound(f"{where} has {len(node)} item(s), no index {step}")
                node = node[step]
            else:
                if not isinstance(node, dict):
                    raise PathNotFound(f"expected an object at {where}, got {_kind(node)}")
                if step not in node:
                    raise PathNotFound(f"no key {step!r} at {where}")
                node = node[step]
        return node

    def _prefix(self, n: int) -> str:
        out = "$"
        for step in self.steps[:n]:
            out += f"[{step}]" if isinstance(step, int) else f".{step}"
        return out


def parse_path(text: str) -> JsonPath:
    if text in ("", "$"):
        return JsonPath(text, ())
    body = text[2:] if text.startswith("$.") else text
    steps: list[str | int] = []
    pos = 0
    expect_key = True
    while pos < len(body):
        if body[pos] == "." and not expect_key:
            pos += 1
            expect_key = True
            continue
        m = _SEGMENT.match(body, pos)
        if m is None:
            raise PathSyntaxError(f"bad JSON path {text!r} at character {pos}")
        if m.group(1) is not None:
            if not expect_key:
                raise PathSyntaxError(f"bad JSON path {text!r}: missing '.' before {m.group(1)!r}")
            steps.append(m.group(1))
        else:
            steps.append(int(m.group(2)))
        expect_key = False
        pos = m.end()
    if expect_key:
        raise PathSyntaxError(f"bad JSON path {text!r}: ends with '.'")
    return JsonPath(text, tuple(steps))


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "an object"
    if isinstance(node, list):
        return "a list"
    if node is None:
        return "null"
    return type(node).__name__
