"""Dispatch: the only writer to devices.

The control cycle hands it a :class:`DispatchTarget` for the current interval (or ``None``
when there is no valid plan) and the cycle's :class:`Snapshot`; it returns a
:class:`DispatchReport`. See ``docs/safe-rules.md`` for what happens without a usable target.
"""

from agent.dispatch.commands import Action, Command, Decision, Mode
from agent.dispatch.dispatcher import Dispatcher
from agent.dispatch.errors import DispatchError, StaleTelemetry, TargetError
from agent.dispatch.report import DeviceDispatch, DispatchReport
from agent.dispatch.settings import DeviceSpec, DispatchSettings, device_specs
from agent.dispatch.snapshot import Sample, Snapshot, capture
from agent.dispatch.target import (
    BatteryTarget,
    DeviceTarget,
    DispatchTarget,
    EvTarget,
    PvTarget,
    ThermalTarget,
    WaterHeaterTarget,
    target_from_setpoints,
)

__all__ = [
    "Action",
    "BatteryTarget",
    "Command",
    "Decision",
    "DeviceDispatch",
    "DeviceSpec",
    "DeviceTarget",
    "DispatchError",
    "DispatchReport",
    "DispatchSettings",
    "DispatchTarget",
    "Dispatcher",
    "EvTarget",
    "Mode",
    "PvTarget",
    "Sample",
    "Snapshot",
    "StaleTelemetry",
    "TargetError",
    "ThermalTarget",
    "WaterHeaterTarget",
    "capture",
    "device_specs",
    "target_from_setpoints",
]
