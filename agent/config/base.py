"""The base of every config model and the way a model-level check names its field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors and loaded values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


FIELD_ERROR = "hems_field"


def cross_field_error(field: str, message: str) -> PydanticCustomError:
    """An error of a model-level check, addressed to one of its fields.

    The loader appends ``field`` to the key path, so the message lands on the line of that key
    rather than on the enclosing block.
    """
    return PydanticCustomError(FIELD_ERROR, "{message}", {"field": field, "message": message})
