from datetime import UTC, datetime

import pytest

from agent.clock import ManualClock, RealClock
from agent.config.drivers import ModbusRtuDriver, ModbusTcpDriver
from drivers.base import DeviceContext, HealthState, PhaseMeter
from drivers.errors import DeviceUnavailable, DriverConfigError, ProtocolError, StaleValue
from drivers.modbus.codec import encode, unscaled
from drivers.modbus.device import DEFAULT_STALE_AFTER_S
from drivers.modbus.factory import create_device
from drivers.modbus.link import ModbusLink, RtuLink, Table, TcpLink
from drivers.modbus.map_device import RegisterMapDevice, plan_blocks
from drivers.modbus.regmap import RegisterMap, available_maps, load_map, parse_map
from tests.drivers.modbus.conftest import FAST, LIMITS
from tests.support.modbus_server import FaultyRegisters, RtuTestServer, TcpTestServer


def fill(regs: FaultyRegisters, regmap: RegisterMap, values: dict[str, float]) -> None:
    """Write engineering values into a register image the way the device would hold them."""
    for name, value in values.items():
        p = regmap.resolved(name)
        regs.load(p.address, encode(unscaled(value, p.scale, p.type, p.sign), p.type, p.word_order))


METER_VALUES = {
    "l1_voltage_v": 231.2,
    "l2_voltage_v": 229.9,
    "l3_voltage_v": 230.4,
    "l1_current_a": 5.1,
    "l2_current_a": 0.4,
    "l3_current_a": 2.0,
    "l1_power_w": 1150.0,
    "l2_power_w": -80.0,
    "l3_power_w": 420.0,
    "power_w": 1490.0,
    "frequency_hz": 50.0,
    "import_kwh": 10234.5,
    "export_kwh": 3210.0,
}


def _device(link: ModbusLink, name: str, unit: int = 1) -> RegisterMapDevice:
    return RegisterMapDevice(
        name, "modbus", link=link, unit_id=unit, clock=RealClock(), limits=LIMITS, regmap=load_map(name)
    )


def test_builtin_maps_load() -> None:
    assert {"eastron_sdm630", "carlo_gavazzi_em24", "huawei_sun2000"} <= set(available_maps())


def test_bad_map_names_the_field() -> None:
    text = "name: x\nsource: y\npoints:\n  power_w: {address: 70000, unit: W}\n"
    with pytest.raises(DriverConfigError, match=r"points\.power_w\.address"):
        parse_map(text, "maps/x.yaml")
    with pytest.raises(DriverConfigError, match=r"driver\.register_map: no register map 'nope'"):
        load_map("nope")


def test_blocks_group_nearby_points() -> None:
    blocks = plan_blocks(load_map("eastron_sdm630").all_points(), 10)
    # 0..17 (phases), 52..53 is 34 away: separate; 70..75 within 16 of 53: separate as gap > 10.
    assert [(b.table, b.start, b.count) for b in blocks] == [
        (Table.INPUT, 0, 18),
        (Table.INPUT, 52, 2),
        (Table.INPUT, 70, 6),
    ]


async def test_sdm630_over_rtu_pty(ptys: tuple[str, str]) -> None:
    server_port, client_port = ptys
    regs = FaultyRegisters()
    fill(regs, load_map("eastron_sdm630"), METER_VALUES)
    srv = RtuTestServer(server_port, {2: regs}, baudrate=9600)
    await srv.start()
    link = RtuLink(client_port, RealClock(), baudrate=9600)
    try:
        dev = _device(link, "eastron_sdm630", unit=2)
        await dev.refresh()
        meter = dev.capabilities.energy_meter
        assert meter is not None
        assert isinstance(meter, PhaseMeter)
        assert meter.power_w().value == pytest.approx(1490.0)
        assert meter.import_kwh().value == pytest.approx(10234.5)
        assert [r.value for r in meter.phase_voltage_v()] == pytest.approx([231.2, 229.9, 230.4], rel=1e-6)
        assert meter.power_w().unit == "W"
        assert "modbus-rtu" in meter.power_w().source
    finally:
        await link.close()
        await srv.stop()


async def test_em24_little_word_order_and_garbage() -> None:
    regs = FaultyRegisters()
    regmap = load_map("carlo_gavazzi_em24")
    fill(regs, regmap, METER_VALUES)
    srv = TcpTestServer({1: regs})
    await srv.start()
    link = TcpLink(srv.host, srv.port, RealClock(), FAST)
    try:
        dev = _device(link, "carlo_gavazzi_em24")
        await dev.refresh()
        meter = dev.capabilities.energy_meter
        assert meter is not None
        assert meter.export_kwh().value == pytest.approx(3210.0)
        assert meter.power_w().value == pytest.approx(1490.0)
        # A rebooting meter returning 0xFFFF... reads as a huge frequency: garbage, not data.
        regs.load(regmap.resolved("frequency_hz").address, [0x7FFF])
        with pytest.raises(ProtocolError, match=r"frequency_hz = 3276\.7 Hz is outside 45\.0\.\.65\.0"):
            await dev.refresh()
        assert dev.health.state is HealthState.FAULT
        report = dev.report()
        assert "frequency_hz" in report.values  # the previous good value, still fresh
        assert report.values["frequency_hz"].value == pytest.approx(50.0)
        fill(regs, regmap, {"frequency_hz": 49.9})
        await dev.refresh()
        assert dev.health.snapshot().state is HealthState.OK  # refresh() changed it
    finally:
        await link.close()
        await srv.stop()


async def test_huawei_battery_split_control_and_release() -> None:
    regs = FaultyRegisters()
    regmap = load_map("huawei_sun2000")
    fill(
        regs,
        regmap,
        {
            "pv_rated_w": 8000,
            "pv_dc_power_w": 5100,
            "pv_power_w": 4900,
            "pv_energy_kwh": 23456.78,
            "power_w": 800,  # importing 800 W: Huawei shows -800
            "import_kwh": 1200.5,
            "export_kwh": 3400.25,
            "battery_soc_pct": 81.5,
            "battery_power_w": -2000,
            "battery_max_charge_w": 5000,
            "battery_max_discharge_w": 3000,
            "curtailment_pct": 100.0,
        },
    )
    srv = TcpTestServer({1: regs})
    await srv.start()
    link = TcpLink(srv.host, srv.port, RealClock(), FAST)
    try:
        dev = _device(link, "huawei_sun2000")
        await dev.refresh()
        caps = dev.capabilities
        assert caps.provided() == ("energy_meter", "pv_inverter", "battery")
        assert caps.energy_meter is not None
        assert caps.battery is not None
        assert caps.pv_inverter is not None
        assert regs.peek(37113, 2) == encode(-800, regmap.resolved("power_w").type)
        assert caps.energy_meter.power_w().value == 800.0
        assert caps.battery.power_w().value == -2000.0
        await caps.battery.set_power_w(-2500.0)
        assert regs.peek(47249, 2) == [0, 2500]
        assert regs.peek(47100) == [2]
        # The device reports a 3000 W discharge limit, narrower than the configured 5000 W.
        writes = regs.writes
        with pytest.raises(DriverConfigError, match="outside -3000"):
            await caps.battery.set_power_w(-3500.0)
        assert regs.writes == writes
        await caps.pv_inverter.set_curtailment_limit_w(4000.0)
        assert regs.peek(40125) == [500]
        await dev.stop()
        assert regs.peek(47100) == [0]
        assert regs.peek(40125) == [1000]
    finally:
        await link.close()
        await srv.stop()


async def test_values_go_stale_when_device_disappears() -> None:
    regs = FaultyRegisters()
    fill(regs, load_map("eastron_sdm630"), METER_VALUES)
    srv = TcpTestServer({1: regs})
    await srv.start()
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    link = TcpLink(srv.host, srv.port, clock, FAST)
    dev = RegisterMapDevice(
        "grid",
        "modbus_tcp",
        link=link,
        unit_id=1,
        clock=clock,
        limits=LIMITS,
        regmap=load_map("eastron_sdm630"),
        stale_after_s=30,
    )
    try:
        await dev.refresh()
        await srv.stop()
        clock.advance(31)
        with pytest.raises(DeviceUnavailable, match=r"connection failed|link down"):
            await dev.refresh()
        assert dev.capabilities.energy_meter is not None
        with pytest.raises(StaleValue, match=r"power_w is 31\.0 s old"):
            dev.capabilities.energy_meter.power_w()
        await srv.start()
        clock.advance(1)  # past the backoff
        await dev.refresh()
        assert dev.capabilities.energy_meter.power_w().value == pytest.approx(1490.0)
    finally:
        await link.close()
        await srv.stop()


async def test_factory_shares_links_and_checks_serial_settings() -> None:
    ctx = DeviceContext(RealClock(), limits={"inv": LIMITS})
    a = create_device(
        "inv", ModbusTcpDriver(type="modbus_tcp", host="127.0.0.1", port=1502, sunspec=True), ctx
    )
    b = create_device(
        "grid",
        ModbusTcpDriver(
            type="modbus_tcp", host="127.0.0.1", port=1502, unit_id=2, register_map="eastron_sdm630"
        ),
        ctx,
    )
    assert ctx.links.keys() == ("modbus-tcp:127.0.0.1:1502",)
    assert a.driver == "modbus_tcp"
    assert b.capabilities.energy_meter is not None
    create_device(
        "m1", ModbusRtuDriver(type="modbus_rtu", port="/dev/ttyX", register_map="eastron_sdm630"), ctx
    )
    with pytest.raises(DriverConfigError, match=r"driver\.baudrate"):
        create_device(
            "m2",
            ModbusRtuDriver(
                type="modbus_rtu", port="/dev/ttyX", baudrate=19200, register_map="eastron_sdm630"
            ),
            ctx,
        )
    with pytest.raises(DriverConfigError, match="no register map 'sdm999'"):
        create_device("m3", ModbusTcpDriver(type="modbus_tcp", host="h", register_map="sdm999"), ctx)
    await ctx.links.close_all()


async def test_a_stale_device_limit_leaves_the_configured_one_in_force() -> None:
    """A narrowing the device reported long ago is not known now: the write goes out within the
    configured limits (the inverter still clamps to its own) instead of being refused."""
    regs = FaultyRegisters()
    regmap = load_map("huawei_sun2000")
    fill(regs, regmap, {"battery_soc_pct": 50.0, "battery_power_w": 0, "battery_max_charge_w": 5000,
                        "battery_max_discharge_w": 3000})  # fmt: skip
    srv = TcpTestServer({1: regs})
    await srv.start()
    link = TcpLink(srv.host, srv.port, RealClock(), FAST)
    clock = ManualClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    dev = RegisterMapDevice("inv", "modbus", link=link, unit_id=1, clock=clock, limits=LIMITS, regmap=regmap)
    try:
        await dev.refresh()
        battery = dev.capabilities.battery
        assert battery is not None
        with pytest.raises(DriverConfigError, match="outside -3000"):
            await battery.set_power_w(-3500.0)
        clock.advance(DEFAULT_STALE_AFTER_S + 1.0)
        await battery.set_power_w(-3500.0)
        assert regs.peek(47249, 2) == [0, 3500]
    finally:
        await link.close()
        await srv.stop()
