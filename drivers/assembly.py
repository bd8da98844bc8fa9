"""Building the configured devices: links first, then each device through the registry.

Used by ``hems run`` and ``hems probe``. The write limits every driver checks come from the
device's role settings (battery power, PV rating, EV current, comfort band), converted here
once so drivers need not know the config models.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.config import devices as cfg
from agent.config.model import Config
from drivers.base import BatteryLimits, Device, DeviceContext, DeviceLimits
from drivers.errors import DriverConfigError
from drivers.registry import Registry, default_registry

# IEC 61851: a charger cannot offer less than 6 A (other than 0, which pauses the session).
EV_MIN_CURRENT_A = 6.0
NOMINAL_VOLTAGE_V = 230.0


def device_limits(device: cfg.Device) -> DeviceLimits:
    if isinstance(device, cfg.Battery):
        return DeviceLimits(
            battery=BatteryLimits(
                capacity_kwh=device.capacity_kwh,
                max_charge_w=device.charge_max_kw * 1000.0,
                max_discharge_w=device.discharge_max_kw * 1000.0,
                min_soc_pct=device.soc_min * 100.0,
                max_soc_pct=device.soc_max * 100.0,
            )
        )
    if isinstance(device, cfg.PvInverter):
        return DeviceLimits(pv_rated_w=device.peak_kw * 1000.0 if device.curtailable else None)
    if isinstance(device, cfg.EvCharger):
        phases = device.phases or 1
        voltage_v = device.voltage_v or NOMINAL_VOLTAGE_V
        max_a = device.max_kw * 1000.0 / (phases * voltage_v)
        v2g_a = (
            device.v2g_max_kw * 1000.0 / (phases * voltage_v)
            if device.v2g and device.v2g_max_kw is not None
            else None
        )
        return DeviceLimits(ev_current_a=(min(EV_MIN_CURRENT_A, max_a), max_a), ev_discharge_current_a=v2g_a)
    if isinstance(device, cfg.Thermostat | cfg.HeatPump):
        # wide enough for every mode's band (mode auto: heating's and cooling's)
        bands = [device.comfort_in(m) for m in device.mode_rule().modes()]
        return DeviceLimits(
            setpoint_c=(
                min(b.target_c - 3 * b.band_c for b in bands),
                max(b.target_c + 3 * b.band_c for b in bands),
            ),
            element_max_w=device.electric_max_kw * 1000.0,
        )
    if isinstance(device, cfg.WaterHeater):
        return DeviceLimits(setpoint_c=(device.min_c, device.max_c), element_max_w=device.element_kw * 1000.0)
    return DeviceLimits()


def add_brokers(config: Config, ctx: DeviceContext, *, client_suffix: str = "") -> None:
    """One MQTT connection per configured broker, shared by the devices naming it."""
    if not config.mqtt_brokers:
        return
    from drivers.mqtt.factory import add_broker, broker_settings_from_config

    for name, broker in config.mqtt_brokers.items():
        client_id = (broker.client_id or f"hems-{config.site.id}-{name}") + client_suffix
        prefix = f"hems{client_suffix.replace('-', '/')}/{config.site.id}"
        add_broker(ctx.links, name, broker_settings_from_config(broker, client_id=client_id, prefix=prefix))


def build_devices(
    config: Config,
    ctx: DeviceContext,
    names: Iterable[str] | None = None,
    registry: Registry | None = None,
) -> dict[str, Device]:
    """The devices ``names`` (default: all), built but not started."""
    registry = registry or default_registry()
    wanted = list(config.devices) if names is None else list(names)
    for name in wanted:
        if name not in config.devices:
            raise DriverConfigError(
                f"no device {name!r} in the config; devices: {', '.join(config.devices)}", field="devices"
            )
        ctx.limits.setdefault(name, device_limits(config.devices[name]))
    return {name: registry.create(name, config.devices[name].driver, ctx) for name in wanted}
