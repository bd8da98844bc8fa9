"""What a forecast is: values aligned to the horizon, when and from what they were made.

Every series carries ``issued_at`` (the instant the forecast was made), the ``source`` of its
numbers and, when it had to fall back to a lesser method, ``degraded`` saying why. The control
cycle can then show or log the reason without ever handling an exception from forecasting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.clock import Clock

Vec = npt.NDArray[np.float64]


def frozen_vector(values: Any) -> Vec:
    """A read-only float64 copy, so a forecast handed to several consumers cannot be edited."""
    out = np.array(values, dtype=np.float64, copy=True).reshape(-1)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Series:
    """One forecast quantity over the horizon (one value per interval)."""

    quantity: str  # "base_load_kw", "pv_kw", "outdoor_c", "draw_l"
    values: Vec
    issued_at: datetime
    source: str  # e.g. "weekly profile (4 weeks)", "mqtt local:weather/outdoor"
    degraded: str | None = None  # why a lesser method was used; None when all went as configured

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", frozen_vector(self.values))

    def age_s(self, clock: Clock) -> float:
        return max(0.0, (clock.now() - self.issued_at).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "values": np.asarray(self.values, dtype=np.float64).tolist(),
            "issued_at": self.issued_at.isoformat(),
            "source": self.source,
            "degraded": self.degraded,
        }


@dataclass(frozen=True)
class Forecasts:
    """Everything the control cycle needs for one plan, aligned to ``starts`` (interval starts)."""

    issued_at: datetime
    starts: tuple[datetime, ...]
    base_load: Series
    pv: Series
    outdoor: Series
    draws: Series
    # Global horizontal irradiance, W/m² (house solar gains); None: not forecast.
    irradiance: Series | None = None

    @property
    def base_load_kw(self) -> Vec:
        return self.base_load.values

    @property
    def pv_kw(self) -> Vec:
        return self.pv.values

    @property
    def outdoor_c(self) -> Vec:
        return self.outdoor.values

    @property
    def draw_l(self) -> Vec:
        """Hot water drawn in each interval, litres (not a rate)."""
        return self.draws.values

    @property
    def ghi_w_per_m2(self) -> Vec | None:
        return None if self.irradiance is None else self.irradiance.values

    @property
    def series(self) -> tuple[Series, ...]:
        return (self.base_load, self.pv, self.outdoor, self.draws)

    @property
    def degraded(self) -> dict[str, str]:
        """Quantity -> reason, for every series that fell back."""
        return {s.quantity: s.degraded for s in self.series if s.degraded is not None}

    def age_s(self, clock: Clock) -> float:
        return max(0.0, (clock.now() - self.issued_at).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        return {
            "issued_at": self.issued_at.isoformat(),
            "starts": [s.isoformat() for s in self.starts],
            "series": {s.quantity: s.to_dict() for s in self.series},
        }
