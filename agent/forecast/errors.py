"""The exception tree of forecasting.

Sources raise these; the :class:`~agent.forecast.forecaster.Forecaster` catches them and degrades
to the next method, so none of them reaches the control cycle from ``forecast()``.
"""

from __future__ import annotations

from agent.errors import HemsError


class ForecastError(HemsError):
    """Root of all forecasting errors."""


class SourceError(ForecastError):
    """A configured source cannot deliver (unreadable file, bad payload, no value yet).

    ``field`` is the config key path of the source, so a log line says which setting to look at.
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class StaleSource(SourceError):
    """The source's latest value or series is older than its limit, or covers no interval asked."""
