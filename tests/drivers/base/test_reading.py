from datetime import UTC, datetime

import pytest

from agent.clock import ManualClock
from drivers.base import Monitor
from drivers.errors import DriverError, StaleValue

T0 = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)


def test_monitor_serves_fresh_value_with_provenance() -> None:
    clock = ManualClock(T0)
    m: Monitor[float] = Monitor(clock, name="power_w", unit="W", max_age_s=10)
    clock.advance(3)
    m.set(1234.5, "mqtt:home/meter/power")
    clock.advance(9.5)
    r = m.get()
    assert (r.value, r.unit, r.source) == (1234.5, "W", "mqtt:home/meter/power")
    assert r.at == datetime(2026, 3, 29, 0, 0, 3, tzinfo=UTC)
    assert r.age_s(clock) == pytest.approx(9.5)


def test_monitor_refuses_value_older_than_limit() -> None:
    # Guards against the classic bug: a meter that stopped publishing keeps reporting its
    # last power forever and the planner trusts it.
    clock = ManualClock(T0)
    m: Monitor[float] = Monitor(clock, name="power_w", unit="W", max_age_s=10, device="meter")
    m.set(500.0, "t")
    clock.advance(10.01)
    with pytest.raises(StaleValue, match=r"meter: power_w is 10\.0 s old \(limit 10 s\)"):
        m.get()
    assert not m.is_fresh()
    assert m.last().value == 500.0  # still visible for display, with its age
    m.set(600.0, "t")
    assert m.get().value == 600.0


def test_monitor_without_value_is_stale_not_none() -> None:
    m: Monitor[bool] = Monitor(ManualClock(T0), name="plugged", unit="", max_age_s=5)
    with pytest.raises(StaleValue, match="not been received"):
        m.get()
    with pytest.raises(StaleValue):
        m.last()


def test_monitor_clear_forgets_value() -> None:
    m: Monitor[float] = Monitor(ManualClock(T0), name="x", unit="W", max_age_s=5)
    m.set(1.0, "t")
    m.clear()
    with pytest.raises(StaleValue):
        m.get()


def test_monitor_rejects_nonpositive_limit() -> None:
    with pytest.raises(ValueError, match="max_age_s"):
        Monitor(ManualClock(T0), name="x", unit="W", max_age_s=0)


def test_stale_is_a_driver_error_and_timeout_is_a_timeout() -> None:
    from drivers.errors import DeviceTimeout

    assert issubclass(StaleValue, DriverError)
    assert issubclass(DeviceTimeout, TimeoutError)
    assert issubclass(DeviceTimeout, DriverError)
