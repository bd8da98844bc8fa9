"""PV curtailment: the plan's production cap within the inverter's rating; safe: no cap."""

from __future__ import annotations

from agent.dispatch.commands import Action, Command, Decision, Mode
from agent.dispatch.cycle import Cycle, DeviceState, clip, mismatch, stale_reason
from agent.dispatch.settings import DeviceSpec
from agent.dispatch.target import DeviceTarget, PvTarget


def decide(spec: DeviceSpec, target: DeviceTarget | None, cycle: Cycle, state: DeviceState) -> Decision:
    name = spec.name
    reason = mismatch(target, PvTarget, name, cycle.no_target_reason) or stale_reason(
        cycle.snapshot, name, "pv.power_w"
    )
    lift = Command(Action.CURTAIL_LIMIT_W, None)
    if reason is not None:
        # Curtailment only saves money; without a plan it could waste the sun, so it is lifted.
        return Decision(Mode.SAFE, reason, lift, lift)
    assert isinstance(target, PvTarget)
    if target.limit_kw is None or spec.limits.pv_rated_w is None:
        return Decision(Mode.OPTIMISED, None, lift, lift)
    wanted = target.limit_kw * 1000.0
    value, hit = clip(wanted, 0.0, spec.limits.pv_rated_w, "curtail_min", "pv_rated")
    return Decision(
        Mode.OPTIMISED,
        None,
        Command(Action.CURTAIL_LIMIT_W, wanted),
        Command(Action.CURTAIL_LIMIT_W, float(round(value))),
        hit,
    )
