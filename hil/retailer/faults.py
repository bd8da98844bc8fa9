"""Malformed and malicious tenders for fault injection.

Each starts from a valid tender encoded by the project's codec and breaks exactly one thing, so
the home's error report can be checked to name the right field. :func:`bad_tender` returns the
raw payload and the field a strict receiver must name (``message`` for payloads that are not a
usable JSON object at all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from agent.market import codec
from agent.market.records import Tender


class BadTender(StrEnum):
    BAD_JSON = "bad_json"
    NAN = "nan"
    MISALIGNED = "misaligned"
    WRONG_CURRENCY = "wrong_currency"
    OVER_CAP = "over_cap"
    HUGE_QUANTITY = "huge_quantity"
    UNKNOWN_FIELD = "unknown_field"
    ONE_MB = "one_mb"


@dataclass(frozen=True, slots=True)
class FaultPayload:
    kind: BadTender
    message_id: str
    payload: bytes
    # The field a strict receiver names in its error report (a quantity of 10^30 kW is beyond the
    # codec's bound: it overflowed Decimal arithmetic further on when it was let through).
    field: str | None


def bad_tender(kind: BadTender, base: Tender, *, price_max_per_kwh: str = "5.00") -> FaultPayload:
    """``base`` (a valid tender) broken in one way; its id gets the fault's name appended."""
    message_id = f"{base.id}-{kind.value}"[:128]
    obj: dict[str, Any] = codec.encode_tender(base)
    obj["id"] = message_id
    field: str | None
    if kind is BadTender.BAD_JSON:
        text = codec.dumps(obj)
        return FaultPayload(kind, message_id, text[: len(text) // 2].encode(), "message")
    if kind is BadTender.NAN:
        obj["price"] = float("nan")
        return FaultPayload(kind, message_id, json.dumps(obj, allow_nan=True).encode(), "message")
    if kind is BadTender.MISALIGNED:
        start = base.interval.start + timedelta(minutes=7)
        obj["interval"] = {"start": start.isoformat(), "duration": base.interval.duration.value}
        field = "interval.start"
    elif kind is BadTender.WRONG_CURRENCY:
        obj["currency"] = "XBT" if base.currency != "XBT" else "EUR"
        field = "currency"
    elif kind is BadTender.OVER_CAP:
        obj["price"] = format(int(float(price_max_per_kwh)) * 10 + 1, "d")
        field = "price"
    elif kind is BadTender.HUGE_QUANTITY:
        obj["quantity_kw"] = "1" + "0" * 30
        field = "quantity_kw"
    elif kind is BadTender.UNKNOWN_FIELD:
        obj["zz_rebate"] = "0.5"
        field = "zz_rebate"
    else:  # ONE_MB
        obj["padding"] = "x" * (1024 * 1024)
        field = "message"
    return FaultPayload(kind, message_id, codec.dumps(obj).encode(), field)
