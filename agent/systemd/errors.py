"""Errors of the systemd glue."""

from __future__ import annotations

from agent.errors import HemsError


class NotifyError(HemsError):
    """The environment systemd set up cannot be used (a malformed variable), named by ``field``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
