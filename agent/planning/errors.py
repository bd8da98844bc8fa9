"""Errors of the planning glue (config, tenders and measurements turned into planner inputs)."""

from __future__ import annotations

from agent.errors import HemsError


class PlanningInputError(HemsError):
    """A value the planner needs is missing or unusable; ``field`` names it (a config key path,
    a tender id, or a measured-state name)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
