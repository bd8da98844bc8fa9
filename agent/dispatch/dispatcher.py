"""The one writer to devices: target + snapshot -> commands within limits, or safe rules.

Per cycle::

    snapshot = capture(devices, clock)                 # after the drivers' refresh
    report = await dispatcher.dispatch(target, snapshot)   # target None: no valid plan

On shutdown: ``await dispatcher.safe_stop()`` then ``await stop_all(devices)``.

Each device is decided on its own: a lost battery does not stop the heat pump from being
optimised. Mode changes are logged once (WARNING into safe mode, INFO "recovered" out of it),
write failures likewise; repeats go to DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace

from agent.clock import Clock
from agent.config import devices as cfg
from agent.config.model import Config
from agent.dispatch import battery, ev, pv
from agent.dispatch.commands import Action, Command, Decision, Mode
from agent.dispatch.cycle import Cycle, DeviceState
from agent.dispatch.errors import DispatchError
from agent.dispatch.pending import load_change_w
from agent.dispatch.report import DeviceDispatch, DispatchReport
from agent.dispatch.settings import DeviceSpec, DispatchSettings, device_specs
from agent.dispatch.snapshot import Snapshot
from agent.dispatch.target import DeviceTarget, DispatchTarget
from agent.dispatch.thermal import NO_OUTPUT, decide_thermal, decide_water_heater
from agent.dispatch.writer import send, unchanged
from agent.season import Mode as HeatMode
from drivers.base import BidirectionalCharger, Capabilities, Device, ModeSwitching, ThermostatMode
from drivers.errors import DriverError

_log = logging.getLogger("agent.dispatch")

NO_TARGET_FOR_DEVICE = "the plan gives no target for this device"
_ON_OFF = (Action.SWITCH_ON, Action.ELEMENT_ON)


class Dispatcher:
    def __init__(
        self,
        config: Config,
        devices: Mapping[str, Device],
        clock: Clock,
        settings: DispatchSettings | None = None,
    ) -> None:
        self.settings = settings or DispatchSettings()
        self._config = config
        self._devices = dict(devices)
        self._clock = clock
        self._specs = device_specs(config, self.settings)
        self._states = {name: DeviceState() for name in self._specs}
        self._meter = config.meter_name
        meter = config.devices[self._meter]
        assert isinstance(meter, cfg.Meter)
        self._meter_config = meter
        # A cycle and safe_stop must not interleave their writes.
        self._lock = asyncio.Lock()

    @property
    def controlled(self) -> tuple[str, ...]:
        """The devices dispatch writes to."""
        return tuple(self._specs)

    def state(self, device: str) -> DeviceState:
        return self._states[device]

    # -- one cycle --------------------------------------------------------------------------------

    async def dispatch(
        self, target: DispatchTarget | None, snapshot: Snapshot, *, no_plan_reason: str = "no valid plan"
    ) -> DispatchReport:
        async with self._lock:
            targets: Mapping[str, DeviceTarget] = {} if target is None else target.devices
            known = ", ".join(self._specs)
            target_errors = {
                f"target.devices.{name}": f"no controllable device of that name; devices: {known}"
                for name in targets
                if name not in self._specs
            }
            cycle = Cycle(
                snapshot,
                self.settings,
                self._config.zone,
                self._meter,
                self._meter_config,
                no_plan_reason if target is None else NO_TARGET_FOR_DEVICE,
            )
            # Batteries last: they follow the meter as the other commands will leave it.
            decisions = {
                name: self._decide(spec, targets.get(name), cycle)
                for name, spec in self._specs.items()
                if not isinstance(spec.config, cfg.Battery)
            }
            change_w = sum(
                load_change_w(self._specs[name], d, self._states[name], snapshot)
                for name, d in decisions.items()
            )
            after = replace(cycle, load_change_w=change_w)
            for name, spec in self._specs.items():
                if isinstance(spec.config, cfg.Battery):
                    decisions[name] = self._decide(spec, targets.get(name), after)
            results = await asyncio.gather(
                *(self._carry_out(self._specs[name], d, snapshot) for name, d in decisions.items())
            )
            return DispatchReport(
                snapshot.taken_at,
                target.label if target is not None else "none",
                {r.device: r for r in results},
                target_errors,
            )

    def _decide(self, spec: DeviceSpec, target: DeviceTarget | None, cycle: Cycle) -> Decision:
        state = self._states[spec.name]
        device = self._devices.get(spec.name)
        try:
            if device is None:
                decision = Decision(Mode.SAFE, "device was not built", None, None)
            else:
                decision = _by_role(spec, target, cycle, state, device.capabilities)
        except DispatchError as e:  # a rule's own guard: that device only goes safe
            decision = Decision(Mode.SAFE, str(e), None, None)
        self._log_mode(spec.name, state, decision)
        return decision

    def _log_mode(self, name: str, state: DeviceState, decision: Decision) -> None:
        if decision.mode is not state.mode:
            if decision.mode is Mode.SAFE:
                _log.warning("%s: safe mode: %s", name, decision.reason)
            elif state.mode is Mode.SAFE:
                _log.info("%s: recovered, optimised again", name)
            else:
                _log.info("%s: optimised", name)
        elif decision.mode is Mode.SAFE and decision.reason != state.reason:
            _log.debug("%s: still safe: %s", name, decision.reason)
        state.mode, state.reason = decision.mode, decision.reason

    async def _carry_out(self, spec: DeviceSpec, decision: Decision, snapshot: Snapshot) -> DeviceDispatch:
        state = self._states[spec.name]
        base = DeviceDispatch(
            spec.name,
            spec.role,
            decision.mode,
            decision.reason,
            decision.wanted,
            decision.command,
            limited_by=decision.limited_by,
        )
        cmd = decision.command
        device = self._devices.get(spec.name)
        if cmd is None or device is None:
            return _replace(base, skipped=NO_OUTPUT)
        mono_s = self._clock.monotonic_s()
        age_s = None if state.last_mono_s is None else mono_s - state.last_mono_s
        why = unchanged(
            cmd,
            last=state.last,
            last_age_s=age_s,
            snapshot=snapshot,
            device=spec.name,
            settings=self.settings,
        )
        if why is not None:
            if cmd.action in _ON_OFF and state.relay_on is None:
                # Already in that state: count it as just switched, as the relay driver does.
                state.relay_on, state.relay_since_s = bool(cmd.value), mono_s
            return _replace(base, skipped=why, pending=_pending(device.capabilities))
        written, read_back, error = await self._write(spec.name, cmd, device.capabilities)
        if written:
            if cmd.action in _ON_OFF and state.relay_on is not bool(cmd.value):
                state.relay_on, state.relay_since_s = bool(cmd.value), mono_s
            elif cmd.action is Action.SWITCH_DUTY:
                state.relay_on = state.relay_since_s = None  # the relay's own planner owns timing
            state.last, state.last_mono_s = cmd, mono_s
        return _replace(
            base,
            written=cmd if written else None,
            read_back=read_back,
            error=error,
            pending=_pending(device.capabilities) if cmd.action is Action.SWITCH_ON else False,
        )

    async def _write(
        self, name: str, cmd: Command, caps: Capabilities
    ) -> tuple[bool, float | bool | None, str | None]:
        state = self._states.get(name)
        try:
            async with asyncio.timeout(self.settings.write_timeout_s):
                read_back = await send(cmd, caps)
        except TimeoutError:
            error = f"write {cmd} timed out after {self.settings.write_timeout_s:g} s"
        except (DriverError, DispatchError) as e:
            error = f"write {cmd} failed: {type(e).__name__}: {e}"
        else:
            if state is not None and state.failing:
                _log.info("%s: writes recovered", name)
                state.failing = False
            return True, read_back, None
        if state is not None and not state.failing:
            _log.warning("%s: %s", name, error)
            state.failing = True
        else:
            _log.debug("%s: still failing: %s", name, error)
        return False, None, error

    # -- shutdown ---------------------------------------------------------------------------------

    async def safe_stop(self) -> DispatchReport:
        """Every output to its safe state: battery idle, EV at minimum current, thermostats to
        their configured setpoint, relays off, smart water-heater switches on (tank thermostat),
        PV cap lifted. Then stop the drivers (``stop_all``), which also drop GPIO relays at once.
        """
        async with self._lock:
            names = list(self._specs)
            results = await asyncio.gather(*(self._stop_one(self._specs[n]) for n in names))
            return DispatchReport(self._clock.now(), "safe_stop", dict(zip(names, results, strict=True)))

    def _stop_mode(self, spec: DeviceSpec) -> HeatMode:
        """A thermal device's mode in force now by its rule (heating for other devices)."""
        conf = spec.config
        if isinstance(conf, cfg.HeatPump | cfg.Thermostat):
            return conf.mode_rule().mode_at(self._clock.now(), self._config.zone)
        return "heating"

    async def _stop_one(self, spec: DeviceSpec) -> DeviceDispatch:
        device = self._devices.get(spec.name)
        cmd = None if device is None else _stop_command(spec, device.capabilities, self._stop_mode(spec))
        base = DeviceDispatch(spec.name, spec.role, Mode.SAFE, "shutting down", cmd, cmd)
        if device is None or cmd is None:
            return _replace(base, skipped=NO_OUTPUT)
        written, read_back, error = await self._write(spec.name, cmd, device.capabilities)
        if written:
            self._states[spec.name].last = cmd
        return _replace(
            base,
            written=cmd if written else None,
            read_back=read_back,
            error=error,
            pending=_pending(device.capabilities) if cmd.action is Action.SWITCH_ON else False,
        )


def _by_role(
    spec: DeviceSpec, target: DeviceTarget | None, cycle: Cycle, state: DeviceState, caps: Capabilities
) -> Decision:
    conf = spec.config
    if isinstance(conf, cfg.Battery):
        return battery.decide(spec, target, cycle, state) if caps.battery else _no_output()
    if isinstance(conf, cfg.EvCharger):
        if caps.ev_charger is None:
            return _no_output()
        bidirectional = isinstance(caps.ev_charger, BidirectionalCharger)
        return ev.decide(spec, target, cycle, state, bidirectional=bidirectional)
    if isinstance(conf, cfg.HeatPump | cfg.Thermostat):
        return decide_thermal(spec, target, cycle, state, caps)
    if isinstance(conf, cfg.WaterHeater):
        return decide_water_heater(spec, target, cycle, state, caps)
    if isinstance(conf, cfg.PvInverter):
        return pv.decide(spec, target, cycle, state) if caps.pv_inverter else _no_output()
    raise DispatchError(f"{spec.name}: role {spec.role} is not controllable")


def _no_output() -> Decision:
    return Decision(Mode.SAFE, NO_OUTPUT, None, None)


def _stop_command(spec: DeviceSpec, caps: Capabilities, heat_mode: HeatMode) -> Command | None:
    conf = spec.config
    if isinstance(conf, cfg.Battery) and caps.battery:
        return Command(Action.BATTERY_POWER_W, 0.0)
    if isinstance(conf, cfg.EvCharger) and caps.ev_charger:
        # Minimum, not pause: the car still charges (and stops itself when full) while no
        # agent runs; a paused charger could leave its owner without range in the morning.
        return Command(Action.EV_CURRENT_A, spec.ev_current_range_a[0])
    if isinstance(conf, cfg.HeatPump | cfg.Thermostat) and caps.thermostat:
        # the comfort target of the season, in the season's mode where the thermostat can switch
        system = None
        if isinstance(caps.thermostat, ModeSwitching):
            system = ThermostatMode.COOL if heat_mode == "cooling" else ThermostatMode.HEAT
        return Command(Action.SETPOINT_C, conf.comfort_in(heat_mode).target_c, thermostat_mode=system)
    if isinstance(conf, cfg.WaterHeater) and caps.water_heater:
        return Command(Action.ELEMENT_ON, True)
    if caps.switch is not None and isinstance(conf, cfg.HeatPump | cfg.Thermostat | cfg.WaterHeater):
        return Command(Action.SWITCH_ON, False)
    if isinstance(conf, cfg.PvInverter) and caps.pv_inverter:
        return Command(Action.CURTAIL_LIMIT_W, None)
    return None


def _pending(caps: Capabilities) -> bool:
    return bool(getattr(caps.switch, "pending", False))


def _replace(d: DeviceDispatch, **changes: object) -> DeviceDispatch:
    return replace(d, **changes)  # type: ignore[arg-type]
