"""Errors of the trading decisions."""

from __future__ import annotations

from agent.errors import HemsError


class TradingError(HemsError):
    """A trading input is unusable (a plan that does not fit its ladder map, a bad rule);
    ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
