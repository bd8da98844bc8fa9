"""The topic tree of one home at one retailer (see docs/retailer-link.md).

``<retailer.topic_prefix>/<home party>/to-home/<kind>`` carries what the retailer sends, and
``.../from-home/<kind>`` what the home sends. Kinds are closed sets: an unknown kind on the
inbound side is answered as an error, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.link.errors import LinkConfigError


class Inbound(StrEnum):
    """Retailer → home."""

    TENDER = "tender"  # forward energy tenders, actionable and indicative
    TRANSPORT = "transport"  # transport tenders of the distribution operator
    SPOT = "spot"  # spot prices of metering intervals
    TRANSACTION = "transaction"  # confirmations: the only source of money owed
    ERROR = "error"  # the retailer could not use a message the home sent


class Outbound(StrEnum):
    """Home → retailer."""

    ACCEPT = "accept"
    TENDER = "tender"
    CANCEL = "cancel"
    DELIVERY = "delivery"
    ERROR = "error"
    HEARTBEAT = "heartbeat"  # JSON, retained
    STATUS = "status"  # "online" / "offline" (last will), retained; kept by the MQTT client


def _check_level(value: str, what: str) -> None:
    if not value or any(c in value for c in "+#\0") or value.startswith("/") or value.endswith("/"):
        raise LinkConfigError(f"{what} {value!r} cannot be used in an MQTT topic")


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str
    party: str

    def __post_init__(self) -> None:
        _check_level(self.prefix, "retailer.topic_prefix")
        _check_level(self.party, "party id")
        if "/" in self.party:
            raise LinkConfigError(f"party id {self.party!r} must not contain '/'")

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.party}"

    @property
    def inbound_filter(self) -> str:
        return f"{self.base}/to-home/#"

    @property
    def outbound_base(self) -> str:
        """Where the MQTT client keeps ``status`` (its availability topic is ``<this>/status``)."""
        return f"{self.base}/from-home"

    def to_home(self, kind: Inbound) -> str:
        return f"{self.base}/to-home/{kind.value}"

    def from_home(self, kind: Outbound) -> str:
        return f"{self.base}/from-home/{kind.value}"

    def inbound_kind(self, topic: str) -> Inbound | None:
        """The kind of an inbound topic; None for a topic under to-home that names no kind."""
        head = f"{self.base}/to-home/"
        if not topic.startswith(head):
            return None
        try:
            return Inbound(topic[len(head) :])
        except ValueError:
            return None
