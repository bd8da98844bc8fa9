"""The control cycle: one frozen snapshot, then the named phases plan → transact → dispatch → settle.

Every ``cycle_s`` the devices are refreshed and read once into a :class:`Snapshot`; each phase
works on that image. *plan* starts a background re-plan when one is due (never waited for);
*transact* acts on each new plan once; *dispatch* turns the current step of the last good plan
into device commands (or safe rules when there is none, the householder paused, or the
telemetry is stale); *settle* stores meter counters and settles closed intervals. A failing
phase is logged and the cycle goes on; the watchdog is fed only by completed cycles.
Between cycles it also wakes when a metering interval's scheduled plan falls due and when a
re-plan ends, so a cycle as long as the interval still plans each one and a new plan is
dispatched as soon as it is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from agent.cancel import honour_cancellation
from agent.clock import Clock
from agent.config import Config
from agent.dispatch import Dispatcher, DispatchTarget, Snapshot, capture, target_from_setpoints
from agent.errors import HemsError
from agent.forecast import Forecaster
from agent.planning import MeasuredState
from agent.runtime.energy_counters import EnergyCounters, powers_kw
from agent.runtime.measure import IntervalAverager, measured_state
from agent.runtime.overrides import effective_config, ev_target, water_heater_target
from agent.runtime.plan_phase import PlanPhase
from agent.runtime.plan_record import PlanRecord
from agent.runtime.settler import Settled, Settler
from agent.runtime.state import AgentState
from agent.runtime.telemetry import Poller
from agent.runtime.transact_phase import TransactPhase
from drivers.base import Device

log = logging.getLogger(__name__)

DEFAULT_CYCLE_S = 10.0
# Real seconds the first cycle waits for the first poll of the devices.
FIRST_POLL_WAIT_S = 10.0
# A cycle woken for a scheduled plan wakes this much after it (the clock may read a hair early).
WAKE_MARGIN_S = 0.01


class ControlCycle:
    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        devices: Mapping[str, Device],
        dispatcher: Dispatcher,
        planning: PlanPhase,
        transact: TransactPhase | None,
        settler: Settler,
        forecaster: Forecaster,
        poller: Poller,
        state: AgentState,
        roles: Mapping[str, str],
        cycle_s: float = DEFAULT_CYCLE_S,
        on_cycle: Callable[[], None] | None = None,
        energy: EnergyCounters | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.devices = devices
        self.dispatcher = dispatcher
        self.planning = planning
        self.transact = transact
        self.settler = settler
        self.forecaster = forecaster
        self.poller = poller
        self.state = state
        self.roles = roles
        self.cycle_s = cycle_s
        self._on_cycle = on_cycle
        self.energy = energy
        self._averager = IntervalAverager(config, config.meter_name, config.metering_interval)
        self.overrides_version = 0
        self._override_watchers: list[Callable[[], None]] = []
        self._published_plan: PlanRecord | None = None
        self._published_settled: list[Settled] | None = None
        self._recent_json: list[dict[str, Any]] = []
        # The plan version this cycle's dispatch saw, and whether the last rest was cut short
        # for a plan that ended after it (once: a plan ending in every cycle must not spin).
        self._dispatched_version = -1
        self._rerun = False

    def overrides_changed(self) -> None:
        """The householder changed a control: re-plan, and tell whoever shows the controls."""
        self.overrides_version += 1
        for watcher in self._override_watchers:
            watcher()

    def watch_overrides(self, watcher: Callable[[], None]) -> None:
        self._override_watchers.append(watcher)

    async def run(self) -> None:
        # The first cycle waits (bounded) for the first poll so it does not start from nothing.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.poller.polled.wait(), FIRST_POLL_WAIT_S)
        while True:
            honour_cancellation()
            started_s = self.clock.monotonic_s()
            await self.run_once()
            await self._rest(max(0.0, self.cycle_s - (self.clock.monotonic_s() - started_s)))

    async def _rest(self, rest_s: float) -> None:
        """Sleep until the next cycle, or sooner: until the next metering interval's plan is due
        (a cycle as long as the interval would otherwise never run in its first seconds, and so
        never plan it), or until the re-plan under way ends (its plan is dispatched at once).
        A re-plan that ended while the cycle still ran, after its dispatch (a solve that takes
        no time on the clock, as in a virtual-time simulation), is dispatched at once too:
        otherwise the plan's first step, made for now, would wait a whole cycle and be lost
        where the cycle is as long as the step."""
        if self.planning.version != self._dispatched_version and not self._rerun:
            self._rerun = True
            return
        self._rerun = False
        now = self.clock.now()
        plan_at = self.planning.next_scheduled(now)
        if plan_at is not None:
            until_plan_s = (plan_at - now).total_seconds()
            if until_plan_s > 0:
                rest_s = min(rest_s, until_plan_s + WAKE_MARGIN_S)
        plan = self.planning.task
        if plan is None:
            await self.clock.sleep(rest_s)
            return
        sleeping = asyncio.ensure_future(self.clock.sleep(rest_s))
        try:
            await asyncio.wait({sleeping, plan}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()

    async def run_once(self) -> None:
        wall0 = time.perf_counter()
        now = self.clock.now()
        snapshot = capture(self.devices, self.clock)
        measured = self._measured(snapshot)
        await self._phase("plan", self._plan(now, measured))
        await self._phase("transact", self._transact(now))
        self._dispatched_version = self.planning.version
        await self._phase("dispatch", self._dispatch(snapshot, now))
        await self._phase("settle", self._settle(snapshot))
        self._publish(snapshot, self.poller.failures, (time.perf_counter() - wall0) * 1000.0)
        if self._on_cycle is not None:
            self._on_cycle()

    async def _phase(self, name: str, step: Awaitable[None]) -> None:
        try:
            await step
        except HemsError as e:
            self.state.counters[f"phase_errors_{name}"] += 1
            log.warning("%s phase failed: %s", name, e)

    def _measured(self, snapshot: Snapshot) -> MeasuredState:
        measured = measured_state(snapshot, self.config, self.roles)
        o = self.state.overrides
        ev = self.roles.get("ev")
        if ev is not None and (o.ev_departure is not None or o.ev_target_soc is not None):
            charger = self.config.devices[ev]
            target_kwh = None
            if o.ev_target_soc is not None and hasattr(charger, "battery_kwh"):
                target_kwh = o.ev_target_soc * float(charger.battery_kwh)
            measured = replace(measured, ev_departure=o.ev_departure, ev_target_kwh=target_kwh)
        if ev is not None and o.ev_mode == "off":
            # Charging is off: plan (and trade) as if no car were there.
            measured = replace(measured, ev_plugged=False)
        return measured

    async def _plan(self, now: datetime, measured: MeasuredState) -> None:
        if self.state.overrides.paused:
            return
        reason = self.planning.due(now, measured, self.overrides_version)
        if reason is not None:
            self.state.timing.last_plan_reason = reason
            config = effective_config(self.config, self.state.overrides)
            self.planning.start(reason, measured, self.overrides_version, config=config)

    async def _transact(self, now: datetime) -> None:
        record = self.planning.current
        if self.transact is None or record is None or self.state.overrides.paused:
            return
        await self.transact.run(record, self.planning.version, now)

    def _target(self, now: datetime) -> tuple[DispatchTarget | None, str]:
        if self.state.overrides.paused:
            return None, "optimizer paused by the householder"
        record = self.planning.current
        if record is None:
            return None, self.planning.last_error or "no plan yet"
        idx = record.index_at(now)
        if idx is None:
            return None, "the last good plan has run out"
        setpoints = record.plan.setpoints(idx)
        pv_kw = float(record.forecasts.pv_kw[idx]) if len(record.forecasts.pv_kw) > idx else None
        house = record.built.inputs.heat_pump
        mode = house.mode if house is not None else None  # the season the plan was made for
        return target_from_setpoints(setpoints, self.config, pv_forecast_kw=pv_kw, heat_mode=mode), ""

    async def _dispatch(self, snapshot: Snapshot, now: datetime) -> None:
        target, reason = self._target(now)
        target = water_heater_target(self.config, self.state.overrides, now, target)
        target = ev_target(self.config, self.state.overrides, target)
        report = await self.dispatcher.dispatch(target, snapshot, no_plan_reason=reason or "no valid plan")
        # Which plan the commands came from (the page shows it; a new plan is dispatched at once).
        self.state.dispatch = {**report.to_json(), "plan_version": self._dispatched_version}
        if self.state.overrides.paused:
            self.state.mode = "paused"
        elif target is None or report.safe_devices:
            self.state.mode = "safe"
        else:
            self.state.mode = "optimising"

    async def _settle(self, snapshot: Snapshot) -> None:
        await self.settler.record(snapshot)
        unmeasured_kw = 0.0
        record = self.planning.current
        idx = record.index_at(snapshot.taken_at) if record is not None else None
        if record is not None and idx is not None and "heat_pump_kw" in record.plan.series:
            unmeasured_kw = float(record.plan.series["heat_pump_kw"][idx])
        if self.energy is not None:
            heat_pump_kw = unmeasured_kw if record is not None and idx is not None else None
            self.energy.add(snapshot.mono_s, powers_kw(snapshot, self.config, self.roles, heat_pump_kw))
            if self.energy.save_due(snapshot.mono_s):
                await self.energy.save(snapshot.mono_s)
        closed = self._averager.add(snapshot, unmeasured_kw)
        if closed is not None:
            self.forecaster.observe(closed.interval, base_load_kw=closed.base_load_kw, pv_kw=closed.pv_kw)
        settled = await self.settler.settle_due()
        self.state.counters["settlements"] += len(settled)

    def _publish(self, snapshot: Snapshot, failures: Mapping[str, str], cycle_ms: float) -> None:
        s = self.state
        s.timing.cycles += 1
        s.timing.last_cycle_ms = cycle_ms
        s.timing.plans = self.planning.plans
        s.timing.plan_failures = self.planning.failures
        s.timing.last_plan_ms = self.planning.last_solve_ms
        s.timing.last_plan_error = self.planning.last_error
        record = self.planning.current
        if record is not None and record is not self._published_plan:
            # Once per plan: its JSON is the same every cycle until the next one.
            self._published_plan = record
            s.timing.last_plan_at = record.made_at
            s.plan = record.plan.to_json()
            s.plan_intervals = [i.start.isoformat() for i in record.built.intervals]
            s.forecast = record.forecasts.to_dict()
        s.snapshot = snapshot.to_json()
        s.devices = {name: d.health.snapshot().to_dict() for name, d in self.devices.items()}
        s.counters["refresh_failures"] = len(failures)
        if self.transact is not None:
            s.trading = {"last": self.transact.last.to_json(), "totals": dict(self.transact.totals)}
        s.settlement = {
            "waiting": self.settler.deferred_reason,
            "estimated_readings": self.settler.estimated_readings,
            "recent": self._recent_settlements(),
        }

    def _recent_settlements(self) -> list[dict[str, Any]]:
        """The last 12 settlements for the page, rebuilt only when one was added (the settler
        replaces its list then); most cycles settle nothing."""
        settled = self.settler.settled
        if settled is not self._published_settled:
            self._published_settled = settled
            self._recent_json = [
                {
                    "interval": x.interval.start.isoformat(),
                    "net_kwh": str(x.net_kwh),
                    "deviation_kwh": str(x.deviation_kwh),
                    "amount": str(x.amount),
                    "flags": list(x.flags),
                }
                for x in settled[-12:]
            ]
        return self._recent_json
