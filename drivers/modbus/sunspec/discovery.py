"""Finding the SunSpec map of a device and walking its chain of models.

The map starts with the marker 'SunS' (0x5375 0x6E53) at one of the base addresses SunSpec
allows (40000, 50000 or 0); then come models, each ``ID, L`` followed by ``L`` registers, until
the end model (ID 0xFFFF). Some devices end the map with the end model's ID alone, without its
length register, and refuse a read past it: the walk reads the ID by itself there.

A base address that does not answer (a device that ignores requests outside its map instead of
answering "illegal data address") does not stop the search: the next base is tried. Only a link
that is down ends it, as no other base can answer either.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import DeviceTimeout, ProtocolError
from drivers.modbus.link import ModbusLink

SUNS = [0x5375, 0x6E53]
BASE_ADDRESSES = (40000, 0, 50000)
END_MODEL_ID = 0xFFFF
# A real device has a handful of models; a chain longer than this is garbage, not a device.
MAX_MODELS = 64


@dataclass(frozen=True, slots=True)
class ModelLocation:
    model_id: int
    address: int  # address of the ID register
    length: int  # L: registers after ID and L


async def find_base(link: ModbusLink, device_id: int, bases: tuple[int, ...] = BASE_ADDRESSES) -> int:
    """The base address holding 'SunS'; :class:`ProtocolError` when none does."""
    tried: list[str] = []
    timeouts: list[DeviceTimeout] = []
    for base in bases:
        try:
            regs = await link.read(device_id, base, 2)
        except ProtocolError as e:  # typically "illegal data address" at an unused base
            tried.append(f"{base}: {e}")
            continue
        except DeviceTimeout as e:
            tried.append(f"{base}: {e}")
            timeouts.append(e)
            continue
        if regs == SUNS:
            return base
        tried.append(f"{base}: {regs[0]:#06x} {regs[1]:#06x}")
    message = f"no SunSpec marker 'SunS' at {', '.join(map(str, bases))} ({'; '.join(tried)})"
    if len(timeouts) == len(bases):
        # Silence everywhere is a device that does not answer at all, not a device without SunSpec.
        raise DeviceTimeout(message) from timeouts[-1]
    raise ProtocolError(message)


async def walk_models(link: ModbusLink, device_id: int, base: int) -> list[ModelLocation]:
    """The models following the marker at ``base``, in map order."""
    found: list[ModelLocation] = []
    address = base + 2
    for _ in range(MAX_MODELS):
        try:
            model_id, length = await link.read(device_id, address, 2)
        except ProtocolError:
            # An end model without its length register: the map ends one register early.
            (model_id,) = await link.read(device_id, address, 1)
            if model_id != END_MODEL_ID:
                raise
        if model_id == END_MODEL_ID:
            return found
        if model_id == 0:
            raise ProtocolError(f"SunSpec chain broken at {address}: model id 0")
        found.append(ModelLocation(model_id, address, length))
        address += 2 + length
        if address > 0xFFFF:
            raise ProtocolError("SunSpec chain runs past the end of the register space")
    raise ProtocolError(f"SunSpec chain at {base} has more than {MAX_MODELS} models")
