"""The exception tree of dispatch."""

from __future__ import annotations

from agent.errors import HemsError


class DispatchError(HemsError):
    """Root of the errors dispatch raises."""


class TargetError(DispatchError, ValueError):
    """A dispatch target holds a value that cannot be commanded; ``field`` is its key path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class StaleTelemetry(DispatchError):
    """A value the decision needs is missing from the snapshot or too old to be trusted."""

    def __init__(self, device: str, quantity: str, reason: str) -> None:
        super().__init__(f"{device}.{quantity}: {reason}")
        self.device = device
        self.quantity = quantity
        self.reason = reason
