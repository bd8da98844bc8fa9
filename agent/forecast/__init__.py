"""Forecasts for the planner: base load, PV, outdoor temperature and hot-water draws.

Use :func:`build_forecaster` (from the config) and call :meth:`Forecaster.forecast` once per
control cycle and :meth:`Forecaster.observe` once per metering interval. Every series carries
``issued_at``, its source and, when it fell back to a lesser method, ``degraded``.
"""

from agent.forecast.accuracy import ErrorRecorder
from agent.forecast.build import ForecastConfigError, build_forecaster
from agent.forecast.errors import ForecastError, SourceError, StaleSource
from agent.forecast.forecaster import Forecaster
from agent.forecast.records import Forecasts, Series

__all__ = [
    "ErrorRecorder",
    "ForecastConfigError",
    "ForecastError",
    "Forecaster",
    "Forecasts",
    "Series",
    "SourceError",
    "StaleSource",
    "build_forecaster",
]
