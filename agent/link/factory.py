"""Building the retailer link from the config: its own MQTT connection with a persistent session.

The link never shares the devices' connection to the same broker: it needs a persistent session
and manual acknowledgements, the devices want neither. Its client id is the broker's client id
with ``-retailer`` appended, stable across restarts so the broker finds the session again.
"""

from __future__ import annotations

from agent.clock import Clock
from agent.config.model import Config
from agent.ledger import Ledger
from agent.link.errors import LinkConfigError
from agent.link.link import RetailerLink
from agent.link.outbox import Outbox
from agent.link.settings import HEARTBEAT_S, LinkSettings
from agent.link.topics import Topics
from drivers.errors import DriverConfigError
from drivers.mqtt.client import MqttClient
from drivers.mqtt.factory import broker_settings_from_config


def link_client_id(config: Config) -> str:
    assert config.retailer is not None
    return f"{config.broker_client_id(config.retailer.broker)}-retailer"


def build_link(
    config: Config,
    ledger: Ledger,
    clock: Clock,
    *,
    heartbeat_s: float = HEARTBEAT_S,
    client: MqttClient | None = None,
) -> RetailerLink:
    """The link, not yet started; opens (creates) ``link.sqlite3`` in the state directory.

    ``client``: a connection made by the caller (a simulation's in-process bus) instead of one
    to the configured broker.
    """
    settings = LinkSettings.from_config(config, heartbeat_s=heartbeat_s)
    assert config.retailer is not None
    broker = config.mqtt_brokers.get(config.retailer.broker)
    if broker is None:
        raise LinkConfigError(f"retailer.broker: no broker named {config.retailer.broker!r} in mqtt_brokers")
    topics = Topics(settings.topic_prefix, settings.home_party)
    try:
        broker_settings = broker_settings_from_config(
            broker, client_id=link_client_id(config), prefix=topics.outbound_base
        )
    except (DriverConfigError, ValueError) as e:
        raise LinkConfigError(f"retailer.broker: {e}") from e
    if client is None:
        client = MqttClient(broker_settings, name="retailer link", session_expiry_s=settings.session_expiry_s)
    outbox = Outbox.open(config.state_dir)
    return RetailerLink(settings=settings, client=client, outbox=outbox, ledger=ledger, clock=clock)
