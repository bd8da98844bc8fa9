"""The one error of the scenario format: where it is (key path, or file/row/column) and what is wrong."""

from __future__ import annotations

from pathlib import Path

from agent.errors import HemsError


class ScenarioError(HemsError):
    """A scenario or one of its data files is unusable.

    ``key`` is the YAML key path (``devices.battery.capacity_kwh``); for a data error ``file``,
    ``row`` (as a spreadsheet counts: the header is row 1) and ``column`` say where in the CSV.
    """

    def __init__(
        self,
        key: str,
        message: str,
        *,
        file: Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        where = key
        if file is not None:
            parts = [file.name]
            if row is not None:
                parts.append(f"row {row}")
            if column is not None:
                parts.append(f"column {column!r}")
            where = f"{key}: {', '.join(parts)}"
        super().__init__(f"{where}: {message}")
        self.key = key
        self.message = message
        self.file = file
        self.row = row
        self.column = column

    @property
    def field(self) -> str:
        """The key path (the name the rig's loader has always used)."""
        return self.key
