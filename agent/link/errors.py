"""Errors of the retailer link: its MQTT session, durable outbox and the messages it sends."""

from __future__ import annotations

from agent.errors import HemsError


class LinkError(HemsError):
    """Root of retailer-link errors."""


class LinkConfigError(LinkError):
    """The configuration cannot make a link (no retailer section, unknown broker, bad party id)."""


class LinkNotRunning(LinkError):
    """The link is not started, or has been stopped."""


class LinkTimeout(LinkError, TimeoutError):
    """A local I/O step (ledger or outbox write) took longer than its limit."""


class OutboxError(LinkError):
    """The outbox file cannot be opened, read or written."""


class OutboxConflict(OutboxError):
    """A message id already queued with a different payload: never overwritten."""

    def __init__(self, kind: str, message_id: str) -> None:
        super().__init__(f"{kind} {message_id}: already queued with a different payload")
        self.kind = kind
        self.message_id = message_id


class LinkRefused(LinkError):
    """The agent asked to send something the protocol or the config does not allow; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
