"""Errors of the market model: intervals, records and their wire codec."""

from __future__ import annotations

from agent.errors import HemsError


class MarketError(HemsError):
    """Root of market-model errors."""


class IntervalError(MarketError):
    """An interval that is not on the ladder: unknown duration, misaligned or malformed start."""

    def __init__(self, message: str, field: str = "interval") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class CodecError(MarketError):
    """A message that does not decode into a valid record; ``field`` names the offending key path."""

    def __init__(self, field: str, message: str, message_id: str | None = None) -> None:
        where = f" (message {message_id})" if message_id else ""
        super().__init__(f"{field}: {message}{where}")
        self.field = field
        self.reason = message
        self.message_id = message_id
