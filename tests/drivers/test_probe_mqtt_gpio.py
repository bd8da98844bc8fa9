"""``hems probe`` across all three transports at once: a SunSpec inverter on pymodbus, a meter
publishing over a real Mosquitto, and a water-heater relay on gpiozero mock pins."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.cli import cmd_probe
from tests.drivers.modbus.conftest import sunspec_server
from tests.support.mosquitto import MosquittoBroker

SITE = "site:\n  id: home\n  timezone: Europe/Berlin\n  latitude: 52.52\n  longitude: 13.40\n"


def _config(tmp_path: Path, broker_port: int, inverter_port: int) -> Path:
    path = tmp_path / "hems.yaml"
    path.write_text(
        SITE
        + f"""
mqtt_brokers:
  local: {{host: 127.0.0.1, port: {broker_port}}}
devices:
  grid:
    role: meter
    driver: {{type: mqtt, broker: local, topic_map: tasmota_sml, base_topic: tele/meter, stale_after_s: 5}}
  pv:
    role: pv_inverter
    peak_kw: 8
    driver: {{type: modbus_tcp, host: 127.0.0.1, port: {inverter_port}, sunspec: true, timeout_s: 0.5}}
  boiler:
    role: water_heater
    tank_l: 200
    element_kw: 3.0
    driver: {{type: gpio_relay, pin: 17, min_on_s: 0, min_off_s: 0, window_s: 60}}
"""
    )
    return path


def _publish_meter_until(port: int, stop: threading.Event) -> None:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="fake-tasmota")
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = json.dumps({"SML": {"Total_in": 10234.5, "Total_out": 3210.0, "Power_curr": -1480}})
    try:
        while not stop.is_set():
            client.publish("tele/meter/SENSOR", payload, qos=1)
            stop.wait(0.2)
    finally:
        client.loop_stop()
        client.disconnect()


async def test_probe_reads_modbus_mqtt_and_gpio_devices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEMS_GPIO_PINS", "mock")
    inverter = sunspec_server()
    await inverter.start()
    stop = threading.Event()
    with MosquittoBroker(tmp_path / "broker") as broker:
        publisher = threading.Thread(target=_publish_meter_until, args=(broker.port, stop), daemon=True)
        publisher.start()
        try:
            out = io.StringIO()
            code = await cmd_probe.probe(str(_config(tmp_path, broker.port, inverter.port)), [], 5.0, out)
        finally:
            stop.set()
            await asyncio.to_thread(publisher.join, 5)
            await inverter.stop()
    text = out.getvalue()
    print(text)  # the probe's report as a user sees it (pytest -s shows it)
    assert code == 0, text
    assert "grid (mqtt): ok" in text
    assert "import_kwh" in text
    assert "10234.5 kWh" in text
    assert "-1480 W" in text
    assert "pv (modbus_tcp): ok" in text
    assert "103 (inverter_three_phase)" in text
    assert "boiler (gpio_relay): ok" in text
