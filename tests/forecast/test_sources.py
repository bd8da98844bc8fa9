"""Temperature and draw sources: CSV files, a real Mosquitto topic, daily profiles, and fallbacks."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from agent.clock import ManualClock
from agent.forecast.errors import SourceError, StaleSource
from agent.forecast.profile import DailyProfile
from agent.forecast.quantity import QuantityForecaster, QuantitySpec
from agent.forecast.sources import CsvSource, MqttSource, Observation
from agent.forecast.timeseries import TimeSeries, parse_payload
from agent.market.intervals import Duration, Interval, containing, horizon
from drivers.mqtt.client import MqttClient
from drivers.mqtt.settings import BrokerSettings
from tests.support.mosquitto import MosquittoBroker

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 5, 4, 10, tzinfo=UTC)  # 12:00 in Berlin
FIELD = "forecast.outdoor_temperature.source"


def _hours(n: int, step: Duration = Duration.PT1H) -> list[Interval]:
    return horizon(containing(T0, step, BERLIN), n)


def test_profile_interpolates_linearly_and_in_steps_on_the_wall_clock() -> None:
    linear = DailyProfile({0: 0.0, 12: 12.0})
    np.testing.assert_allclose(linear.at_hours(np.array([6.0, 18.0, 23.0])), [6.0, 6.0, 1.0])
    step = DailyProfile({7: 60.0, 8: 0.0}, "step")
    np.testing.assert_allclose(step.at_hours(np.array([6.9, 7.0, 7.99, 8.0, 3.0])), [0, 60, 60, 0, 0])
    # 07:00 local on the spring-forward day is 05:00 UTC, not 06:00
    t = datetime(2026, 3, 29, 7, 30, tzinfo=BERLIN).timestamp()
    assert step.at(np.array([t]), BERLIN)[0] == 60.0


def test_draws_become_litres_per_interval_averaged_within_it() -> None:
    spec = QuantitySpec(
        "draw_l", 0.0, profile=DailyProfile({7: 60.0, 8: 0.0}, "step"), per_interval_amount=True
    )
    q = QuantityForecaster(spec, BERLIN)
    day = datetime(2026, 5, 4, 6, 30, tzinfo=BERLIN)
    hourly = horizon(containing(day, Duration.PT1H, BERLIN), 3)  # 06:00, 07:00, 08:00
    np.testing.assert_allclose(q.forecast(day, hourly).values, [0.0, 60.0, 0.0])
    quarters = horizon(containing(day, Duration.PT15M, BERLIN), 8)  # 06:30 .. 08:15
    np.testing.assert_allclose(q.forecast(day, quarters).values, [0, 0, 15, 15, 15, 15, 0, 0])


def test_a_profile_kept_per_interval_answers_as_a_fresh_one_over_moving_horizons() -> None:
    profile = DailyProfile({0: 4.0, 6: 2.0, 14: 11.0, 20: 7.0})
    spec = QuantitySpec("outdoor_c", 5.0, profile=profile)
    kept = QuantityForecaster(spec, BERLIN)
    spring = datetime(2026, 3, 28, 18, tzinfo=BERLIN)  # the horizons cross the spring-forward night
    asked = [
        (0, Duration.PT15M, 96),
        (1, Duration.PT15M, 96),
        (2, Duration.PT1H, 30),
        (1, Duration.PT5M, 200),
        (40, Duration.PT15M, 400),
        (3, Duration.PT15M, 96),
    ]
    for hours_on, step, n in asked:
        ivs = horizon(containing(spring + timedelta(hours=hours_on), step, BERLIN), n)
        now = ivs[0].start_utc
        fresh = QuantityForecaster(spec, BERLIN).forecast(now, ivs).values
        np.testing.assert_array_equal(kept.forecast(now, ivs).values, fresh)


def test_csv_series_covers_what_it_covers_and_the_profile_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "temp.csv"
    rows = [f"{(T0 + timedelta(hours=h)).isoformat()},{20 + h}" for h in range(3)]
    path.write_text("time,temp_c\n" + "\n".join(rows) + "\n")
    spec = QuantitySpec("outdoor_c", 5.0, CsvSource(path, "temp_c", field=FIELD), DailyProfile({0: 8.0}))
    s = QuantityForecaster(spec, BERLIN).forecast(T0, _hours(5))
    np.testing.assert_allclose(s.values, [20, 21, 22, 8, 8])
    assert s.degraded is not None and "covers 3 of 5 intervals" in s.degraded
    quarters = QuantityForecaster(spec, BERLIN).forecast(T0, _hours(8, Duration.PT15M))
    np.testing.assert_allclose(quarters.values, [20] * 4 + [21] * 4)
    assert quarters.degraded is None


def test_csv_errors_name_the_key_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "temp.csv"
    path.write_text("time,temp_c\n2026-05-04T10:00:00+00:00,20\n2026-05-04T11:00:00,21\n")
    with pytest.raises(
        SourceError, match=r"forecast.outdoor_temperature.source: temp.csv line 3: .*no UTC offset"
    ):
        CsvSource(path, "temp_c", field=FIELD).read(T0)
    path.write_text("time,temp\n2026-05-04T10:00:00+00:00,20\n")
    with pytest.raises(SourceError, match=r"no column 'temp_c' \(columns: time, temp\)"):
        CsvSource(path, "temp_c", field=FIELD).read(T0)
    with pytest.raises(SourceError, match="cannot read"):
        CsvSource(tmp_path / "missing.csv", "temp_c", field=FIELD).read(T0)


def test_stale_csv_falls_back_to_the_profile_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "temp.csv"
    path.write_text(f"time,temp_c\n{T0.isoformat()},30\n")
    old = (T0 - timedelta(hours=7)).timestamp()
    os.utime(path, (old, old))
    source = CsvSource(path, "temp_c", field=FIELD, max_age_s=6 * 3600)
    with pytest.raises(StaleSource):
        source.read(T0)
    spec = QuantitySpec("outdoor_c", 5.0, source, DailyProfile({0: 8.0}))
    s = QuantityForecaster(spec, BERLIN).forecast(T0, _hours(2))
    np.testing.assert_allclose(s.values, [8.0, 8.0])
    assert s.source == "daily profile"
    assert s.degraded is not None and "older than 21600 s" in s.degraded and FIELD in s.degraded


def test_observation_departure_decays_into_the_profile() -> None:
    class Fixed:
        field = FIELD
        description = "fixed"

        def read(self, now: datetime) -> Observation:
            return Observation(18.0, now)

    spec = QuantitySpec("outdoor_c", 5.0, Fixed(), DailyProfile({0: 10.0}), anchor_decay_h=2.0)
    s = QuantityForecaster(spec, BERLIN).forecast(T0, _hours(6))
    lead_h = np.arange(6) + 0.5
    np.testing.assert_allclose(s.values, 10.0 + 8.0 * np.exp(-lead_h / 2.0))
    no_profile = QuantityForecaster(QuantitySpec("outdoor_c", 5.0, Fixed()), BERLIN).forecast(T0, _hours(3))
    np.testing.assert_allclose(no_profile.values, [18.0] * 3)  # persistence


def test_payloads_decode_strictly() -> None:
    assert parse_payload(b"21.5", field=FIELD, issued_at=T0) == 21.5
    series = parse_payload(
        b'[{"time": "2026-05-04T10:00:00+00:00", "value": 1},'
        b' {"time": "2026-05-04T11:00:00+00:00", "value": 2}]',
        field=FIELD,
        issued_at=T0,
    )
    assert isinstance(series, TimeSeries)
    for bad, why in [
        (b"warm", "neither a number nor JSON"),
        (b"true", "must be a number or a non-empty list"),
        (b'[{"time": "2026-05-04T10:00:00+00:00"}]', "exactly 'time' and 'value'"),
        (b'[{"time": "yesterday", "value": 1}]', "not an ISO 8601 time"),
        (
            b'[{"time": "2026-05-04T10:00:00+00:00", "value": "hot"}]',
            r"payload\[0\].value: expected a number",
        ),
    ]:
        with pytest.raises(SourceError, match=why):
            parse_payload(bad, field=FIELD, issued_at=T0)


# -- a real broker ---------------------------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[MosquittoBroker, MqttClient]]:
    with MosquittoBroker(tmp_path / "broker") as broker:
        c = MqttClient(BrokerSettings(host=broker.host, port=broker.port, reconnect_max_s=1), name="local")
        await c.start()
        await c.wait_connected(10.0)
        try:
            yield broker, c
        finally:
            await c.close()


async def _until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 (the value arrives through the broker: poll it)
            await asyncio.sleep(0.02)


async def test_mqtt_temperature_is_used_while_fresh_and_falls_back_when_stale(
    client: tuple[MosquittoBroker, MqttClient],
) -> None:
    _, c = client
    clock = ManualClock(T0)
    source = MqttSource(c, "weather/outdoor_c", clock, field=FIELD, max_age_s=600.0)
    await source.start()
    spec = QuantitySpec("outdoor_c", 5.0, source, DailyProfile({0: 10.0}), anchor_decay_h=2.0)
    q = QuantityForecaster(spec, BERLIN)

    first = q.forecast(clock.now(), _hours(2))
    assert first.degraded is not None and "has not been received yet" in first.degraded  # nothing yet
    np.testing.assert_allclose(first.values, [10.0, 10.0])

    await c.publish("weather/outdoor_c", b"16")
    await _until(lambda: q.forecast(clock.now(), _hours(1)).degraded is None)
    fresh = q.forecast(clock.now(), _hours(2))
    assert fresh.source.startswith("mqtt local:weather/outdoor_c")
    np.testing.assert_allclose(fresh.values, 10.0 + 6.0 * np.exp(-np.array([0.5, 1.5]) / 2.0))

    await c.publish("weather/outdoor_c", b"garbage")  # a bad payload keeps the last good value
    await _until(lambda: source.bad_payloads == 1)
    assert q.forecast(clock.now(), _hours(1)).degraded is None

    clock.advance(601.0)  # the sensor went quiet: its value is now stale, the profile takes over
    stale = q.forecast(clock.now(), _hours(2))
    np.testing.assert_allclose(stale.values, [10.0, 10.0])
    assert stale.degraded is not None and "old (limit 600 s)" in stale.degraded
    assert stale.source == "daily profile"
    source.stop()


async def test_mqtt_forecast_series_payload(client: tuple[MosquittoBroker, MqttClient]) -> None:
    _, c = client
    clock = ManualClock(T0)
    source = MqttSource(c, "weather/forecast", clock, field=FIELD, max_age_s=3600.0)
    await source.start()
    payload = [{"time": (T0 + timedelta(hours=h)).isoformat(), "value": 10 + h} for h in range(3)]
    await c.publish("weather/forecast", json.dumps(payload).encode(), retain=True)
    q = QuantityForecaster(QuantitySpec("outdoor_c", 5.0, source), BERLIN)
    await _until(lambda: q.forecast(clock.now(), _hours(3)).degraded is None)
    np.testing.assert_allclose(q.forecast(clock.now(), _hours(3)).values, [10, 11, 12])
    source.stop()


def test_a_gap_in_a_series_is_missing_not_smeared() -> None:
    # Bug guarded: a file missing a day must not stretch yesterday's last value over it.
    hour = 3600.0
    times = [0.0, hour, 2 * hour, 30 * hour, 31 * hour]
    series = TimeSeries.from_points(times, [1.0, 2.0, 3.0, 7.0, 8.0], T0)
    means = series.mean_over(
        np.array([0.0, 2 * hour, 10 * hour, 30 * hour]), np.array([hour, 3 * hour, 11 * hour, 32 * hour])
    )
    np.testing.assert_allclose(means[[0, 1, 3]], [1.0, 3.0, 7.5])
    assert np.isnan(means[2])
    half = series.mean_over(np.array([2.5 * hour]), np.array([4.5 * hour]))  # covered 1/4 only
    assert np.isnan(half[0])
