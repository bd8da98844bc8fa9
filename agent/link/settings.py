"""What the link checks messages against, taken from the config once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from agent.config.model import Config
from agent.link.errors import LinkConfigError
from agent.market.codec import CodecContext
from agent.market.intervals import Duration

# Long enough to ride out a weekend with the gateway unplugged; the broker drops the session
# (and the messages queued in it) after this.
SESSION_EXPIRY_S = 7 * 24 * 3600
HEARTBEAT_S = 30.0


@dataclass(frozen=True, slots=True)
class LinkSettings:
    tz: ZoneInfo
    currency: str
    price_min_per_kwh: Decimal
    price_max_per_kwh: Decimal
    home_party: str
    retailer_party: str
    max_tender_kw: Decimal
    # Transport tenders and transactions come from the retailer or this party.
    distribution_party: str = "dso"
    # Tenders shorter than the metering interval cannot be settled against it: refused.
    shortest: Duration = Duration.PT5M
    topic_prefix: str = "tem/retailer"
    qos: int = 1
    heartbeat_s: float = HEARTBEAT_S
    session_expiry_s: int = SESSION_EXPIRY_S

    def codec_context(self, now: datetime | None) -> CodecContext:
        return CodecContext(
            tz=self.tz,
            currency=self.currency,
            price_min_per_kwh=self.price_min_per_kwh,
            price_max_per_kwh=self.price_max_per_kwh,
            now=now,
            shortest=self.shortest,
        )

    @classmethod
    def from_config(cls, config: Config, *, heartbeat_s: float = HEARTBEAT_S) -> LinkSettings:
        if config.retailer is None:
            raise LinkConfigError("the config has no retailer section: the agent runs without a market")
        m = config.market
        return cls(
            tz=config.zone,
            currency=config.site.currency,
            price_min_per_kwh=Decimal(m.price_min_per_kwh),
            price_max_per_kwh=Decimal(m.price_max_per_kwh),
            home_party=config.party_id,
            retailer_party=m.retailer_party_id,
            max_tender_kw=Decimal(str(m.max_tender_kw)),
            distribution_party=m.distribution_party_id,
            shortest=config.metering_interval,
            topic_prefix=config.retailer.topic_prefix,
            # At-least-once is what the protocol needs (ids make repeats harmless); QoS 0 would
            # lose messages, so it is raised to 1.
            qos=max(1, config.retailer.qos),
            heartbeat_s=heartbeat_s,
        )
