"""What the link counts (exposed for metrics), and logging a failure once per kind.

Counter labels come from closed sets only: a field that is not one of the wire's key paths is
counted as ``other``, so a peer that sends a thousand invented keys makes one label, not a
thousand (each would live in memory and in every scrape of ``/metrics``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

# Every key path a message of the link can name in an error, plus the message-level ones.
WIRE_PATHS = frozenset(
    {
        "message",
        "topic",
        "id",
        "party",
        "counterparty",
        "side",
        "product",
        "interval",
        "interval.start",
        "interval.duration",
        "quantity_kw",
        "price",
        "currency",
        "expires",
        "actionable",
        "from",
        "to",
        "tender_id",
        "buyer",
        "seller",
        "executed",
        "message_id",
        "field",
        "error",
        "import_kwh",
        "export_kwh",
        "net_kw",
        "sent",
    }
)
OTHER = "other"


def field_label(path: str) -> str:
    """``path`` if it is one of the wire's key paths, else ``other``."""
    return path if path in WIRE_PATHS else OTHER


Sample = tuple[str, dict[str, str], int]


@dataclass
class LinkCounters:
    received: Counter[str] = field(default_factory=Counter)  # inbound, by kind (topic)
    committed: Counter[str] = field(default_factory=Counter)  # inbound stored and handed to the book
    duplicates: Counter[str] = field(default_factory=Counter)  # inbound seen before: acknowledged only
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)  # inbound refused: (kind, field)
    commit_failures: int = 0  # ledger/outbox writes that failed; the message was held unacknowledged
    unhandled: int = 0  # inbound messages whose handling failed unexpectedly (answered, acknowledged)
    task_restarts: Counter[str] = field(default_factory=Counter)  # link tasks restarted after a crash
    errors_in: int = 0  # error reports from the retailer about what the home sent
    sent: Counter[str] = field(default_factory=Counter)  # outbound publish attempts, by kind
    acked: Counter[str] = field(default_factory=Counter)  # outbound acknowledged by the broker
    publish_failures: int = 0
    pending: int = 0  # outbox rows not yet acknowledged (refreshed by the link)

    @property
    def errors_out(self) -> int:
        """Error replies the home sent about bad inbound messages."""
        return sum(self.rejected.values())

    def count_rejected(self, kind: str, path: str) -> None:
        self.rejected[(kind, field_label(path))] += 1

    def samples(self) -> list[Sample]:
        """``(name, labels, value)`` for a metrics endpoint; label values are never parsed back."""
        out: list[Sample] = []
        for name in ("received", "committed", "duplicates", "sent", "acked"):
            for kind, n in sorted(getattr(self, name).items()):
                out.append((f"link_{name}_total", {"kind": kind}, n))
        for (kind, fld), n in sorted(self.rejected.items()):
            out.append(("link_rejected_total", {"kind": kind, "field": fld}, n))
        for task, n in sorted(self.task_restarts.items()):
            out.append(("link_task_restarts_total", {"task": task}, n))
        out += [
            ("link_commit_failures_total", {}, self.commit_failures),
            ("link_unhandled_total", {}, self.unhandled),
            ("link_errors_in_total", {}, self.errors_in),
            ("link_errors_out_total", {}, self.errors_out),
            ("link_publish_failures_total", {}, self.publish_failures),
            ("link_outbox_pending", {}, self.pending),
        ]
        return out


class OnceLog:
    """Warn the first time a kind of failure happens, repeats at debug; ``recovered`` clears it.

    Keys must come from closed sets (kinds, :func:`field_label`), never from a peer's text."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._seen: set[str] = set()

    def warn(self, key: str, message: str, *args: object) -> None:
        if key in self._seen:
            self._log.debug(message + " (again)", *args)
        else:
            self._seen.add(key)
            self._log.warning(message, *args)

    def recovered(self, key: str, message: str, *args: object) -> None:
        if key in self._seen:
            self._seen.discard(key)
            self._log.info(message, *args)
