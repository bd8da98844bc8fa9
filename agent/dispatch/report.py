"""What dispatch did in one cycle, per device: for the status page and the KPI counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.dispatch.commands import Command, Mode


@dataclass(frozen=True, slots=True)
class DeviceDispatch:
    device: str
    role: str
    mode: Mode
    reason: str | None  # why safe
    wanted: Command | None  # what the target or safe rule asked for
    command: Command | None  # that within every limit
    written: Command | None = None  # what was sent (None: nothing, see ``skipped``/``error``)
    read_back: float | bool | None = None  # the device's value after the write, where it has one
    skipped: str | None = None  # why nothing was written (deadband, no output)
    pending: bool = False  # a relay holds the request until its minimum on/off time has passed
    error: str | None = None
    limited_by: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def cmd(c: Command | None) -> dict[str, Any] | None:
            return None if c is None else {"action": c.action.value, "value": c.value}

        return {
            "device": self.device,
            "role": self.role,
            "mode": self.mode.value,
            "reason": self.reason,
            "wanted": cmd(self.wanted),
            "command": cmd(self.command),
            "written": cmd(self.written),
            "read_back": self.read_back,
            "skipped": self.skipped,
            "pending": self.pending,
            "error": self.error,
            "limited_by": list(self.limited_by),
        }


@dataclass(frozen=True, slots=True)
class DispatchReport:
    at: datetime
    label: str  # the target's label, or "none" / "safe_stop"
    devices: Mapping[str, DeviceDispatch]
    target_errors: Mapping[str, str] = field(default_factory=dict)  # key path -> problem

    @property
    def writes(self) -> int:
        return sum(d.written is not None for d in self.devices.values())

    @property
    def errors(self) -> int:
        return sum(d.error is not None for d in self.devices.values()) + len(self.target_errors)

    @property
    def safe_devices(self) -> tuple[str, ...]:
        return tuple(n for n, d in self.devices.items() if d.mode is Mode.SAFE)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "label": self.label,
            "writes": self.writes,
            "errors": self.errors,
            "safe_devices": list(self.safe_devices),
            "devices": {n: d.to_json() for n, d in self.devices.items()},
            "target_errors": dict(self.target_errors),
        }
