"""The link's own messages: acceptance, cancellation, error report and heartbeat.

Tenders, transactions, spot prices and deliveries travel in the foundation codec's JSON
(:mod:`agent.market.codec`); these four are defined here, decoded just as strictly from the
same field readers: a decoder returns a whole valid record or raises
:class:`~agent.market.errors.CodecError` naming the field (and the message id when it is valid).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from agent.market import fields as f
from agent.market.codec import decode_object
from agent.market.errors import CodecError

MAX_ERROR_CHARS = 500
MAX_TOPIC_CHARS = 400
MAX_COUNT = 2**53  # JSON numbers beyond this lose precision in most readers


class LinkState(StrEnum):
    RUNNING = "running"
    DEGRADED = "degraded"  # the ledger refuses writes: inbound messages wait unacknowledged
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Acceptance:
    """The home accepts ``quantity_kw`` (up to the tender's quantity) of a retailer tender."""

    id: str
    tender_id: str
    party: str
    quantity_kw: Decimal
    sent: datetime


@dataclass(frozen=True, slots=True)
class Cancellation:
    """The home withdraws a tender it posted (what already executed stays executed)."""

    id: str
    tender_id: str
    party: str
    sent: datetime


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """A message could not be used: which one (``message_id``; None if it had no valid id),
    where it arrived, the offending field and why."""

    id: str
    message_id: str | None
    topic: str
    field: str
    error: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    party: str
    state: LinkState
    sent: datetime
    version: str
    outbox_pending: int
    rejected_in: int


def _text(obj: Mapping[str, Any], key: str, limit: int, *, may_be_empty: bool = False) -> str:
    if may_be_empty and obj.get(key) == "":
        return ""
    value = f.string(obj, key)
    if len(value) > limit:
        raise CodecError(key, f"longer than {limit} characters")
    return value


def _count(obj: Mapping[str, Any], key: str) -> int:
    value = f.non_negative(obj, key, Decimal(MAX_COUNT))
    if value != value.to_integral_value() or value > MAX_COUNT:
        raise CodecError(key, f"must be a whole number 0..{MAX_COUNT}, got {value}")
    return int(value)


def decode_acceptance(raw: str | bytes | Mapping[str, Any]) -> Acceptance:
    def build(obj: dict[str, Any]) -> Acceptance:
        return Acceptance(
            id=f.ident(obj, "id"),
            tender_id=f.ident(obj, "tender_id"),
            party=f.ident(obj, "party"),
            quantity_kw=f.positive(obj, "quantity_kw"),
            sent=f.instant(obj, "sent"),
        )

    return decode_object(raw, frozenset({"id", "tender_id", "party", "quantity_kw", "sent"}), build)


def decode_cancellation(raw: str | bytes | Mapping[str, Any]) -> Cancellation:
    def build(obj: dict[str, Any]) -> Cancellation:
        return Cancellation(
            id=f.ident(obj, "id"),
            tender_id=f.ident(obj, "tender_id"),
            party=f.ident(obj, "party"),
            sent=f.instant(obj, "sent"),
        )

    return decode_object(raw, frozenset({"id", "tender_id", "party", "sent"}), build)


def decode_error_report(raw: str | bytes | Mapping[str, Any]) -> ErrorReport:
    def build(obj: dict[str, Any]) -> ErrorReport:
        return ErrorReport(
            id=f.ident(obj, "id"),
            message_id=f.ident(obj, "message_id") if obj.get("message_id") is not None else None,
            topic=_text(obj, "topic", MAX_TOPIC_CHARS),
            # Empty when the offending key was itself the empty string.
            field=_text(obj, "field", MAX_TOPIC_CHARS, may_be_empty=True),
            error=_text(obj, "error", MAX_ERROR_CHARS),
        )

    return decode_object(raw, frozenset({"id", "message_id", "topic", "field", "error"}), build)


def decode_heartbeat(raw: str | bytes | Mapping[str, Any]) -> Heartbeat:
    def build(obj: dict[str, Any]) -> Heartbeat:
        return Heartbeat(
            party=f.ident(obj, "party"),
            state=f.enum(obj, "state", LinkState),
            sent=f.instant(obj, "sent"),
            version=f.ident(obj, "version"),
            outbox_pending=_count(obj, "outbox_pending"),
            rejected_in=_count(obj, "rejected_in"),
        )

    fields = frozenset({"party", "state", "sent", "version", "outbox_pending", "rejected_in"})
    return decode_object(raw, fields, build)


def encode_acceptance(a: Acceptance) -> dict[str, Any]:
    return {
        "id": a.id,
        "tender_id": a.tender_id,
        "party": a.party,
        "quantity_kw": format(a.quantity_kw, "f"),
        "sent": a.sent.isoformat(),
    }


def encode_cancellation(c: Cancellation) -> dict[str, Any]:
    return {"id": c.id, "tender_id": c.tender_id, "party": c.party, "sent": c.sent.isoformat()}


def encode_error_report(e: ErrorReport) -> dict[str, Any]:
    return {
        "id": e.id,
        "message_id": e.message_id,
        "topic": e.topic[:MAX_TOPIC_CHARS],
        "field": e.field[:MAX_TOPIC_CHARS],
        "error": e.error[:MAX_ERROR_CHARS],
    }


def encode_heartbeat(h: Heartbeat) -> dict[str, Any]:
    return {
        "party": h.party,
        "state": h.state.value,
        "sent": h.sent.isoformat(),
        "version": h.version,
        "outbox_pending": h.outbox_pending,
        "rejected_in": h.rejected_in,
    }
