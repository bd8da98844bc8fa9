"""Building MQTT devices from configuration (the registry's ``mqtt`` type).

The broker connections are set up first, once per broker, in the shared
:class:`~drivers.base.LinkPool`::

    for name, broker in config.mqtt_brokers.items():
        add_broker(ctx.links, name, broker_settings_from_config(broker, client_id=..., prefix=...))
    device = registry.create("ev", config.devices["ev"].driver, ctx)

``create_device`` then finds the broker by the name in the device's ``driver.broker``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from drivers.base import DeviceContext, LinkPool
from drivers.errors import DriverConfigError
from drivers.mqtt.client import MqttClient
from drivers.mqtt.device import MqttDevice
from drivers.mqtt.settings import BrokerSettings
from drivers.mqtt.topicmap import load_map


class MqttDeviceSettings(BaseModel):
    """The ``driver:`` block of an MQTT device (mirrors ``agent.config.drivers.MqttDriver``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["mqtt"] = "mqtt"
    broker: str = Field(min_length=1)
    topic_map: str = Field(min_length=1)  # a built-in map name or a path to a YAML file
    base_topic: str = Field(min_length=1, pattern=r"^[^#+\s]+$")
    stale_after_s: float = Field(default=60.0, gt=0)


def broker_key(broker_name: str) -> str:
    return f"mqtt:{broker_name}"


def add_broker(links: LinkPool, broker_name: str, settings: BrokerSettings) -> MqttClient:
    """Register the connection to a named broker (the first call wins; it is not started yet)."""
    return links.get_or_create(
        broker_key(broker_name), MqttClient, lambda: MqttClient(settings, name=f"broker {broker_name}")
    )


def broker_settings_from_config(broker: Any, *, client_id: str, prefix: str) -> BrokerSettings:
    """Translate an ``agent.config`` ``MqttBroker`` entry into the client's settings."""
    tls = getattr(broker, "tls", None)
    password = getattr(broker, "password", None)
    if password is not None and hasattr(password, "get_secret_value"):
        password = password.get_secret_value()
    protocol = {"mqttv5": "5", "mqttv311": "3.1.1"}.get(str(getattr(broker, "protocol", "mqttv5")), "5")
    return BrokerSettings(
        host=broker.host,
        port=broker.port,
        client_id=client_id,
        username=getattr(broker, "username", None),
        password=password,
        tls=tls is not None,
        ca_file=getattr(tls, "ca_file", None),
        cert_file=getattr(tls, "cert_file", None),
        key_file=getattr(tls, "key_file", None),
        tls_insecure=bool(getattr(tls, "insecure", False)),
        protocol=protocol,
        keepalive_s=getattr(broker, "keepalive_s", 60),
        prefix=prefix,
    )


def create_device(name: str, settings: Any, ctx: DeviceContext) -> MqttDevice:
    """The registry factory: ``settings`` is an ``MqttDriver`` config block or an equivalent mapping."""
    if isinstance(settings, dict):
        settings = MqttDeviceSettings.model_validate(settings)
    broker_name: str = settings.broker

    def missing() -> MqttClient:
        raise DriverConfigError(
            f"broker {broker_name!r} is not set up (add it to mqtt_brokers)",
            device=name,
            field="driver.broker",
        )

    client = ctx.links.get_or_create(broker_key(broker_name), MqttClient, missing)
    return MqttDevice(
        name,
        load_map(settings.topic_map),
        settings.base_topic,
        client,
        ctx.clock,
        stale_after_s=float(settings.stale_after_s),
        limits=ctx.limits_for(name),
        driver="mqtt",
    )
