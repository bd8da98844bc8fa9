"""The retailer link: tenders, transactions and spot prices in, acceptances, tenders,
cancellations, deliveries and a heartbeat out, over one persistent MQTT session.

See ``docs/retailer-link.md`` for the topics and messages. The control cycle uses
:class:`RetailerLink` (built with :func:`build_link`) and reads its :class:`TenderBook`.
"""

from agent.link.book import BookSnapshot, Offer, TenderBook
from agent.link.errors import (
    LinkConfigError,
    LinkError,
    LinkNotRunning,
    LinkRefused,
    LinkTimeout,
    OutboxConflict,
    OutboxError,
)
from agent.link.factory import build_link
from agent.link.link import RetailerLink
from agent.link.messages import Acceptance, Cancellation, ErrorReport, Heartbeat, LinkState
from agent.link.settings import LinkSettings
from agent.link.topics import Inbound, Outbound, Topics

__all__ = [
    "Acceptance",
    "BookSnapshot",
    "Cancellation",
    "ErrorReport",
    "Heartbeat",
    "Inbound",
    "LinkConfigError",
    "LinkError",
    "LinkNotRunning",
    "LinkRefused",
    "LinkSettings",
    "LinkState",
    "LinkTimeout",
    "Offer",
    "Outbound",
    "OutboxConflict",
    "OutboxError",
    "RetailerLink",
    "TenderBook",
    "Topics",
    "build_link",
]
