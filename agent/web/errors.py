"""The web package's errors: what a client did wrong (4xx, naming the field), what the server could not do."""

from __future__ import annotations

from agent.errors import HemsError


class WebError(HemsError):
    """Root of the web package's errors."""


class RequestError(WebError):
    """A request the server refuses; ``field`` names the culprit, ``status`` is the HTTP status."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status

    def to_json(self) -> dict[str, str]:
        return {"error": self.message, "field": self.field}


class TokenFileError(WebError):
    """The access token could not be read from or written to its file."""
