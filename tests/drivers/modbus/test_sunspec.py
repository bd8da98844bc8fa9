import json
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.clock import RealClock
from drivers.base import HealthState
from drivers.errors import DriverConfigError, ProtocolError, StaleValue, WriteVerifyError
from drivers.modbus.link import TcpLink
from drivers.modbus.sunspec.decode import decode_model
from drivers.modbus.sunspec.device import SunSpecDevice
from drivers.modbus.sunspec.image import model_registers
from drivers.modbus.sunspec.models import load_model
from drivers.modbus.sunspec.points import pv_reading
from tests.drivers.modbus.conftest import FAST, LIMITS, SUNSPEC_MODELS, sunspec_server
from tests.support.modbus_server import TcpTestServer


@pytest.mark.parametrize("model_id", [1, 101, 102, 103, 120, 121, 123, 124, 201, 202, 203, 204, 802])
def test_layout_comes_from_published_json(model_id: int) -> None:
    doc = json.loads(
        resources.files("sunspec2").joinpath("models", "json", f"model_{model_id}.json").read_text()
    )
    model = load_model(model_id)
    assert model.fixed_length + 2 == sum(p["size"] for p in doc["group"]["points"])
    assert list(model.points) == [p["name"] for p in doc["group"]["points"]]


def test_known_offsets() -> None:
    # Independent check against the SunSpec spec tables: 103.W is register 14 of the model
    # (40084 with the common model at 40002), 203.TotWhImp at offset 46.
    assert load_model(103).point("W").offset == 14
    assert load_model(203).point("TotWhImp").offset == 46
    assert load_model(1).fixed_length == 66


def test_unimplemented_point_is_typed_not_a_number() -> None:
    regs = model_registers(103, {"W": 1000.0, "W_SF": 0})
    values = decode_model(load_model(103), 40000, regs)
    assert values.number("W") == 1000.0
    assert "VA" in values.unimplemented
    with pytest.raises(ProtocolError, match="VA is not implemented"):
        values.number("VA")
    with pytest.raises(DriverConfigError, match="no point"):
        values.number("NoSuchPoint")


def test_value_without_its_scale_factor_is_unimplemented() -> None:
    regs = model_registers(103, {"W": 1000.0, "W_SF": 0})
    regs[load_model(103).point("W_SF").offset] = 0x8000  # scale factor "not implemented"
    values = decode_model(load_model(103), 40000, regs)
    assert not values.has("W")


def test_garbage_scale_factor_is_protocol_error() -> None:
    regs = model_registers(103, {"W": 1000.0, "W_SF": 0})
    regs[load_model(103).point("W_SF").offset] = 42
    with pytest.raises(ProtocolError, match="W_SF=42 is garbage"):
        decode_model(load_model(103), 40000, regs)


@settings(max_examples=150)
@given(
    st.integers(-32767, 32767),
    st.integers(-3, 3),
    st.integers(1, 2**32 - 1),
    st.integers(-2, 2),
)
def test_image_decode_round_trip(w_raw: int, w_sf: int, wh_raw: int, wh_sf: int) -> None:
    w = w_raw * 10.0**w_sf
    wh = wh_raw * 10.0**wh_sf
    regs = model_registers(103, {"W": w, "W_SF": w_sf, "WH": wh, "WH_SF": wh_sf})
    values = decode_model(load_model(103), 40000, regs)
    assert values.number("W") == pytest.approx(w, rel=1e-9, abs=1e-9)
    assert values.number("WH") == pytest.approx(wh, rel=1e-9)


def _device(link: TcpLink, **kw: Any) -> SunSpecDevice:
    return SunSpecDevice(
        "inverter", "modbus_tcp", link=link, unit_id=1, clock=RealClock(), limits=LIMITS, **kw
    )


@pytest.mark.parametrize("base", [40000, 0, 50000])
async def test_discovery_at_each_base(base: int) -> None:
    srv = sunspec_server(base)
    await srv.start()
    link = TcpLink(srv.host, srv.port, RealClock(), FAST)
    try:
        dev = _device(link)
        await dev.refresh()
        assert dev.info["sunspec_base"] == str(base)
        assert dev.info["sunspec_models"].startswith(
            "1 (common), 103 (inverter_three_phase), 120 (nameplate)"
        )
        assert dev.info["manufacturer"] == "Fronius"
        assert dev.info["serial"] == "28150123"
    finally:
        await link.close()
        await srv.stop()


async def test_no_sunspec_marker_is_protocol_error(server: TcpTestServer, link: TcpLink) -> None:
    server.units[1].load(40000, [0, 0])
    dev = _device(link)
    with pytest.raises(ProtocolError, match="no SunSpec marker"):
        await dev.refresh()
    assert dev.health.state is HealthState.FAULT


async def test_readings_with_units_and_sign_convention(link: TcpLink) -> None:
    dev = _device(link)
    await dev.refresh()
    caps = dev.capabilities
    assert caps.provided() == ("energy_meter", "pv_inverter", "battery")
    assert caps.pv_inverter is not None
    assert caps.energy_meter is not None
    assert caps.battery is not None
    # A hybrid: 4500 W into the bridge and 1200 W into the battery come from the strings.
    assert caps.pv_inverter.power_w().value == 5700.0
    assert caps.pv_inverter.energy_kwh().value == pytest.approx(12345.6)
    assert caps.pv_inverter.energy_kwh().unit == "kWh"
    meter = caps.energy_meter
    assert meter.power_w().value == -1500.0  # exporting
    assert meter.import_kwh().value == pytest.approx(5432.1)
    assert meter.export_kwh().value == pytest.approx(1234.5)
    assert caps.battery.soc_pct().value == pytest.approx(56.7)
    assert caps.battery.power_w().value == 1200.0  # 802 says -1200 W output: charging
    assert "unit 1 holding" in meter.power_w().source
    assert dev.health.state is HealthState.OK


async def test_curtailment_write_is_read_back(server: TcpTestServer, link: TcpLink) -> None:
    dev = _device(link)
    await dev.refresh()
    assert dev.capabilities.pv_inverter is not None
    await dev.capabilities.pv_inverter.set_curtailment_limit_w(2000.0)
    await dev.refresh()
    assert dev.store.number("curtailment_pct").value == 25.0
    with pytest.raises(DriverConfigError, match=r"outside 0\.\.8000 W"):
        await dev.capabilities.pv_inverter.set_curtailment_limit_w(9000.0)
    await dev.stop()  # releases the cap
    assert (
        decode_model(load_model(123), 0, await link.read(1, dev._loc(123).address, 26)).number("WMaxLim_Ena")
        == 0
    )


async def test_write_that_does_not_stick(server: TcpTestServer, link: TcpLink) -> None:
    dev = _device(link)
    await dev.refresh()
    server.units[1].ignore_writes = True
    assert dev.capabilities.battery is not None
    with pytest.raises(WriteVerifyError, match="did not stick"):
        await dev.capabilities.battery.set_power_w(2500.0)
    server.units[1].ignore_writes = False
    await dev.capabilities.battery.set_power_w(2500.0)
    storage = decode_model(load_model(124), 0, await link.read(1, dev._loc(124).address, 28))
    assert storage.number("InWRte") == 50.0
    assert storage.number("StorCtl_Mod") == 1


async def test_battery_write_outside_limits_sends_nothing(server: TcpTestServer, link: TcpLink) -> None:
    dev = _device(link)
    await dev.refresh()
    writes = server.units[1].writes
    assert dev.capabilities.battery is not None
    with pytest.raises(DriverConfigError, match=r"outside -5000\.\.5000 W"):
        await dev.capabilities.battery.set_power_w(-6000.0)
    assert server.units[1].writes == writes


async def test_garbage_then_recovery(server: TcpTestServer, link: TcpLink) -> None:
    dev = _device(link, stale_after_s=0.5)
    await dev.refresh()
    assert dev.capabilities.pv_inverter is not None
    inverter = dev._loc(103).address
    sf_at = inverter + load_model(103).point("W_SF").offset
    server.units[1].load(sf_at, [77])  # a scale factor no device can mean
    with pytest.raises(ProtocolError, match="garbage"):
        await dev.refresh()
    assert dev.health.state is HealthState.FAULT
    import asyncio

    await asyncio.sleep(0.6)
    with pytest.raises(StaleValue):
        dev.capabilities.pv_inverter.power_w()  # the old number is not passed on as current
    server.units[1].load(sf_at, [0])
    await dev.refresh()
    assert dev.capabilities.pv_inverter.power_w().value == 5700.0
    assert dev.health.snapshot().state is HealthState.OK  # refresh() changed it


async def test_required_point_not_implemented_is_reported(server: TcpTestServer, link: TcpLink) -> None:
    dev = _device(link)
    await dev.refresh()
    w_at = dev._loc(103).address + load_model(103).point("W").offset
    server.units[1].load(w_at, [0x8000])
    with pytest.raises(ProtocolError, match="model 103 point W not implemented"):
        await dev.refresh()
    report = dev.report()
    assert report.health.consecutive_failures == 1
    assert "pv_energy_kwh" in report.values  # the rest of the poll still counts


def test_fixture_models_are_valid() -> None:
    for model_id, values in SUNSPEC_MODELS:
        assert set(values) <= set(load_model(model_id).points)


_INPUT_NAMES = st.sampled_from(["MPPT", "String", "PV", "StCha", "StDisCha"])


@settings(max_examples=100)
@given(
    st.lists(st.tuples(_INPUT_NAMES, st.integers(0, 30000), st.integers(1, 2**31)), min_size=1, max_size=8),
    st.integers(-2, 1),
)
def test_model_160_inputs_round_trip_and_pv_leaves_out_the_battery(
    inputs: list[tuple[str, int, int]], dcw_sf: int
) -> None:
    repeats: list[dict[str, float | int | str]] = [
        {"ID": i + 1, "IDStr": f"{name} {i + 1}", "DCW": raw_w * 10.0**dcw_sf, "DCWH": float(wh)}
        for i, (name, raw_w, wh) in enumerate(inputs)
    ]
    fixed = {"DCW_SF": dcw_sf, "DCWH_SF": 0, "N": len(inputs)}
    regs = model_registers(160, fixed, repeats)
    assert regs[1] == 8 + 20 * len(inputs)  # L: the fixed block and 20 registers per input
    values = decode_model(load_model(160), 40000, regs)
    assert [m.get("IDStr") for m in values.repeats] == [r["IDStr"] for r in repeats]
    for module, repeat in zip(values.repeats, repeats, strict=True):
        assert module.number("DCW") == pytest.approx(repeat["DCW"], abs=1e-9)
        assert module.number("DCWH") == repeat["DCWH"]
    pv = [r for r, (name, _w, _wh) in zip(repeats, inputs, strict=True) if name not in ("StCha", "StDisCha")]
    reading = pv_reading({160: values})
    if not pv:
        assert reading is None  # only battery inputs and no inverter model: no PV reading
        return
    assert reading is not None
    assert reading.power_w == pytest.approx(
        sum(float(w) * 10.0**dcw_sf for name, w, _wh in inputs if name not in ("StCha", "StDisCha")), abs=1e-6
    )
    assert reading.energy_kwh == pytest.approx(
        sum(float(wh) for name, _w, wh in inputs if name not in ("StCha", "StDisCha")) / 1000.0
    )


def test_repeats_only_where_the_model_has_a_group() -> None:
    with pytest.raises(DriverConfigError, match="model 103 has no repeating group"):
        model_registers(103, {}, [{"DCW": 1.0}])
    with pytest.raises(DriverConfigError, match=r"model 160 module 2 has no point\(s\) \['W'\]"):
        model_registers(160, {"DCW_SF": 0}, [{"DCW": 1.0}, {"W": 1.0}])
