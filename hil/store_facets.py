"""Capabilities read from a device's value store: shared by the rig's two in-process device kinds.

The simulated driver (``hil/simulated``) and the virtual-time devices (``hil/fast``) both keep
their readings in a :class:`~drivers.base.ValueStore` and differ only in how they write; the
readers, and the meter that only reads, are written once here.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from drivers.base import Reading, ValueStore
from drivers.errors import StaleValue


class StoreDevice(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def store(self) -> ValueStore: ...


D = TypeVar("D", bound=StoreDevice)


class StoreFacet(Generic[D]):
    """A capability of device ``D`` whose readings come from its store."""

    def __init__(self, device: D) -> None:
        self._d = device

    def _number(self, name: str) -> Reading[float]:
        return self._d.store.number(name)

    def _flag(self, name: str) -> Reading[bool]:
        r = self._d.store.get(name)
        if not isinstance(r.value, bool):
            raise StaleValue(f"{name} not read yet", device=self._d.name)
        return Reading(r.value, r.unit, r.source, r.at, r.mono_s)


class StoreMeter(StoreFacet[D]):
    """An energy meter: counters and power, nothing to write."""

    def import_kwh(self) -> Reading[float]:
        return self._number("import_kwh")

    def export_kwh(self) -> Reading[float]:
        return self._number("export_kwh")

    def power_w(self) -> Reading[float]:
        return self._number("power_w")
