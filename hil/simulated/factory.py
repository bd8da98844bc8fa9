"""Registry factory for ``driver: {type: simulated}`` (see :mod:`hil.simulated.home`).

``prepare`` hands the whole config to the simulated home before any device is built (the
registry's :func:`~drivers.registry.prepare_drivers` calls it).
"""

from __future__ import annotations

from typing import Any

from drivers.base import DeviceContext
from hil.simulated.device import SimulatedDevice
from hil.simulated.home import home_of, prepare

__all__ = ["create_device", "prepare"]


def create_device(name: str, settings: Any, ctx: DeviceContext) -> SimulatedDevice:
    home = home_of(ctx)
    limits = ctx.limits_for(name)
    return SimulatedDevice(name, home.role_of(name, limits), home, limits)
