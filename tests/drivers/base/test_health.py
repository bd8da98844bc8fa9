import logging
from datetime import UTC, datetime

import pytest

from agent.clock import ManualClock
from drivers.base import Health, HealthState
from drivers.errors import DeviceTimeout, StaleValue

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_health_starts_unknown_then_ok() -> None:
    clock = ManualClock(T0)
    h = Health("meter", clock)
    assert h.state is HealthState.UNKNOWN
    clock.advance(5)
    h.record_ok()
    snap = h.snapshot()
    assert snap.state is HealthState.OK
    assert snap.last_seen == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert snap.to_dict()["state"] == "ok"


def test_failure_logged_once_then_debug_then_recovered(caplog: pytest.LogCaptureFixture) -> None:
    # Guards against log floods: a device off all night must not log every poll at WARNING.
    caplog.set_level(logging.DEBUG, logger="drivers.health")
    clock = ManualClock(T0)
    h = Health("inverter", clock)
    h.record_ok()
    for _ in range(5):
        h.record_failure(DeviceTimeout("no answer within 1 s", device="inverter"))
    assert h.state is HealthState.FAULT
    assert h.consecutive_failures == 5
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    debugs = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(warnings) == 1
    assert "DeviceTimeout" in warnings[0].getMessage()
    assert len(debugs) == 4
    h.record_ok()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == ["inverter: recovered after 5 failed attempt(s)"]
    assert h.snapshot().consecutive_failures == 0
    assert h.snapshot().last_error is None


def test_stale_error_gives_stale_state() -> None:
    h = Health("thermostat", ManualClock(T0))
    h.record_failure(StaleValue("indoor_c is 700 s old"))
    assert h.state is HealthState.STALE
    assert "StaleValue" in (h.snapshot().last_error or "")


def test_track_records_and_reraises() -> None:
    clock = ManualClock(T0)
    h = Health("d", clock)
    with pytest.raises(DeviceTimeout), h.track():
        raise DeviceTimeout("t")
    assert h.state is HealthState.FAULT
    clock.advance(60)
    with h.track():
        pass
    snap = h.snapshot()
    assert snap.state is HealthState.OK
    assert snap.since == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
