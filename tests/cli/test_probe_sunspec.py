"""``hems probe`` and ``hems check-config`` on SunSpec units that lack what their role needs, that
do not answer, and that count beyond six digits; each unit a real pymodbus server."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from agent.cli import cmd_probe
from agent.cli.main import main
from drivers.modbus.sunspec.image import ModelSpec, build_image
from tests.drivers.modbus.conftest import SilentBelowServer
from tests.support.modbus_server import FaultyRegisters, TcpTestServer

SITE = "site:\n  id: home\n  timezone: Europe/Berlin\n  latitude: 52.52\n  longitude: 13.40\n"
COMMON: ModelSpec = (1, {"Mn": "Acme", "Md": "Unit", "SN": "1"})
INVERTER: ModelSpec = (103, {"W": 2500.0, "W_SF": 0, "WH": 1_000_000.0, "WH_SF": 0})
STORAGE: ModelSpec = (124, {"WChaMax": 5000.0, "WChaMax_SF": 0, "ChaState": 40.0, "ChaState_SF": 0})
METER: ModelSpec = (
    203,
    {"W": 800.0, "W_SF": 0, "TotWhImp": 123_456_700.0, "TotWhExp": 52_000.0, "TotWh_SF": 0},
)


def _config(tmp_path: Path, devices: str) -> str:
    path = tmp_path / "hems.yaml"
    path.write_text(SITE + "devices:\n" + devices)
    return str(path)


def _device(name: str, role: str, port: int, extra: str = "") -> str:
    driver = f"{{type: modbus_tcp, host: 127.0.0.1, port: {port}, sunspec: true, timeout_s: 0.5}}"
    return f"  {name}:\n    role: {role}\n{extra}    driver: {driver}\n"


BATTERY_SETTINGS = "    capacity_kwh: 10\n    charge_max_kw: 5\n    discharge_max_kw: 5\n"


async def _probe(
    tmp_path: Path, models: Sequence[ModelSpec], devices: Callable[[int], str]
) -> tuple[int, str]:
    regs = FaultyRegisters()
    regs.load(40000, build_image(models))
    server = TcpTestServer({1: regs})
    await server.start()
    try:
        out = io.StringIO()
        code = await cmd_probe.probe(_config(tmp_path, devices(server.port)), [], 1.0, out)
    finally:
        await server.stop()
    return code, out.getvalue()


async def test_battery_role_without_model_802_fails_saying_what_is_missing(tmp_path: Path) -> None:
    # It was reported "ok", with no battery capability, and the agent ran without one.
    code, text = await _probe(
        tmp_path,
        [COMMON, INVERTER, STORAGE, METER],
        lambda port: _device("grid", "meter", port) + _device("store", "battery", port, BATTERY_SETTINGS),
    )
    assert code == 1, text
    assert "grid (modbus_tcp): ok" in text
    assert "store (modbus_tcp): FAILED" in text
    assert (
        "error: role battery needs capability battery: storage model 124 and battery model 802; "
        "the unit has models 1, 103, 124, 203"
    ) in text


async def test_pv_inverter_with_only_der_models_fails_saying_so(tmp_path: Path) -> None:
    code, text = await _probe(
        tmp_path,
        [COMMON, (701, {}), (702, {}), METER],
        lambda port: _device("pv", "pv_inverter", port, "    peak_kw: 8\n") + _device("grid", "meter", port),
    )
    assert code == 1, text
    assert "pv (modbus_tcp): FAILED" in text
    assert (
        "error: role pv_inverter needs capability pv_inverter: an inverter model (101-103 or 111-113); "
        "the unit has models 1, 203, 701, 702 (DER models 7xx are not read by this driver)"
    ) in text


async def test_values_print_with_their_last_digit(tmp_path: Path) -> None:
    # 6 significant digits printed 123456.7 kWh as 123457.
    code, text = await _probe(tmp_path, [COMMON, METER], lambda port: _device("grid", "meter", port))
    assert code == 0, text
    assert "123456.7 kWh" in text
    assert "52 kWh" in text


async def test_a_silent_device_is_reported_with_the_real_timeout(tmp_path: Path) -> None:
    # A DeviceTimeout after 0.5 s was printed as "no answer within 6 s" (the probe's own limit).
    server = SilentBelowServer(FaultyRegisters(), silent_below=65536)
    await server.start()
    try:
        out = io.StringIO()
        path = _config(tmp_path, _device("grid", "meter", server.port))
        code = await cmd_probe.probe(path, [], 1.0, out)
    finally:
        await server.stop()
    text = out.getvalue()
    assert code == 1, text
    assert "error: DeviceTimeout: no SunSpec marker 'SunS' at 40000, 0, 50000" in text
    assert "no answer within 0.5 s" in text
    assert "within 6 s" not in text  # the probe's own limit (wait 1 s + 5 s)


def test_check_config_says_what_a_sunspec_role_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(
        tmp_path,
        _device("grid", "meter", 502, "")
        + _device("store", "battery", 502, BATTERY_SETTINGS).replace(
            "sunspec: true,", "sunspec: true, sunspec_instances: {203: 2},"
        )
        + _device("boiler", "water_heater", 502, "    tank_l: 200\n    element_kw: 3\n")
        + _device("pv", "pv_inverter", 502, "    peak_kw: 8\n").replace(
            "sunspec: true,", "register_map: huawei_sun2000, sunspec_instances: {103: 1},"
        ),
    )
    assert main(["check-config", path]) == 2
    out = capsys.readouterr().out
    assert (
        "devices.store.driver.sunspec_instances['203']: a battery does not read SunSpec model 203; "
        "it needs battery from storage model 124 and battery model 802"
    ) in out
    assert (
        "devices.boiler.driver.sunspec: a SunSpec unit cannot serve role 'water_heater'; "
        "it serves the roles meter, pv_inverter, battery"
    ) in out
    assert "devices.pv.driver.sunspec_instances: is only allowed with 'sunspec: true'" in out
    assert "devices.grid" not in out
