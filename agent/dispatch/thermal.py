"""Heat pump, thermostat and water heater: setpoints, element power, relays.

Which command a device gets depends on what its driver offers: a thermostat takes a
setpoint, a relay an on/off state or a duty (time-proportioned), a smart water-heater switch
an on/off state or an element power. On/off requests respect the minimum on and off times
(the same as the GPIO driver's, so dispatch never asks for what the relay would hold back).
"""

from __future__ import annotations

from agent.config import devices as cfg
from agent.dispatch.commands import Action, Command, Decision, Mode
from agent.dispatch.cycle import Cycle, DeviceState, clip, guarded, mismatch, optional, owed_on, stale_reason
from agent.dispatch.settings import DeviceSpec
from agent.dispatch.target import DeviceTarget, ThermalTarget, WaterHeaterTarget
from agent.season import Mode as HeatMode
from drivers.base import Capabilities, ElementPower, ModeSwitching, ThermostatMode
from drivers.gpio.relay import TimeProportioned

NO_OUTPUT = "driver offers no output for this role (device not discovered yet?)"


def _switch(
    spec: DeviceSpec,
    state: DeviceState,
    cycle: Cycle,
    *,
    mode: Mode,
    reason: str | None,
    duty: float,
    proportioned: bool,
) -> Decision:
    """A fraction of full power as a duty (when the relay can) or as on/off with min times."""
    if proportioned:
        cmd = Command(Action.SWITCH_DUTY, round(duty, 3))
        return Decision(mode, reason, cmd, cmd)
    on, hit = guarded(spec, state, duty >= 0.5, cycle.mono_s)
    return Decision(mode, reason, Command(Action.SWITCH_ON, duty >= 0.5), Command(Action.SWITCH_ON, on), hit)


def thermal_mode(conf: cfg.HeatPump | cfg.Thermostat, target: DeviceTarget | None, cycle: Cycle) -> HeatMode:
    """The plan's mode where the target gives one, else the mode in force now by the device's rule."""
    if isinstance(target, ThermalTarget) and target.mode is not None:
        return target.mode
    return conf.mode_rule().mode_at(cycle.now, cycle.zone)


def decide_thermal(
    spec: DeviceSpec, target: DeviceTarget | None, cycle: Cycle, state: DeviceState, caps: Capabilities
) -> Decision:
    conf = spec.config
    assert isinstance(conf, cfg.HeatPump | cfg.Thermostat)
    snap, name = cycle.snapshot, spec.name
    reason = mismatch(target, ThermalTarget, name, cycle.no_target_reason)
    if caps.thermostat is not None:
        if reason is None:
            assert isinstance(target, ThermalTarget)
            if target.setpoint_c is None:
                reason = "target gives no setpoint for a thermostat"
        reason = reason or stale_reason(snap, name, "thermostat.indoor_c")
        heat_mode = thermal_mode(conf, target, cycle)
        band = conf.comfort_in(heat_mode)
        # a heat pump that heats and cools is put in the mode the setpoint is meant for
        system = None
        if isinstance(caps.thermostat, ModeSwitching):
            system = ThermostatMode.COOL if heat_mode == "cooling" else ThermostatMode.HEAT
        if reason is None:
            assert isinstance(target, ThermalTarget)
            assert target.setpoint_c is not None
            wanted = target.setpoint_c
            value, hit = clip(
                wanted, band.target_c - band.band_c, band.target_c + band.band_c, "comfort_min", "comfort_max"
            )
            mode = Mode.OPTIMISED
        else:
            wanted, value, hit, mode = band.target_c, band.target_c, (), Mode.SAFE
        if spec.limits.setpoint_c is not None:
            value, more = clip(value, *spec.limits.setpoint_c, "setpoint_min", "setpoint_max")
            hit += more
        return Decision(
            mode,
            reason,
            Command(Action.SETPOINT_C, wanted, thermostat_mode=system),
            Command(Action.SETPOINT_C, round(value, 2), thermostat_mode=system),
            hit,
        )
    if caps.switch is not None:
        if reason is None:
            assert isinstance(target, ThermalTarget)
            if target.electric_kw is None:
                reason = "target gives no electric power for a relay"
        reason = reason or stale_reason(snap, name, "switch.on")
        if reason is None:
            assert isinstance(target, ThermalTarget)
            assert target.electric_kw is not None
            duty = min(1.0, target.electric_kw / conf.electric_max_kw)
            return _switch(
                spec,
                state,
                cycle,
                mode=Mode.OPTIMISED,
                reason=None,
                duty=duty,
                proportioned=isinstance(caps.switch, TimeProportioned),
            )
        # The relay is the appliance's enable/boost contact: off hands it back to its own control.
        return _switch(spec, state, cycle, mode=Mode.SAFE, reason=reason, duty=0.0, proportioned=False)
    return Decision(Mode.SAFE, NO_OUTPUT, None, None)


def decide_water_heater(
    spec: DeviceSpec, target: DeviceTarget | None, cycle: Cycle, state: DeviceState, caps: Capabilities
) -> Decision:
    conf = spec.config
    assert isinstance(conf, cfg.WaterHeater)
    snap, name = cycle.snapshot, spec.name
    reason = mismatch(target, WaterHeaterTarget, name, cycle.no_target_reason)
    element_w = conf.element_kw * 1000.0
    if caps.water_heater is not None:
        tank_c = optional(snap, name, "water_heater.tank_c")
        reason = reason or stale_reason(snap, name, "water_heater.tank_c")
        if reason is None:
            assert isinstance(target, WaterHeaterTarget)
            assert tank_c is not None
            if isinstance(caps.water_heater, ElementPower) and target.power_kw is not None:
                wanted = target.power_kw * 1000.0
                value, hit = clip(wanted, 0.0, element_w, "element_min", "element_max")
                if tank_c >= conf.max_c:
                    value, hit = 0.0, ("tank_max",)
                elif tank_c < conf.min_c:
                    value, hit = element_w, ("tank_min",)
                cmd = Command(Action.ELEMENT_POWER_W, round(value, 1))
                return Decision(Mode.OPTIMISED, None, Command(Action.ELEMENT_POWER_W, wanted), cmd, hit)
            if target.on is not None:
                want_on = target.on
            else:
                want_on = owed_on(
                    state, target.power_kw or 0.0, conf.element_kw, cycle.mono_s, state.relay_on
                )
            forced: tuple[str, ...] = ()
            on = want_on
            if tank_c >= conf.max_c and on:
                on, forced = False, ("tank_max",)
            elif tank_c < conf.min_c and not on:
                on, forced = True, ("tank_min",)
            on, hit = guarded(spec, state, on, cycle.mono_s)
            return Decision(
                Mode.OPTIMISED,
                None,
                Command(Action.ELEMENT_ON, want_on),
                Command(Action.ELEMENT_ON, on),
                forced + hit,
            )
        if tank_c is None:
            want_on = True  # unknown tank: element enabled, left to the tank's own thermostat
        elif tank_c < conf.target_c - cycle.settings.tank_hysteresis_k:
            want_on = True
        elif tank_c >= conf.target_c:
            want_on = False
        else:  # inside the hysteresis band: keep what was asked last (off when nothing was)
            want_on = bool(state.relay_on)
        on, hit = guarded(spec, state, want_on, cycle.mono_s)
        return Decision(
            Mode.SAFE, reason, Command(Action.ELEMENT_ON, want_on), Command(Action.ELEMENT_ON, on), hit
        )
    if caps.switch is not None:
        reason = reason or stale_reason(snap, name, "switch.on")
        proportioned = isinstance(caps.switch, TimeProportioned)
        if reason is None:
            assert isinstance(target, WaterHeaterTarget)
            duty = (
                min(1.0, target.power_kw / conf.element_kw)
                if target.power_kw is not None
                else float(bool(target.on))
            )
            return _switch(
                spec, state, cycle, mode=Mode.OPTIMISED, reason=None, duty=duty, proportioned=proportioned
            )
        # A relay in series with the tank's own thermostat: on leaves the tank to regulate itself.
        return _switch(spec, state, cycle, mode=Mode.SAFE, reason=reason, duty=1.0, proportioned=False)
    return Decision(Mode.SAFE, NO_OUTPUT, None, None)
