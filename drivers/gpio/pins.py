"""Which gpiozero pin factory drives the relays: real pins on a Pi, mock pins anywhere else.

``HEMS_GPIO_PINS`` (or the ``choice`` argument) selects: ``auto`` (default: real pins on a
Raspberry Pi, gpiozero's mock pins elsewhere), ``mock``, or a gpiozero factory name (``lgpio``,
``rpigpio``, ``pigpio``, ``native``). Mock pins on a real Pi are refused whatever asks for them
(including gpiozero's own ``GPIOZERO_PIN_FACTORY``): the heater would silently never switch.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

from drivers.errors import DeviceUnavailable, DriverConfigError

_log = logging.getLogger("drivers.gpio")

PIN_ENV = "HEMS_GPIO_PINS"
MODEL_FILE = Path("/proc/device-tree/model")
_FACTORIES = {
    "lgpio": "gpiozero.pins.lgpio:LGPIOFactory",
    "rpigpio": "gpiozero.pins.rpigpio:RPiGPIOFactory",
    "pigpio": "gpiozero.pins.pigpio:PiGPIOFactory",
    "native": "gpiozero.pins.native:NativeFactory",
}


def on_raspberry_pi(model_file: Path = MODEL_FILE) -> bool:
    try:
        return "raspberry pi" in model_file.read_text(errors="replace").lower()
    except OSError:
        return False


def make_pin_factory(choice: str | None = None, *, model_file: Path = MODEL_FILE) -> Any:
    """A gpiozero pin factory for ``choice`` (see the module docstring)."""
    from gpiozero.pins.mock import MockFactory

    chosen = (choice or os.environ.get(PIN_ENV) or "auto").strip().lower()
    pi = on_raspberry_pi(model_file)
    if chosen == "mock" or (chosen == "auto" and not pi):
        if pi:
            raise DriverConfigError(
                "mock pins requested on a real Raspberry Pi; unset it or choose auto", field=PIN_ENV
            )
        if chosen == "auto":
            _log.warning("not a Raspberry Pi: relays drive gpiozero mock pins (set %s to choose)", PIN_ENV)
        return MockFactory()
    if chosen == "auto":
        from gpiozero import Device

        try:
            factory = Device._default_pin_factory()
        except Exception as e:  # gpiozero raises BadPinFactory, or the backend's own errors
            raise DeviceUnavailable(f"no GPIO backend could be loaded: {e}") from e
    else:
        target = _FACTORIES.get(chosen)
        if target is None:
            allowed = ", ".join(["auto", "mock", *_FACTORIES])
            raise DriverConfigError(f"unknown pin factory {chosen!r}; allowed: {allowed}", field=PIN_ENV)
        module_name, _, cls_name = target.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), cls_name)()
        except Exception as e:  # a missing library or no GPIO chip: the backend's own exception
            raise DeviceUnavailable(f"pin factory {chosen} cannot be used: {e}") from e
    if pi and isinstance(factory, MockFactory):
        factory.close()
        raise DriverConfigError(
            "GPIOZERO_PIN_FACTORY selects mock pins on a real Raspberry Pi", field=PIN_ENV
        )
    return factory


class GpioPins:
    """The process's one pin factory, shared by all relays (a :class:`~drivers.base.Link`)."""

    link_key = "gpio"

    def __init__(self, factory: Any) -> None:
        self.factory = factory

    @property
    def is_mock(self) -> bool:
        from gpiozero.pins.mock import MockFactory

        return isinstance(self.factory, MockFactory)

    async def close(self) -> None:
        self.factory.close()
