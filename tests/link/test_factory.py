"""Building the link from a real config file: its own client id, topics and outbox file."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.clock import ScaledClock
from agent.config import load_config
from agent.ledger import Ledger
from agent.link import LinkConfigError, build_link
from agent.link.factory import link_client_id
from tests.link import helpers as h

CONFIG = """
site: {{id: home-1, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4}}
state_dir: {state}
market: {{retailer_party_id: retailer, max_tender_kw: 7}}
mqtt_brokers:
  local: {{host: 127.0.0.1, port: 1883, username: hems, password: secret}}
retailer: {{broker: local, topic_prefix: tem/retailer, qos: 0}}
devices:
  grid: {{role: meter, driver: {{type: simulated}}}}
"""


def test_build_link_from_config(tmp_path: Path) -> None:
    path = tmp_path / "hems.yaml"
    path.write_text(CONFIG.format(state=tmp_path / "state"))
    config = load_config(path)
    clock = ScaledClock(h.START)
    with Ledger.open(config.state_dir, config.zone, home_party=config.party_id, clock=clock) as ledger:
        link = build_link(config, ledger, clock)
        try:
            assert link.client.settings.client_id == link_client_id(config) == "hems-home-1-local-retailer"
            assert link.client.settings.username == "hems" and link.client.settings.password == "secret"
            assert link.client.session_expiry_s is not None
            assert link.client.settings.availability_topic == "tem/retailer/home-1/from-home/status"
            assert link.settings.qos == 1  # QoS 0 would lose messages: raised to at-least-once
            assert str(link.settings.max_tender_kw) == "7.0"
            assert link.outbox.path == tmp_path / "state" / "link.sqlite3"
        finally:
            link.outbox.close()


def test_config_without_retailer_is_a_link_config_error(tmp_path: Path) -> None:
    path = tmp_path / "hems.yaml"
    text = CONFIG.format(state=tmp_path / "state").replace("retailer: {broker", "# retailer: {broker")
    path.write_text(text)
    config = load_config(path)
    with (
        Ledger.open(config.state_dir, config.zone, clock=ScaledClock(h.START)) as ledger,
        pytest.raises(LinkConfigError),
    ):
        build_link(config, ledger, ScaledClock(h.START))
