"""JSON responses that are always valid JSON (no NaN), with a bounded wait on blocking reads."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from agent.web.errors import WebError

T = TypeVar("T")
# SQLite with synchronous=FULL on an SD card can stall for seconds; a page waits no longer.
LEDGER_TIMEOUT_S = 10.0


def clean(value: Any) -> Any:
    """NaN and infinities become null: JSON has no spelling for them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(clean(value), allow_nan=False, default=str)


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(text=dumps(value), status=status, content_type="application/json")


async def blocking(fn: Callable[..., T], *args: Any) -> T:
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn, *args), LEDGER_TIMEOUT_S)
    except TimeoutError as e:
        raise WebError(f"the ledger did not answer within {LEDGER_TIMEOUT_S:g} s") from e
