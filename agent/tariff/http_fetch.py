"""One GET to a price service, with a timeout on every attempt and retries with back-off.

Retried: connection failures, timeouts, HTTP 429 and 5xx — what a busy or restarting service
answers. Not retried: other 4xx (a rejected token or a bad request stays wrong). The reply of the
last attempt is returned whatever its status, so the service's own error document (ENTSO-E's
Acknowledgement) can be read by the caller; a service that never answered raises
:class:`PriceServiceError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from agent.clock import Clock
from agent.tariff.errors import PriceServiceError

log = logging.getLogger(__name__)

# Replies are a day or two of prices (ENTSO-E: ~20 kB per day of quarter hours); a reply far
# larger is not a price document and is not read into memory.
MAX_REPLY_BYTES = 4 * 1024 * 1024
# Back-off doubles from the first wait up to this ceiling, so a retry never waits long in a plan.
MAX_BACKOFF_S = 4.0


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    content_type: str
    body: bytes

    def text_head(self, chars: int = 120) -> str:
        """The start of the body as one line, for an error message."""
        text = self.body[: chars * 4].decode("utf-8", errors="replace")
        return " ".join(text.split())[:chars]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    timeout_s: float
    retries: int
    backoff_s: float

    def wait_s(self, attempt: int) -> float:
        return float(min(MAX_BACKOFF_S, self.backoff_s * 2**attempt))


def retryable_status(status: int) -> bool:
    """An answer worth asking again for: rate-limited or a server-side failure."""
    return status == 429 or status >= 500


async def get(service: str, url: str, params: Mapping[str, str], policy: RetryPolicy, clock: Clock) -> Reply:
    """GET ``url`` with ``params``; the last reply (any status), or raises after the last retry."""
    last_error = ""
    for attempt in range(policy.retries + 1):
        if attempt:
            await clock.sleep(policy.wait_s(attempt - 1))
        try:
            reply = await _attempt(url, params, policy.timeout_s)
        except TimeoutError:
            last_error = f"no answer within {policy.timeout_s:g} s"
        except aiohttp.ClientError as e:
            last_error = f"cannot reach {url} ({type(e).__name__}: {e})"
        else:
            if not retryable_status(reply.status) or attempt == policy.retries:
                return reply
            last_error = f"HTTP {reply.status}: {reply.text_head()}"
        log.debug("%s: attempt %d failed: %s", service, attempt + 1, last_error)
    raise PriceServiceError(service, f"{last_error} (after {policy.retries + 1} attempts)")


async def _attempt(url: str, params: Mapping[str, str], timeout_s: float) -> Reply:
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    # One bound for all of it (connect, headers, body): the client's timeout and ours agree.
    async with (
        asyncio.timeout(timeout_s),
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, params=dict(params)) as response,
    ):
        body = await response.content.read(MAX_REPLY_BYTES + 1)
        if len(body) > MAX_REPLY_BYTES:
            raise aiohttp.ClientPayloadError(f"reply larger than {MAX_REPLY_BYTES} bytes")
        return Reply(response.status, response.content_type, body)
