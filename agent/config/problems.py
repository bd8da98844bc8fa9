"""Turn pydantic's error list into problems that name file, line and key path in user terms."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from agent.config.base import FIELD_ERROR
from agent.config.errors import ConfigProblem
from agent.config.types import show_value, suggest
from agent.config.yaml_lines import Key, KeyPath, LoadedYaml

DISCRIMINATORS = ("role", "type")
SECRET_KEYS = frozenset({"password", "token"})


def to_problems(
    errors: Iterable[ErrorDetails], root: type[BaseModel], doc: LoadedYaml, file: str
) -> list[ConfigProblem]:
    problems = []
    for err in errors:
        path, model_loc = _locate(err, doc.data)
        message, extra = _describe(err, root, model_loc, path)
        path += extra
        problems.append(ConfigProblem(file, doc.line_of(path), display(path), message))
    return problems


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def display(path: KeyPath) -> str:
    """``devices.battery.capacity_kwh``; list items and odd keys in brackets: ``x[0]``, ``x['a b']``."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        elif not _PLAIN_KEY.match(key):
            out += f"[{show_value(key)}]"
        else:
            out += f".{key}" if out else key
    return out


def _locate(err: ErrorDetails, data: Any) -> tuple[KeyPath, tuple[Any, ...]]:
    """Data path (union tags dropped, usable for line lookup) and model path (tags kept)."""
    loc: tuple[Any, ...] = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    if err["type"] == FIELD_ERROR:
        # A check may point into a list ("periods.1"): a number is the item's index.
        loc += tuple(int(p) if p.isdigit() else p for p in str(ctx["field"]).split("."))
    path: list[Key] = []
    cur: Any = data
    tag_used = False
    for elem in loc:
        if elem == "[key]":
            continue
        if isinstance(cur, Mapping) and not tag_used and any(cur.get(d) == elem for d in DISCRIMINATORS):
            tag_used = True  # a discriminated union puts the tag into the loc; the data has no such key
            continue
        path.append(elem)
        tag_used = False
        if isinstance(cur, Mapping):
            cur = cur.get(elem)
        elif isinstance(cur, list) and isinstance(elem, int) and 0 <= elem < len(cur):
            cur = cur[elem]
        else:
            cur = None
    return tuple(path), loc


def _describe(
    err: ErrorDetails, root: type[BaseModel], loc: tuple[Any, ...], path: KeyPath
) -> tuple[str, KeyPath]:
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    value = err["input"]
    secret = any(k in SECRET_KEYS for k in path)
    got = "" if secret else f" (got {show_value(value)})"
    if kind == FIELD_ERROR:
        return str(ctx["message"]), ()
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        allowed = _allowed_keys(root, loc[:-1])
        listing = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {show_value(key)}{listing}{suggest(key, allowed)}", ()
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(ctx.get("discriminator", "")).strip("'") or "type"
        tags = _union_tags(root, loc)
        choices = f"; allowed: {', '.join(tags)}"
        if kind == "union_tag_not_found":
            given = [str(k) for k in value] if isinstance(value, Mapping) else []
            return f"required key is missing{choices}{_misspelt_as(key, given)}", (key,)
        tag = str(ctx.get("tag", ""))
        return f"unknown {key} {show_value(tag)}{choices}{suggest(tag, tags)}", (key,)
    if kind == "missing":
        return "required key is missing", ()
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])), ()
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()), "?")
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        return f"must be {bounds[kind]} {limit}{got}", ()
    if kind == "literal_error":
        hint = (
            suggest(value, re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
            if isinstance(value, str)
            else ""
        )
        return f"must be one of {ctx.get('expected')}{got}{hint}", ()
    simple = {
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "finite_number": "must be a finite number",
        "decimal_type": "must be a decimal number such as 0.25",
        "decimal_parsing": "must be a decimal number such as 0.25",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "string_type": "must be a string (quote it)",
        "dict_type": "must be a mapping of keys to values",
        "model_type": "must be a mapping of keys to values",
        "model_attributes_type": "must be a mapping of keys to values",
        "list_type": "must be a list",
        "path_type": "must be a file path",
    }
    if kind in simple:
        return simple[kind] + got, ()
    if kind in ("string_too_short", "too_short"):
        return f"must have at least {ctx.get('min_length')} {_unit(kind)}{got}", ()
    if kind in ("string_too_long", "too_long"):
        return f"must have at most {ctx.get('max_length')} {_unit(kind)}{got}", ()
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}{got}", ()
    msg = str(err["msg"])
    return (msg[:1].lower() + msg[1:]) + got, ()


def _misspelt_as(key: str, given: list[str]) -> str:
    close = difflib.get_close_matches(key, given, n=1, cutoff=0.6)
    return f" (is '{close[0]}' meant to be '{key}'?)" if close else ""


def _unit(kind: str) -> str:
    return "characters" if kind.startswith("string") else "items"


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc``."""
    model = _type_at(root, loc)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(f.alias or name for name, f in model.model_fields.items())  # as written in YAML
    return []


def _union_tags(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Tag values of the discriminated union found at ``loc``, in declaration order."""
    union = _type_at(root, loc)
    if get_origin(union) not in (Union, types.UnionType):
        return []
    return [str(tag) for member in get_args(union) for tag in sorted(_tag_values(member), key=str)]


def _type_at(root: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The annotation at ``loc``, walking model fields, dict values, list items and union tags."""
    tp: Any = root
    for elem in loc:
        tp = _child(_unwrap(tp), elem)
        if tp is None:
            return None
    return _unwrap(tp)


def _unwrap(tp: Any) -> Any:
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        if get_origin(tp) in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _child(tp: Any, elem: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        for member in get_args(tp):
            if _tag_values(member) & {elem}:
                return member
        return None
    if origin is dict:
        return get_args(tp)[1]
    if origin is list:
        return get_args(tp)[0]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(str(elem))
        return field.annotation if field is not None else None
    return None


def _tag_values(member: Any) -> set[Any]:
    if not (isinstance(member, type) and issubclass(member, BaseModel)):
        return set()
    values: set[Any] = set()
    for key in DISCRIMINATORS:
        field = member.model_fields.get(key)
        if field is not None:
            values.update(get_args(_unwrap(field.annotation)))
    return values
