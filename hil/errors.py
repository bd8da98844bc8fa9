"""The exception tree of the hardware-in-the-loop rig."""

from __future__ import annotations

from agent.errors import HemsError


class HilError(HemsError):
    """Root of every deliberate rig error."""


class PlantDataError(HilError):
    """A data file or parameter of the plant is unusable; ``field`` names what (file:line, key)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class EmulatorError(HilError):
    """A device emulator could not start, or was asked something it cannot do."""
