"""Naming things on the wire: the ledger's columns as the wire's key paths, and the id of the
error report that answers a message."""

from __future__ import annotations

import hashlib

from agent.link.outgoing import derived_id

# The ledger's column names as the wire's key paths: an error names what the sender wrote.
WIRE_KEYS = {
    "price_per_kwh": "price",
    "interval_start": "interval.start",
    "start_s": "interval.start",
    "end_s": "interval.duration",
    "duration": "interval.duration",
    "from_node": "from",
    "to_node": "to",
    "message_id": "id",
}


def wire_key(column: str) -> str:
    return WIRE_KEYS.get(column, column)


def report_id(topic: str, message_id: str | None, payload: bytes) -> str:
    """The id of the error report about one message: the same every time that message arrives
    (a redelivery after a crash is answered by the same report, a duplicate to the retailer)."""
    digest = hashlib.sha256(topic.encode("utf-8", "backslashreplace") + b"\0" + payload).hexdigest()[:16]
    return derived_id("err", message_id or "none", digest)
