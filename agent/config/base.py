"""The base of every config model, and checks between fields that still run when others fail.

Pydantic skips a model's after-validators as soon as any of its fields is invalid, so a typo in
one key would hide that ``soc_min`` exceeds ``soc_max`` until the typo is fixed. Config models
therefore declare their cross-field checks as plain functions (``checks``); a wrap validator runs
them on the validated model, or, when validation failed, on the fields that did validate (raw
values plus defaults), and reports what they find next to pydantic's own errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

FIELD_ERROR = "hems_field"

# A check gets every field value by name and returns (field, message) when something is wrong.
Finding = tuple[str, str]
Check = Callable[[Mapping[str, Any]], Finding | None]


def attr(obj: Any, name: str) -> Any:
    """``obj.name`` for a validated model, ``obj[name]`` for the raw mapping it came from."""
    return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)


def cross_field_error(field: str, message: str) -> PydanticCustomError:
    """An error of a model-level check, addressed to one of its fields.

    The loader appends ``field`` to the key path, so the message lands on the line of that key
    rather than on the enclosing block.
    """
    return PydanticCustomError(FIELD_ERROR, "{message}", {"field": field, "message": message})


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors and loaded values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    checks: ClassVar[tuple[Check, ...]] = ()

    @model_validator(mode="wrap")
    @classmethod
    def _cross_field_checks(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            model = handler(data)
        except ValidationError as e:
            partial = _valid_part(cls, data, e)
            found = _run(cls, partial) if partial is not None else []
            if not found:
                raise
            raise _merged(e, found, data) from None
        found = _run(cls, dict(model))
        if found:
            raise _merged(None, found, data)
        return model


def _valid_part(cls: type[Strict], data: Any, error: ValidationError) -> dict[str, Any] | None:
    """Fields without errors, from the raw data or their defaults; None if nothing can be said."""
    if not isinstance(data, Mapping):
        return None
    failed = set()
    for err in error.errors(include_url=False):
        if not err["loc"]:
            return None
        failed.add(err["loc"][0])
    values: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        if name in failed:
            continue
        if name in data:
            values[name] = data[name]
        elif not field.is_required():
            values[name] = field.get_default(call_default_factory=True)
    return values


def _run(cls: type[Strict], values: Mapping[str, Any]) -> list[Finding]:
    found = []
    seen: set[Check] = set()
    for klass in reversed(cls.__mro__):
        for check in klass.__dict__.get("checks", ()):
            if check in seen:
                continue
            seen.add(check)
            try:
                finding = check(values)
            except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError):
                continue  # a value the check needs is missing or unvalidated: its own error says so
            if finding is not None:
                found.append(finding)
    return found


def _merged(error: ValidationError | None, found: list[Finding], data: Any) -> ValidationError:
    details: list[InitErrorDetails] = []
    for err in error.errors(include_url=False) if error is not None else []:
        kind = err["type"]
        if kind == FIELD_ERROR:
            ctx = err.get("ctx") or {}
            details.append(
                InitErrorDetails(
                    type=cross_field_error(ctx["field"], ctx["message"]), loc=err["loc"], input=err["input"]
                )
            )
        elif "ctx" in err:
            details.append(InitErrorDetails(type=kind, loc=err["loc"], input=err["input"], ctx=err["ctx"]))
        else:
            details.append(InitErrorDetails(type=kind, loc=err["loc"], input=err["input"]))
    for field, message in found:
        details.append(InitErrorDetails(type=cross_field_error(field, message), loc=(), input=data))
    return ValidationError.from_exception_data("config", details)
