"""What the link counts (exposed for metrics), and logging a failure once per kind."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class LinkCounters:
    received: Counter[str] = field(default_factory=Counter)  # inbound, by kind (topic)
    committed: Counter[str] = field(default_factory=Counter)  # inbound stored and handed to the book
    duplicates: Counter[str] = field(default_factory=Counter)  # inbound seen before: acknowledged only
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)  # inbound refused: (kind, field)
    commit_failures: int = 0  # ledger/outbox writes that failed; the message was held unacknowledged
    errors_in: int = 0  # error reports from the retailer about what the home sent
    sent: Counter[str] = field(default_factory=Counter)  # outbound publish attempts, by kind
    acked: Counter[str] = field(default_factory=Counter)  # outbound acknowledged by the broker
    publish_failures: int = 0
    pending: int = 0  # outbox rows not yet acknowledged (refreshed by the link)

    @property
    def errors_out(self) -> int:
        """Error replies the home sent about bad inbound messages."""
        return sum(self.rejected.values())

    def as_metrics(self) -> dict[str, int]:
        """Flat ``name{label}`` → value, ready for a metrics endpoint."""
        out: dict[str, int] = {}
        for name in ("received", "committed", "duplicates", "sent", "acked"):
            for kind, n in sorted(getattr(self, name).items()):
                out[f'link_{name}_total{{kind="{kind}"}}'] = n
        for (kind, fld), n in sorted(self.rejected.items()):
            out[f'link_rejected_total{{kind="{kind}",field="{fld}"}}'] = n
        out["link_commit_failures_total"] = self.commit_failures
        out["link_errors_in_total"] = self.errors_in
        out["link_errors_out_total"] = self.errors_out
        out["link_publish_failures_total"] = self.publish_failures
        out["link_outbox_pending"] = self.pending
        return out


class OnceLog:
    """Warn the first time a kind of failure happens, repeats at debug; ``recovered`` clears it."""

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
