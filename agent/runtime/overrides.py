"""The householder's settings applied to what the agent plans and dispatches.

* comfort target and band: a copy of the config with the thermal devices' comfort replaced,
  used by the next plan (the plan phase re-plans when a setting changes);
* water-heater *boost* (full element power until a time) and *hold* (element off): applied to
  the dispatch target, so they act within one cycle and also while the planner is paused or has
  no plan. The dispatcher still keeps the tank above its minimum and below its maximum.
"""

from __future__ import annotations

from datetime import datetime

from agent.config import Config
from agent.config.devices import HeatPump, Thermostat, WaterHeater
from agent.dispatch import DispatchTarget, WaterHeaterTarget
from agent.runtime.state import Overrides


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
            devices[name] = device.model_copy(update={"comfort": comfort})
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
