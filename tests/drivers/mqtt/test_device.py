"""The generic topic-map device against a real Mosquitto, with a device emulated by a second client.

Time for staleness comes from a ManualClock, so "too old" is decided by the test, not by sleeps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.clock import ManualClock
from drivers.base import (
    BidirectionalCharger,
    DeviceContext,
    DeviceLimits,
    HealthState,
    LinkPool,
    MeteredElement,
    ModeSwitching,
    ThermostatMode,
    VehicleSoc,
)
from drivers.errors import DeviceUnavailable, DriverConfigError, StaleValue, WriteVerifyError
from drivers.mqtt.client import Message, MqttClient
from drivers.mqtt.device import MqttDevice
from drivers.mqtt.factory import MqttDeviceSettings, add_broker, create_device
from drivers.mqtt.settings import BrokerSettings
from drivers.mqtt.topicmap import MAPS_DIR, load_map
from tests.drivers.mqtt.conftest import ClientFactory
from tests.drivers.mqtt.test_client import until
from tests.support.mosquitto import MosquittoBroker

CONNECT_S = 5.0
# The site's limits (from the device's role config): narrower than what the maps allow.
LIMITS = DeviceLimits(setpoint_c=(10.0, 26.0), ev_current_a=(6.0, 20.0))
SENSOR = "tele/meter/SENSOR"


def sml(import_kwh: Any, export_kwh: Any = 1.5, power_w: Any = 420) -> bytes:
    return json.dumps({"Time": "2026-01-01T00:00:00", "SML": {
        "Total_in": import_kwh, "Total_out": export_kwh, "Power_curr": power_w}}).encode()  # fmt: skip


# The emulators answer a command from a paho callback with a publish task; the loop keeps only a
# weak reference to a task, so one that nothing else holds may be collected before it runs.
_ANSWERS: set[asyncio.Task[None]] = set()


def answer(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _ANSWERS.add(task)
    task.add_done_callback(_ANSWERS.discard)


def state_of(dev: MqttDevice) -> HealthState:
    # A call, not an attribute: the state changes between asserts, which mypy cannot know.
    return dev.health.state


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
async def emulator(make_client: ClientFactory) -> MqttClient:
    """The device side: publishes states, answers commands."""
    c = make_client(prefix="emulator")
    await c.start()
    await c.wait_connected(CONNECT_S)
    return c


@pytest.fixture
async def make_device(
    make_client: ClientFactory, clock: ManualClock
) -> AsyncIterator[Callable[..., Awaitable[MqttDevice]]]:
    made: list[MqttDevice] = []

    async def make(
        map_name: str | Path, base: str, stale_after_s: float = 30.0, limits: DeviceLimits = LIMITS
    ) -> MqttDevice:
        client = make_client(prefix="hems")
        dev = MqttDevice(
            "dev", load_map(map_name), base, client, clock, stale_after_s=stale_after_s, limits=limits
        )
        # Connected first, so start() waits for the SUBACKs and no test message can be missed.
        await client.start()
        await client.wait_connected(CONNECT_S)
        await dev.start()
        made.append(dev)
        return dev

    yield make
    for d in made:
        await d.stop()


async def test_meter_values_decoded_with_units_and_source(make_device: Any, emulator: MqttClient) -> None:
    dev = await make_device("tasmota_sml", "tele/meter")
    meter = dev.capabilities.energy_meter
    assert meter is not None
    await emulator.publish(SENSOR, sml(1234.5, 12.25, -310))
    await until(lambda: dev.report().values.get("power_w") is not None)
    assert meter.import_kwh().value == 1234.5
    assert meter.export_kwh().value == 12.25
    assert meter.power_w().value == -310.0  # export, signed as the meter says (agent/units.py)
    assert meter.power_w().unit == "W"
    assert meter.power_w().source == f"mqtt:{SENSOR}"
    await dev.refresh()
    assert state_of(dev) is HealthState.OK


async def test_value_older_than_its_limit_is_stale_not_a_number(
    make_device: Any, emulator: MqttClient, clock: ManualClock
) -> None:
    dev = await make_device("tasmota_sml", "tele/meter", stale_after_s=30)
    with pytest.raises(StaleValue, match="not been received"):
        await dev.refresh()
    await emulator.publish(SENSOR, sml(100.0))
    await until(lambda: "import_kwh" in dev.report().values)
    clock.advance(29)
    await dev.refresh()
    clock.advance(2)
    meter = dev.capabilities.energy_meter
    assert meter is not None
    with pytest.raises(StaleValue, match=r"import_kwh is 31\.0 s old"):
        meter.import_kwh()
    with pytest.raises(StaleValue):
        await dev.refresh()
    assert state_of(dev) is HealthState.STALE
    await emulator.publish(SENSOR, sml(100.5))
    await until(lambda: "import_kwh" in dev.report().values)
    await dev.refresh()
    assert meter.import_kwh().value == 100.5
    assert state_of(dev) is HealthState.OK


async def test_nothing_received_yet_is_unknown_then_stale_after_one_period(
    make_device: Any, clock: ManualClock
) -> None:
    # Guards against a warning for every device at start-up, before any value could arrive.
    dev = await make_device("tasmota_sml", "tele/meter", stale_after_s=30)
    with pytest.raises(StaleValue):
        await dev.refresh()
    assert state_of(dev) is HealthState.UNKNOWN
    clock.advance(31)
    with pytest.raises(StaleValue, match="not been received"):
        await dev.refresh()
    assert state_of(dev) is HealthState.STALE


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"SML": {"Total_in": 5', "malformed JSON"),
        (b'{"SML": {"Total_in": NaN, "Total_out": 1, "Power_curr": 1}}', "NaN is not a number"),
        (b'{"SML": {"Total_in": "12", "Total_out": 1, "Power_curr": 1}}', "expected a number"),
        (b'{"SML": {"Total_in": -4, "Total_out": 1, "Power_curr": 1}}', "below the plausible minimum"),
        (b'{"SML": {"Total_in": 1e400, "Total_out": 1, "Power_curr": 1}}', "not a finite number"),
        (b'{"SML": {"Total_out": 1, "Power_curr": 1}}', "no key 'Total_in'"),
        (b"\xff\xfe garbage", "not UTF-8"),
    ],
)
async def test_bad_payload_is_a_counted_protocol_error_and_keeps_the_old_value(
    make_device: Any, emulator: MqttClient, clock: ManualClock, payload: bytes, reason: str
) -> None:
    dev = await make_device("tasmota_sml", "tele/meter")
    await emulator.publish(SENSOR, sml(77.0))
    await until(lambda: "import_kwh" in dev.report().values)
    first = dev.reading("import_kwh")
    clock.advance(5)
    await emulator.publish(SENSOR, payload)
    await until(lambda: dev.payload_errors > 0)
    # The bad message did not replace the value nor make it look younger.
    assert dev.reading("import_kwh") == first
    assert state_of(dev) is HealthState.FAULT
    snap = dev.health.snapshot()
    assert snap.last_error is not None
    assert "PayloadError" in snap.last_error
    # The health's error names the value and says what was wrong with the message.
    assert "import_kwh" in snap.last_error
    assert reason in snap.last_error
    # Once the kept value has gone stale, the report says why the last message was refused.
    assert "import_kwh" not in dev.report().errors
    clock.advance(30)
    assert reason in dev.report().errors["import_kwh"]
    # Recovery: the next good message is taken and the device is healthy again. (Wait for it
    # through the report: reading the stale value before the message came would raise.)
    await emulator.publish(SENSOR, sml(78.0))
    await until(lambda: "import_kwh" in dev.report().values)
    assert dev.reading("import_kwh").value == 78.0
    await dev.refresh()
    assert state_of(dev) is HealthState.OK


async def test_retained_state_is_not_taken_as_current(make_client: ClientFactory, clock: ManualClock) -> None:
    # Guards against a dead device's retained message passing as a fresh reading after subscribe.
    pub = make_client(prefix="old")
    await pub.start()
    await pub.wait_connected(CONNECT_S)
    await pub.publish(SENSOR, sml(5.0), retain=True)
    client = make_client(prefix="hems")
    dev = MqttDevice("m", load_map("tasmota_sml"), "tele/meter", client, clock)
    await client.start()
    await client.wait_connected(CONNECT_S)
    await dev.start()
    await until(lambda: "retained" in dev.report().errors.get("import_kwh", ""))
    with pytest.raises(StaleValue):
        dev.reading("import_kwh")
    await pub.publish(SENSOR, sml(6.0))  # a live message is current
    await until(lambda: "import_kwh" in dev.report().values)
    assert dev.reading("import_kwh").value == 6.0
    await dev.stop()


async def test_device_saying_offline_makes_values_stale_at_once(
    make_device: Any, emulator: MqttClient
) -> None:
    dev = await make_device("tasmota_sml", "tele/meter")
    await emulator.publish(SENSOR, sml(10.0))
    await until(lambda: "import_kwh" in dev.report().values)
    await emulator.publish("tele/meter/LWT", b"Offline")
    await until(lambda: "import_kwh" not in dev.report().values)
    with pytest.raises(StaleValue, match="offline"):
        dev.reading("power_w")
    await emulator.publish("tele/meter/LWT", b"Online")
    await emulator.publish(SENSOR, sml(11.0))
    await until(lambda: "import_kwh" in dev.report().values)
    assert dev.reading("import_kwh").value == 11.0


async def test_broker_restart_mid_run_stale_in_between_then_values_resume(
    make_device: Any, emulator: MqttClient, broker: MosquittoBroker, clock: ManualClock
) -> None:
    dev = await make_device("tasmota_sml", "tele/meter", stale_after_s=10)
    await emulator.publish(SENSOR, sml(50.0))
    await until(lambda: "import_kwh" in dev.report().values)
    await asyncio.to_thread(broker.stop)
    await until(lambda: not dev.client.connected)
    clock.advance(11)
    with pytest.raises(StaleValue, match="broker disconnected"):
        await dev.refresh()
    await asyncio.to_thread(broker.start)
    await dev.client.wait_connected(10)
    await emulator.wait_connected(10)

    async def publish_until_seen() -> None:
        # The device's resubscribe races the emulator's first publish after the restart.
        while "import_kwh" not in dev.report().values:
            await emulator.publish(SENSOR, sml(51.0), qos=0)
            await asyncio.sleep(0.1)

    await asyncio.wait_for(publish_until_seen(), 10)
    await dev.refresh()
    assert dev.reading("import_kwh").value == 51.0
    assert state_of(dev) is HealthState.OK


# -- writes ------------------------------------------------------------------------------------

Z2M = "zigbee2mqtt/living_trv"


async def trv_emulator(emulator: MqttClient, *, obey: bool, state: dict[str, Any]) -> list[bytes]:
    """A Zigbee2MQTT TRV: publishes its state; on /set, applies the setpoint if ``obey``."""
    commands: list[bytes] = []

    def on_set(msg: Message) -> None:
        commands.append(msg.payload)
        if obey:
            state.update(json.loads(msg.payload))
        answer(emulator.publish(Z2M, json.dumps(state)))

    await emulator.subscribe(f"{Z2M}/set", on_set)
    return commands


async def test_thermostat_setpoint_write_is_confirmed_by_readback(
    make_device: Any, emulator: MqttClient
) -> None:
    state = {"local_temperature": 19.5, "occupied_heating_setpoint": 20, "system_mode": "heat"}
    commands = await trv_emulator(emulator, obey=True, state=state)
    dev = await make_device("zigbee2mqtt_thermostat", Z2M)
    await emulator.publish(Z2M, json.dumps(state))
    thermostat = dev.capabilities.thermostat
    assert thermostat is not None
    await until(lambda: "mode" in dev.report().values)
    assert thermostat.mode().value == "heat"
    await thermostat.set_setpoint_c(21.5)
    assert json.loads(commands[-1]) == {"occupied_heating_setpoint": 21.5}
    assert thermostat.setpoint_c().value == 21.5


async def test_thermostat_mode_write_switches_heating_to_cooling(
    make_device: Any, emulator: MqttClient
) -> None:
    state = {"local_temperature": 25.5, "occupied_heating_setpoint": 21, "system_mode": "heat"}
    commands = await trv_emulator(emulator, obey=True, state=state)
    dev = await make_device("zigbee2mqtt_thermostat", Z2M)
    await emulator.publish(Z2M, json.dumps(state))
    thermostat = dev.capabilities.thermostat
    assert isinstance(thermostat, ModeSwitching)
    await until(lambda: "mode" in dev.report().values)
    assert thermostat.mode().value == "heat"
    await thermostat.set_mode(ThermostatMode.COOL)
    assert json.loads(commands[-1]) == {"system_mode": "cool"}
    assert thermostat.mode().value == ThermostatMode.COOL


async def test_write_outside_the_map_limits_is_refused_and_nothing_is_sent(
    make_device: Any, emulator: MqttClient
) -> None:
    commands = await trv_emulator(emulator, obey=True, state={})
    dev = await make_device("zigbee2mqtt_thermostat", Z2M)
    thermostat = dev.capabilities.thermostat
    assert thermostat is not None
    # 35 and 4 are outside the map's range, 27 only outside the site's configured one.
    for bad in (35.0, 4.0, 27.0, float("nan")):
        with pytest.raises(DriverConfigError, match=r"writes\.setpoint_c"):
            await thermostat.set_setpoint_c(bad)
    unlimited = await make_device("zigbee2mqtt_thermostat", Z2M, limits=DeviceLimits())
    assert unlimited.capabilities.thermostat is not None
    with pytest.raises(DriverConfigError, match="no configured limit"):
        await unlimited.capabilities.thermostat.set_setpoint_c(20.0)
    await emulator.publish(Z2M, b"{}")  # a marker: the broker delivers in order
    await asyncio.sleep(0.2)
    assert commands == []


async def test_write_that_does_not_stick_raises_write_verify_error(
    make_device: Any, emulator: MqttClient, tmp_path: Path
) -> None:
    raw = yaml.safe_load((MAPS_DIR / "zigbee2mqtt_thermostat.yaml").read_text())
    raw["writes"]["setpoint_c"]["verify"]["timeout_s"] = 0.5
    fast = tmp_path / "trv_fast.yaml"
    fast.write_text(yaml.safe_dump(raw))
    state = {"local_temperature": 19.5, "occupied_heating_setpoint": 20, "system_mode": "heat"}
    commands = await trv_emulator(emulator, obey=False, state=state)
    dev = await make_device(fast, Z2M)
    thermostat = dev.capabilities.thermostat
    assert thermostat is not None
    with pytest.raises(WriteVerifyError) as info:
        await thermostat.set_setpoint_c(22.0)
    assert info.value.wanted == 22.0
    assert info.value.got == 20.0  # the device answered, with its old setpoint
    assert len(commands) == 1
    assert state_of(dev) is HealthState.FAULT


OEVSE = "openevse-55ad"


async def openevse_emulator(emulator: MqttClient, state: dict[str, Any]) -> list[bytes]:
    """Enough of OpenEVSE's MQTT claims API: claim/set → pilot and claim echo; release."""
    commands: list[bytes] = []

    async def publish_status() -> None:
        for key in ("vehicle", "state", "power", "pilot", "session_energy", "vehicle_soc"):
            await emulator.publish(f"{OEVSE}/{key}", str(state[key]))
        await emulator.publish(f"{OEVSE}/claim", json.dumps(state["claim"]), retain=True)

    def on_claim(msg: Message) -> None:
        commands.append(msg.payload)
        if msg.payload == b"release":
            state["claim"] = {"state": "null"}
        else:
            claim = json.loads(msg.payload)
            state["claim"] = claim
            if claim.get("state") == "disabled":
                state["state"] = 254
            else:
                state["pilot"] = claim["charge_current"]
                state["state"] = 3
        answer(publish_status())

    await emulator.subscribe(f"{OEVSE}/claim/set", on_claim)
    state["publish"] = publish_status
    return commands


async def test_openevse_current_limit_pause_and_release_on_stop(
    make_device: Any, emulator: MqttClient
) -> None:
    state: dict[str, Any] = {"vehicle": 1, "state": 2, "power": 0, "pilot": 32, "session_energy": 1500,
                             "vehicle_soc": 41, "claim": {"state": "null"}}  # fmt: skip
    commands = await openevse_emulator(emulator, state)
    dev = await make_device("openevse", OEVSE)
    await state["publish"]()
    charger = dev.capabilities.ev_charger
    assert charger is not None
    await until(lambda: "session_kwh" in dev.report().values)
    assert charger.plugged().value is True
    assert charger.charging().value is False
    assert charger.session_kwh().value == 1.5
    soc: object = charger
    assert isinstance(soc, VehicleSoc)
    assert soc.vehicle_soc_pct().value == 41.0

    await charger.set_current_limit_a(16.9)  # rounded down: never above what was asked
    assert json.loads(commands[-1]) == {"state": "active", "charge_current": 16}
    assert charger.current_limit_a().value == 16.0
    assert charger.charging().value is True

    await charger.set_current_limit_a(0)
    assert json.loads(commands[-1]) == {"state": "disabled"}
    with pytest.raises(DriverConfigError):
        await charger.set_current_limit_a(3)  # between 0 and the J1772 minimum of 6 A
    with pytest.raises(DriverConfigError):
        await charger.set_current_limit_a(24)  # the map allows 32 A, this site's circuit 20 A

    await dev.stop()
    # stop() returns once the broker has the release (PUBACK); the emulator gets it later.
    await until(lambda: len(commands) == 3)
    assert commands[-1] == b"release"


async def test_shelly_water_heater_on_off_with_readback_and_off_on_stop(
    make_device: Any, emulator: MqttClient
) -> None:
    base = "shellyplus1pm-a8032ab12345"
    commands: list[bytes] = []
    calls: list[dict[str, Any]] = []

    def on_rpc(msg: Message) -> None:
        call = json.loads(msg.payload)
        calls.append(call)
        on = call["params"]["on"]
        status = {"id": 0, "output": on, "apower": 2000.0 if on else 0.0}
        answer(emulator.publish(f"{base}/status/switch:0", json.dumps(status)))

    await emulator.subscribe(f"{base}/command/switch:0", lambda msg: commands.append(msg.payload))
    await emulator.subscribe(f"{base}/rpc", on_rpc)
    dev = await make_device("shelly_water_heater", base)
    heater = dev.capabilities.water_heater
    assert heater is not None
    await emulator.publish(f"{base}/status/temperature:100", b'{"id": 100, "tC": 48.3, "tF": 118.9}')
    await heater.set_element_on(True)
    # Switch.Set with a flip-back timer: an agent that goes quiet leaves the element on 600 s at most
    assert [c["method"] for c in calls] == ["Switch.Set"]
    assert calls[0]["params"] == {"id": 0, "on": True, "toggle_after": 600}
    assert heater.element_on().value is True
    assert heater.tank_c().value == 48.3
    # A DS18B20 that lost contact reads 85 °C: implausible, refused, old value kept.
    await emulator.publish(f"{base}/status/temperature:100", b'{"id": 100, "tC": 85.0}')
    await until(lambda: dev.payload_errors == 1)
    assert heater.tank_c().value == 48.3
    # The switch meters its output: the agent can take the element out of the base load.
    metered = heater
    assert isinstance(metered, MeteredElement)
    assert metered.element_power_w().value == 2000.0
    # Its last will says it is gone: a write fails at once, naming the device, and sends nothing
    # (waiting for a read-back that cannot come would hold every other device's dispatch).
    await emulator.publish(f"{base}/online", b"false")
    await until(lambda: "tank_c" not in dev.report().values)
    started = asyncio.get_running_loop().time()
    with pytest.raises(DeviceUnavailable, match="offline"):
        await heater.set_element_on(False)
    assert asyncio.get_running_loop().time() - started < 0.5
    assert len(calls) == 1 and commands == []
    await emulator.publish(f"{base}/online", b"true")
    await emulator.publish(f"{base}/status/temperature:100", b'{"id": 100, "tC": 48.0}')
    await until(lambda: "tank_c" in dev.report().values)
    await dev.stop()
    # Guards a race in this test: stop() returns once the broker has the "off" (PUBACK), and the
    # emulator's copy arrives later; indexing the list before it came raised IndexError.
    await until(lambda: len(commands) == 1)
    assert commands == [b"off"]


EVEREST = "everest_api/evse_manager"
# The site's V2G limit: 10 A per phase out of the car; charging 6..16 A.
V2G_LIMITS = DeviceLimits(ev_current_a=(6.0, 16.0), ev_discharge_current_a=10.0)


async def everest_emulator(emulator: MqttClient, state: dict[str, Any]) -> list[bytes]:
    """Enough of EVerest's MQTT API: set_limit_amps (signed) -> var/limits, session_info, ev_info."""
    commands: list[bytes] = []

    async def publish_state() -> None:
        limit_a = state["limit_a"]
        session = {
            "state": "Charging" if limit_a else "ChargingPausedEVSE",
            "latest_total_w": limit_a * 690.0,
            "charged_energy_wh": 4200,
            "discharged_energy_wh": 1300,
        }
        await emulator.publish(f"{EVEREST}/var/session_info", json.dumps(session))
        limits = {"max_current": limit_a, "nr_of_phases_available": 3, "uuid": "evse_manager"}
        await emulator.publish(f"{EVEREST}/var/limits", json.dumps(limits))
        await emulator.publish(f"{EVEREST}/var/ev_info", json.dumps({"soc": state["soc"]}))

    def on_limit(msg: Message) -> None:
        commands.append(msg.payload)
        state["limit_a"] = float(msg.payload)
        answer(publish_state())

    await emulator.subscribe(f"{EVEREST}/cmd/set_limit_amps", on_limit)
    state["publish"] = publish_state
    return commands


async def test_everest_charger_discharges_within_the_v2g_limit_and_reads_it_back(
    make_device: Any, emulator: MqttClient
) -> None:
    state: dict[str, Any] = {"limit_a": 0.0, "soc": 64.5}
    commands = await everest_emulator(emulator, state)
    dev = await make_device("everest_bidirectional", EVEREST, limits=V2G_LIMITS)
    await state["publish"]()
    charger = dev.capabilities.ev_charger
    assert charger is not None
    bidi: object = charger  # the optional capabilities are found with isinstance, as dispatch does
    assert isinstance(bidi, BidirectionalCharger)
    soc: object = charger
    assert isinstance(soc, VehicleSoc)
    await until(lambda: "vehicle_soc_pct" in dev.report().values)
    assert soc.vehicle_soc_pct().value == 64.5
    assert charger.plugged().value is True

    await bidi.set_signed_current_a(-7.5)
    assert commands == [b"-7.5"]  # EVerest: a negative limit is an export (discharge) limit
    assert charger.current_limit_a().value == -7.5
    assert charger.power_w().value == -7.5 * 690.0
    assert charger.charging().value is True

    # Beyond the site's V2G limit, or a discharge through the charge-only write: nothing sent.
    with pytest.raises(DriverConfigError, match=r"writes\.discharge_current_a"):
        await bidi.set_signed_current_a(-10.5)
    with pytest.raises(DriverConfigError, match=r"writes\.current_limit_a"):
        await charger.set_current_limit_a(-5.0)
    # Charging and pausing go through the charge limit, as on any charger.
    await bidi.set_signed_current_a(12.0)
    await bidi.set_signed_current_a(0.0)
    assert commands == [b"-7.5", b"12.0", b"0"]
    assert charger.current_limit_a().value == 0.0
    assert charger.session_kwh().value == 4.2


async def test_everest_charger_without_a_configured_v2g_limit_never_discharges(
    make_device: Any, emulator: MqttClient
) -> None:
    state: dict[str, Any] = {"limit_a": 0.0, "soc": 64.5}
    commands = await everest_emulator(emulator, state)
    dev = await make_device("everest_bidirectional", EVEREST)  # LIMITS: no ev_discharge_current_a
    bidi: object = dev.capabilities.ev_charger
    assert isinstance(bidi, BidirectionalCharger)
    with pytest.raises(DriverConfigError, match="no configured V2G limit"):
        await bidi.set_signed_current_a(-5.0)
    await emulator.publish(f"{EVEREST}/var/ev_info", b'{"soc": 1}')  # a marker: delivered in order
    await until(lambda: "vehicle_soc_pct" in dev.report().values)
    assert commands == []
    # A charge-only charger does not offer the capability at all.
    openevse = await make_device("openevse", OEVSE, limits=V2G_LIMITS)
    assert not isinstance(openevse.capabilities.ev_charger, BidirectionalCharger)


# -- factory -----------------------------------------------------------------------------------


async def test_factory_builds_devices_on_a_shared_named_broker(
    broker: MosquittoBroker, clock: ManualClock
) -> None:
    links = LinkPool()
    add_broker(links, "home", BrokerSettings(host=broker.host, port=broker.port))
    ctx = DeviceContext(clock=clock, links=links)
    a = create_device(
        "meter", MqttDeviceSettings(broker="home", topic_map="tasmota_sml", base_topic="tele/m"), ctx
    )
    b = create_device(
        "ev", {"type": "mqtt", "broker": "home", "topic_map": "openevse", "base_topic": "oe"}, ctx
    )
    assert a.client is b.client
    assert links.keys() == ("mqtt:home",)
    with pytest.raises(DriverConfigError, match="broker 'away' is not set up"):
        create_device("x", MqttDeviceSettings(broker="away", topic_map="openevse", base_topic="oe"), ctx)
    with pytest.raises(DriverConfigError, match="unknown topic map 'nope'"):
        create_device("x", MqttDeviceSettings(broker="home", topic_map="nope", base_topic="oe"), ctx)
    await links.close_all()
