"""The householder's settings applied to what the agent plans and dispatches.

* comfort target and band: a copy of the config with the thermal devices' comfort replaced
  (heating's and cooling's alike: the householder sets what they want now), used by the next
  plan (the plan phase re-plans when a setting changes);
* water-heater *boost* (full element power until a time) and *hold* (element off): applied to
  the dispatch target, so they act within one cycle and also while the planner is paused or has
  no plan. The dispatcher still keeps the tank above its minimum and below its maximum;
* EV charge mode *now* (charge at the limit whatever the price), *off* (do not charge) and a
  current limit per phase (caps whatever the plan or the mode asks): applied to the dispatch
  target too. The dispatcher still keeps the charger within its own current range.
"""

from __future__ import annotations

from datetime import datetime

from agent.config import Config
from agent.config.devices import EvCharger, HeatPump, Thermostat, WaterHeater
from agent.dispatch import DispatchTarget, WaterHeaterTarget
from agent.dispatch.target import DeviceTarget, EvTarget
from agent.runtime.state import Overrides
from drivers.assembly import NOMINAL_VOLTAGE_V


def effective_config(config: Config, o: Overrides) -> Config:
    if o.comfort_target_c is None and o.comfort_band_c is None:
        return config
    devices = dict(config.devices)
    for name, device in config.devices.items():
        if isinstance(device, HeatPump | Thermostat):
            comfort = device.comfort.model_copy(
                update={
                    k: v
                    for k, v in (("target_c", o.comfort_target_c), ("band_c", o.comfort_band_c))
                    if v is not None
                }
            )
            update = {"comfort": comfort}
            if device.cooling_comfort is not None:
                # the householder's target is what they want now: it holds in either season
                update["cooling_comfort"] = device.cooling_comfort.model_copy(
                    update={
                        k: v
                        for k, v in (("target_c", o.comfort_target_c), ("band_c", o.comfort_band_c))
                        if v is not None
                    }
                )
            devices[name] = device.model_copy(update=update)
    return config.model_copy(update={"devices": devices})


def water_heater_target(
    config: Config, o: Overrides, now: datetime, target: DispatchTarget | None
) -> DispatchTarget | None:
    boost = o.water_heater_boost_until is not None and now < o.water_heater_boost_until
    if not boost and not o.water_heater_hold:
        return target
    wanted = {
        name: WaterHeaterTarget(power_kw=device.element_kw if boost else 0.0)
        for name, device in config.devices.items()
        if isinstance(device, WaterHeater)
    }
    if not wanted:
        return target
    label = "householder boost" if boost else "householder hold"
    if target is None:
        return DispatchTarget(wanted, label=label)
    return DispatchTarget({**target.devices, **wanted}, label=f"{target.label} + {label}", extra=target.extra)


def _ev(device: EvCharger, o: Overrides, planned: DeviceTarget | None) -> EvTarget | None:
    if o.ev_mode == "off":
        return EvTarget(power_kw=0.0)
    limit_a = o.ev_current_limit_a
    if o.ev_mode == "now":
        return EvTarget(current_a=limit_a) if limit_a is not None else EvTarget(power_kw=device.max_kw)
    if limit_a is None or not isinstance(planned, EvTarget):
        return None
    # The same conversion the dispatcher makes: phases x phase voltage (nominal when not given).
    w_per_a = (device.phases or 1) * (device.voltage_v or NOMINAL_VOLTAGE_V)
    wanted_a = planned.power_kw_a(w_per_a)
    return EvTarget(current_a=limit_a) if wanted_a > limit_a else None


def ev_target(config: Config, o: Overrides, target: DispatchTarget | None) -> DispatchTarget | None:
    """The target with the householder's EV mode and current limit applied."""
    if o.ev_mode == "smart" and o.ev_current_limit_a is None:
        return target
    planned = {} if target is None else dict(target.devices)
    wanted: dict[str, DeviceTarget] = {}
    for name, device in config.devices.items():
        if isinstance(device, EvCharger):
            changed = _ev(device, o, planned.get(name))
            if changed is not None:
                wanted[name] = changed
    if not wanted:
        return target
    label = f"householder EV {o.ev_mode}" if o.ev_mode != "smart" else "householder EV current limit"
    if target is None:
        return DispatchTarget(wanted, label=label)
    return DispatchTarget({**target.devices, **wanted}, label=f"{target.label} + {label}", extra=target.extra)
