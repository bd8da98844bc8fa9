from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.clock import ManualClock
from drivers.base import Device, DeviceContext, LinkPool
from drivers.errors import DriverConfigError
from drivers.registry import BUILTIN, Registry, default_registry


@dataclass(frozen=True)
class _Settings:
    type: str


def _factory(name: str, settings: Any, ctx: DeviceContext) -> Device:
    raise NotImplementedError  # never called in these tests


def test_duplicate_registration_is_a_programming_error() -> None:
    reg = Registry()
    reg.register("x", _factory)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("x", _factory)
    with pytest.raises(ValueError, match="already registered"):
        default_registry().register("modbus_tcp", _factory)


def test_unknown_type_is_a_config_error_naming_field_and_choices() -> None:
    ctx = DeviceContext(ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    with pytest.raises(DriverConfigError, match=r"driver\.type: unknown driver type 'modbus_udp'") as ei:
        default_registry().create("meter", _Settings("modbus_udp"), ctx)
    assert ei.value.field == "driver.type"
    assert "modbus_tcp" in str(ei.value)


def test_builtin_types_cover_the_config_types() -> None:
    assert {"modbus_tcp", "modbus_rtu", "mqtt", "gpio_relay"} <= set(BUILTIN)


class _Link:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def test_link_pool_shares_one_owner_per_key() -> None:
    pool = LinkPool()
    a = pool.get_or_create("modbus-tcp:127.0.0.1:502", _Link, _Link)
    b = pool.get_or_create("modbus-tcp:127.0.0.1:502", _Link, _Link)
    c = pool.get_or_create("modbus-tcp:127.0.0.1:503", _Link, _Link)
    assert a is b
    assert a is not c
    await pool.close_all()
    assert a.closed
    assert c.closed
    assert pool.keys() == ()
