"""``hems probe`` against a real pymodbus SunSpec server and a register-map meter."""

import asyncio
import io
from pathlib import Path

import pytest

from agent.cli import cmd_probe
from agent.cli.main import main
from drivers.modbus.regmap import load_map
from tests.drivers.modbus.conftest import sunspec_server
from tests.drivers.modbus.test_map_device import METER_VALUES, fill
from tests.support.modbus_server import FaultyRegisters, TcpTestServer

SITE = "site:\n  id: home\n  timezone: Europe/Berlin\n  latitude: 52.52\n  longitude: 13.40\n"


def _config(tmp_path: Path, inverter_port: int, meter_port: int) -> Path:
    text = (
        SITE
        + f"""
devices:
  pv:
    role: pv_inverter
    peak_kw: 8
    driver: {{type: modbus_tcp, host: 127.0.0.1, port: {inverter_port}, sunspec: true, timeout_s: 0.5}}
  grid:
    role: meter
    driver: {{type: modbus_tcp, host: 127.0.0.1, port: {meter_port}, unit_id: 1,
              register_map: eastron_sdm630, timeout_s: 0.5}}
"""
    )
    path = tmp_path / "hems.yaml"
    path.write_text(text)
    return path


async def test_probe_prints_models_values_and_health(tmp_path: Path) -> None:
    inverter = sunspec_server()
    regs = FaultyRegisters()
    fill(regs, load_map("eastron_sdm630"), METER_VALUES)
    meter = TcpTestServer({1: regs})
    await inverter.start()
    await meter.start()
    try:
        out = io.StringIO()
        code = await cmd_probe.probe(str(_config(tmp_path, inverter.port, meter.port)), [], 2.0, out)
        text = out.getvalue()
        assert code == 0, text
        assert "pv (modbus_tcp): ok" in text
        assert "sunspec_models: 1 (common), 103 (inverter_three_phase)" in text
        assert "pv_power_w" in text and "5700 W" in text
        assert "grid (modbus_tcp): ok" in text
        assert "import_kwh" in text and "10234.5 kWh" in text
        assert "health: ok" in text
        # One device gone: exit 1, and the report says why.
        await meter.stop()
        out = io.StringIO()
        code = await cmd_probe.probe(str(_config(tmp_path, inverter.port, meter.port)), ["grid"], 1.0, out)
        assert code == 1
        assert "grid (modbus_tcp): FAILED" in out.getvalue()
        assert "DeviceUnavailable" in out.getvalue()
    finally:
        await inverter.stop()
        await meter.stop()


def test_probe_config_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SITE + "devices:\n  grid:\n    role: meter\n    driver: {type: modbus_tcp}\n")
    assert main(["probe", "--config", str(bad)]) == 2
    assert "host" in capsys.readouterr().err
    good = _config(tmp_path, 1, 1)
    assert main(["probe", "--config", str(good), "nosuch"]) == 2
    assert "no device 'nosuch'" in capsys.readouterr().err


def test_probe_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def serve_and_probe() -> int:
        inverter = sunspec_server()
        await inverter.start()
        try:
            path = tmp_path / "pv.yaml"
            driver = f"{{type: modbus_tcp, host: 127.0.0.1, port: {inverter.port}, sunspec: true}}"
            path.write_text(
                SITE
                + f"devices:\n  pv:\n    role: pv_inverter\n    peak_kw: 8\n    driver: {driver}\n"
                + f"  grid:\n    role: meter\n    driver: {driver}\n"
            )
            return await asyncio.to_thread(main, ["probe", "--config", str(path)])
        finally:
            await inverter.stop()

    assert asyncio.run(serve_and_probe()) == 0
    out = capsys.readouterr().out
    assert "manufacturer: Fronius" in out
    assert "grid (modbus_tcp): ok" in out  # a second device sharing the same TCP link
