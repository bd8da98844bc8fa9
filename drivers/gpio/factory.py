"""Building GPIO relays from configuration (the registry's ``gpio_relay`` type).

``settings`` is the ``driver:`` block (``agent.config.drivers.GpioRelayDriver``): ``pin`` (BCM
number), ``active_high``, ``min_on_s``, ``min_off_s``, ``window_s``. All relays share one pin
factory, chosen by :func:`drivers.gpio.pins.make_pin_factory` on first use.
"""

from __future__ import annotations

from typing import Any

from drivers.base import DeviceContext
from drivers.gpio.pins import GpioPins, make_pin_factory
from drivers.gpio.relay import GpioRelay


def create_device(name: str, settings: Any, ctx: DeviceContext) -> GpioRelay:
    pins = ctx.links.get_or_create(GpioPins.link_key, GpioPins, lambda: GpioPins(make_pin_factory()))
    return GpioRelay(
        name,
        pins,
        int(settings.pin),
        ctx.clock,
        active_high=bool(getattr(settings, "active_high", True)),
        min_on_s=float(getattr(settings, "min_on_s", 60.0)),
        min_off_s=float(getattr(settings, "min_off_s", 60.0)),
        window_s=float(getattr(settings, "window_s", 600.0)),
    )
