"""Config ``type:`` -> driver factory.

A factory takes the device name, its validated driver settings (the pydantic model the config
layer chose by ``type``) and a :class:`~drivers.base.DeviceContext`, and returns a
:class:`~drivers.base.Device`. It does no I/O: ``start`` does.

The built-in drivers are registered lazily by dotted path, so a gateway without GPIO never
imports gpiozero and ``hems --help`` does not import pymodbus. Registering a type twice is a
programming error (:class:`ValueError`); building an unknown type is a configuration error
(:class:`~drivers.errors.DriverConfigError` naming ``driver.type`` and the known types).

``simulated`` is the test rig's in-process home (:mod:`hil.simulated`), which a gateway does not
install: there the type is a configuration error that names the install giving it
(``pip install 'hems[hil]'``), never an import error. A factory module may also define
``prepare(config, ctx)``, which :func:`prepare_drivers` runs once before any device is built.
"""

from __future__ import annotations

import importlib
import importlib.util
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
    "simulated": "hil.simulated.factory:create_device",
}
# Types whose driver ships in an optional part of hems, and the install that brings it.
OPTIONAL: dict[str, str] = {"simulated": "hems[hil]"}


def unavailable(type_name: str) -> str | None:
    """Why ``type_name`` cannot be built on this install (the advice to fix it); None when it can."""
    extra = OPTIONAL.get(type_name)
    if extra is None:
        return None
    module_name = BUILTIN[type_name].partition(":")[0]
    try:
        found = importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        found = False
    if found:
        return None
    return f"the {type_name} driver is part of {extra}, which is not installed here: pip install '{extra}'"


class Registry:
    def __init__(self, lazy: dict[str, str] | None = None) -> None:
        self._lazy: dict[str, str] = dict(lazy or {})
        self._factories: dict[str, Factory] = {}
        # A built-in type's optional prepare(config, ctx), found when its module is loaded.
        self._preparers: dict[str, Callable[[Any, DeviceContext], None]] = {}

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
        missing = unavailable(type_name)
        if missing is not None:
            raise DriverConfigError(missing, field="driver.type")
        module = importlib.import_module(module_name)
        loaded: Factory = getattr(module, attr)
        preparer = getattr(module, "prepare", None)
        if preparer is not None:
            self._preparers[type_name] = preparer
        self._factories[type_name] = loaded
        del self._lazy[type_name]
        return loaded

    def create(self, name: str, settings: DriverSettings, ctx: DeviceContext) -> Device:
        return self.factory(settings.type)(name, settings, ctx)

    def prepare(self, type_name: str, config: Any, ctx: DeviceContext) -> None:
        """Run the type's ``prepare(config, ctx)`` when its factory module has one."""
        self.factory(type_name)
        preparer = self._preparers.get(type_name)
        if preparer is not None:
            preparer(config, ctx)


def default_registry() -> Registry:
    """A registry holding the built-in drivers (a fresh one, so tests can add their own)."""
    return Registry(BUILTIN)


def prepare_drivers(config: Any, ctx: DeviceContext, registry: Registry | None = None) -> None:
    """Let each driver type the config uses see the whole config before its devices are built."""
    registry = registry or default_registry()
    for type_name in sorted({dev.driver.type for dev in config.devices.values()}):
        registry.prepare(type_name, config, ctx)
