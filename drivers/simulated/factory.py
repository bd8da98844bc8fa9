"""Registry factory for ``driver: {type: simulated}`` (see :mod:`drivers.simulated.home`)."""

from __future__ import annotations

from typing import Any

from drivers.base import DeviceContext
from drivers.simulated.device import SimulatedDevice
from drivers.simulated.home import home_of


def create_device(name: str, settings: Any, ctx: DeviceContext) -> SimulatedDevice:
    home = home_of(ctx)
    limits = ctx.limits_for(name)
    return SimulatedDevice(name, home.role_of(name, limits), home, limits)
