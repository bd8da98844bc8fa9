"""Errors of configuration loading: each problem names the file, line and key path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.errors import HemsError


@dataclass(frozen=True, order=True)
class ConfigProblem:
    """One thing wrong with a config file.

    ``line`` is 1-based; it is ``None`` only when there is no line to point at (file unreadable).
    ``path`` is the dotted key path (``devices.battery.capacity_kwh``, list items as ``[2]``);
    it is empty for problems of the document as a whole (YAML syntax, empty file).
    """

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(HemsError):
    """A config that does not validate; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        if not problems:
            raise ValueError("ConfigError needs at least one problem")
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in config"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))
