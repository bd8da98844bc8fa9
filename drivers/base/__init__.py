"""The drivers' base layer: capability protocols, readings, monitors, health, device protocol."""

from drivers.base.capabilities import (
    Battery,
    BatteryLimits,
    ElementPower,
    EnergyMeter,
    EvCharger,
    MeteredElement,
    PhaseMeter,
    PvInverter,
    Switch,
    Thermostat,
    ThermostatMode,
    VehicleSoc,
    WaterHeater,
    WindowedBattery,
)
from drivers.base.device import (
    Capabilities,
    Device,
    DeviceContext,
    DeviceIdentity,
    DeviceLimits,
    DeviceReport,
    Link,
    LinkPool,
    stop_all,
)
from drivers.base.health import Health, HealthSnapshot, HealthState
from drivers.base.reading import Monitor, Reading
from drivers.base.values import ValueStore

__all__ = [
    "Battery",
    "BatteryLimits",
    "Capabilities",
    "Device",
    "DeviceContext",
    "DeviceIdentity",
    "DeviceLimits",
    "DeviceReport",
    "ElementPower",
    "EnergyMeter",
    "EvCharger",
    "Health",
    "HealthSnapshot",
    "HealthState",
    "Link",
    "LinkPool",
    "MeteredElement",
    "Monitor",
    "PhaseMeter",
    "PvInverter",
    "Reading",
    "Switch",
    "Thermostat",
    "ThermostatMode",
    "ValueStore",
    "VehicleSoc",
    "WaterHeater",
    "WindowedBattery",
    "stop_all",
]
