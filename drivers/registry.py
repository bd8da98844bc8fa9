"""Config ``type:`` -> driver factory.

A factory takes the device name, its validated driver settings (the pydantic model the config
layer chose by ``type``) and a :class:`~drivers.base.DeviceContext`, and returns a
:class:`~drivers.base.Device`. It does no I/O: ``start`` does.

The built-in drivers are registered lazily by dotted path, so a gateway without GPIO never
imports gpiozero and ``hems --help`` does not import pymodbus. Registering a type twice is a
programming error (:class:`ValueError`); building an unknown type is a configuration error
(:class:`~drivers.errors.DriverConfigError` naming ``driver.type`` and the known types).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from drivers.base.device import Device, DeviceContext
from drivers.errors import DriverConfigError


class DriverSettings(Protocol):
    @property
    def type(self) -> str: ...


Factory = Callable[[str, Any, DeviceContext], Device]

# type -> "module:function". Each module owns its factory; see its docstring for the settings.
BUILTIN: dict[str, str] = {
    "modbus_tcp": "drivers.modbus.factory:create_device",
    "modbus_rtu": "drivers.modbus.factory:create_device",
    "mqtt": "drivers.mqtt.factory:create_device",
    "gpio_relay": "drivers.gpio.factory:create_device",
    "simulated": "drivers.simulated.factory:create_device",
}


class Registry:
    def __init__(self, lazy: dict[str, str] | None = None) -> None:
        self._lazy: dict[str, str] = dict(lazy or {})
        self._factories: dict[str, Factory] = {}

    def register(self, type_name: str, factory: Factory) -> None:
        if type_name in self._factories or type_name in self._lazy:
            raise ValueError(f"driver type {type_name!r} is already registered")
        self._factories[type_name] = factory

    def register_lazy(self, type_name: str, target: str) -> None:
        if type_name in self._factories or type_name in self._lazy:
            raise ValueError(f"driver type {type_name!r} is already registered")
        self._lazy[type_name] = target

    def types(self) -> tuple[str, ...]:
        return tuple(sorted({*self._factories, *self._lazy}))

    def factory(self, type_name: str) -> Factory:
        found = self._factories.get(type_name)
        if found is not None:
            return found
        target = self._lazy.get(type_name)
        if target is None:
            raise DriverConfigError(
                f"unknown driver type {type_name!r}; known types: {', '.join(self.types())}",
                field="driver.type",
            )
        module_name, _, attr = target.partition(":")
        module = importlib.import_module(module_name)
        loaded: Factory = getattr(module, attr)
        self._factories[type_name] = loaded
        del self._lazy[type_name]
        return loaded

    def create(self, name: str, settings: DriverSettings, ctx: DeviceContext) -> Device:
        return self.factory(settings.type)(name, settings, ctx)


def default_registry() -> Registry:
    """A registry holding the built-in drivers (a fresh one, so tests can add their own)."""
    return Registry(BUILTIN)
