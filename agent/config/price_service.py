"""How a tariff asks a day-ahead price service for its prices: the settings every service shares."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from agent.config.base import Strict

HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s/?#]+[^\s?#]*$", max_length=300)]


class FetchedMarketPrice(Strict):
    """How a day-ahead price service is asked: each attempt's timeout, retries, and how often
    missing prices (tomorrow's, before they are published) are looked for again."""

    timeout_s: Annotated[float, Field(gt=0.0, le=20.0)] = 8.0
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    # The first wait before a retry; it doubles each time, up to 4 s.
    backoff_s: Annotated[float, Field(ge=0.0, le=4.0)] = 1.0
    refresh_s: Annotated[float, Field(ge=60.0, le=86_400.0)] = 900.0
    # Intervals after the last published price are estimated from the same local time on up to
    # this many earlier days.
    estimate_days: Annotated[int, Field(ge=1, le=7)] = 3
