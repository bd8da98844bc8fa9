"""Dispatch's own tunables, and each controllable device's limits resolved once from the config.

Device limits come from the same function the drivers use (``drivers.assembly.device_limits``)
so that dispatch never asks for a value the driver would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.config import devices as cfg
from agent.config.drivers import GpioRelayDriver
from agent.config.model import Config
from drivers.assembly import EV_MIN_CURRENT_A, NOMINAL_VOLTAGE_V, device_limits
from drivers.base import DeviceLimits


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    # The control cycle's period: a discharge near the SoC floor is tapered so that one cycle at
    # the commanded power cannot cross the floor before the next look.
    cycle_s: float = 10.0
    # Ramp limits: how fast a command may move between cycles. 1 kW/s takes a 5 kW battery from
    # idle to full in 5 s, gentle for inverters, quick enough to follow a 5-min plan.
    battery_ramp_w_per_s: float = 1000.0
    ev_ramp_a_per_s: float = 2.0
    # Deadbands: a change smaller than this is not written (a bus is not a free resource).
    battery_deadband_w: float = 50.0
    ev_deadband_a: float = 0.5
    setpoint_deadband_c: float = 0.1
    power_deadband_w: float = 50.0
    duty_deadband: float = 0.02
    curtail_deadband_w: float = 100.0
    # Unchanged commands are re-sent this often anyway, in case the device restarted and forgot.
    reassert_s: float = 300.0
    # Water heater on its own thermostat: on below target - hysteresis, off at target.
    tank_hysteresis_k: float = 5.0
    # Min on/off for switches without a GPIO driver (MQTT relays); GPIO relays use their own.
    relay_min_on_s: float = 60.0
    relay_min_off_s: float = 60.0
    # Safe EV rate: plan this much more energy than strictly needed, for losses and slack.
    ev_energy_margin: float = 1.1
    write_timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    name: str
    config: cfg.Device
    limits: DeviceLimits
    min_on_s: float
    min_off_s: float

    @property
    def role(self) -> str:
        return self.config.role

    # EV conversions, with the same defaults the driver limits were built with.
    @property
    def ev_w_per_a(self) -> float:
        assert isinstance(self.config, cfg.EvCharger)
        return (self.config.phases or 1) * (self.config.voltage_v or NOMINAL_VOLTAGE_V)

    @property
    def ev_current_range_a(self) -> tuple[float, float]:
        """(smallest non-zero, largest) current per phase."""
        assert isinstance(self.config, cfg.EvCharger)
        lo, hi = self.limits.ev_current_a or (EV_MIN_CURRENT_A, EV_MIN_CURRENT_A)
        lo = max(lo, self.config.min_kw * 1000.0 / self.ev_w_per_a)
        return min(lo, hi), hi


CONTROLLED = (cfg.Battery, cfg.EvCharger, cfg.HeatPump, cfg.Thermostat, cfg.WaterHeater, cfg.PvInverter)


def device_specs(config: Config, settings: DispatchSettings) -> dict[str, DeviceSpec]:
    """The devices dispatch writes to (meters and non-curtailable PV are read only)."""
    specs: dict[str, DeviceSpec] = {}
    for name, dev in config.devices.items():
        if not isinstance(dev, CONTROLLED) or (isinstance(dev, cfg.PvInverter) and not dev.curtailable):
            continue
        driver = dev.driver
        # A GPIO relay's driver enforces its own min times; dispatch uses the same ones so
        # that it never asks for a switch the driver would hold back.
        on_s, off_s = (
            (driver.min_on_s, driver.min_off_s)
            if isinstance(driver, GpioRelayDriver)
            else (settings.relay_min_on_s, settings.relay_min_off_s)
        )
        specs[name] = DeviceSpec(name, dev, device_limits(dev), min_on_s=on_s, min_off_s=off_s)
    return specs
