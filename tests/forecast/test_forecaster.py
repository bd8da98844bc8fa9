"""The API the control cycle calls: built from the config, never raising, feeding the error record."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.clock import ManualClock
from agent.config import parse_config
from agent.config.model import Config
from agent.forecast import ForecastConfigError, Forecaster, build_forecaster
from agent.forecast.pv_forecast import PvForecaster, PvSettings
from agent.forecast.pv_model import PvArray
from agent.forecast.sources import CsvSource
from agent.market.intervals import Duration, Interval, containing, horizon, intervals_between

DATA = Path(__file__).parent / "data"
NEW_YORK = ZoneInfo("America/New_York")
NOON = datetime(2026, 6, 10, 12, tzinfo=NEW_YORK)


def _config(tmp_path: Path, forecast: str = "") -> Config:
    text = f"""
site: {{id: home, timezone: America/New_York, latitude: 36.1, longitude: -79.95}}
mqtt_brokers: {{local: {{host: 127.0.0.1}}}}
devices:
  grid: {{role: meter, driver: {{type: simulated}}}}
  roof: {{role: pv_inverter, peak_kw: 5.0, tilt_deg: 25, azimuth_deg: 180, driver: {{type: simulated}}}}
  garage: {{role: pv_inverter, peak_kw: 2.0, tilt_deg: 10, azimuth_deg: 270, driver: {{type: simulated}}}}
{forecast}
"""
    return parse_config(text, base_dir=tmp_path)


def _horizon(now: datetime, step: Duration = Duration.PT15M, n: int = 96) -> list[Interval]:
    return horizon(containing(now, step, NEW_YORK), n)


def test_built_from_config_every_series_is_aligned_and_carries_its_age(tmp_path: Path) -> None:
    (tmp_path / "h0.csv").write_text((DATA / "h0_week.csv").read_text())
    config = _config(
        tmp_path,
        """forecast:
  base_load: {seed_file: h0.csv, seed_scale: 1.5}
  outdoor_temperature: {profile_c: {5: 18, 15: 30}}
  hot_water: {profile_l_per_h: {7: 60, 8: 2}}
""",
    )
    clock = ManualClock(NOON.astimezone(UTC))
    f = build_forecaster(config, clock)
    ivs = _horizon(clock.now())
    result = f.forecast(clock.now(), ivs)
    for s in result.series:
        assert len(s.values) == 96
        assert np.all(np.isfinite(s.values))
    assert result.starts == tuple(iv.start for iv in ivs)
    assert "seed" in result.base_load.source
    assert result.outdoor_c.min() >= 18.0 and result.outdoor_c.max() <= 30.0
    assert result.draw_l.sum() == pytest.approx(60 + 23 * 2)  # one day of the profile, in litres
    assert result.pv_kw.max() <= 7.0
    assert result.pv_kw[0] > 1.0  # noon in June
    clock.advance(90.0)
    assert result.age_s(clock) == 90.0
    assert result.base_load.age_s(clock) == 90.0
    with pytest.raises(ValueError, match="read-only"):
        result.pv_kw[0] = 0.0  # shared arrays cannot be edited by one consumer behind another's back


def test_mqtt_source_without_a_connected_broker_is_a_config_error(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "forecast: {outdoor_temperature: {source: {type: mqtt, broker: local, topic: w/t}}}",
    )
    with pytest.raises(ForecastConfigError, match=r"forecast.outdoor_temperature.source.broker"):
        build_forecaster(config, ManualClock(NOON))


def test_a_broken_method_degrades_to_a_constant_and_recovers(tmp_path: Path) -> None:
    f = build_forecaster(_config(tmp_path), ManualClock(NOON))

    def broken(*_: object) -> None:
        raise ZeroDivisionError("bug")

    original = f.pv.forecast
    f.pv.forecast = broken  # type: ignore[method-assign,assignment]
    ivs = _horizon(NOON)
    result = f.forecast(NOON, ivs)
    assert np.all(result.pv_kw == 0.0)
    assert result.degraded["pv_kw"] == "forecast failed: bug"
    assert result.pv.source == "constant 0"
    f.pv.forecast = original  # type: ignore[method-assign]
    recovered = f.forecast(NOON, ivs).pv
    assert recovered.source.startswith("clear sky")
    assert recovered.values.max() > 1.0


def test_recent_production_scales_pv_and_decays_to_climatology() -> None:
    pv = PvForecaster(
        [PvArray("roof", 5.0, 25.0, 180.0)], PvSettings(36.1, -79.95, decay_h=2.0, climate_ratio=0.7)
    )
    now = NOON.astimezone(UTC)
    past = intervals_between(now - timedelta(hours=3), now, Duration.PT15M, NEW_YORK)
    clear_past = pv.clear_sky_kw(past)
    for iv, clear in zip(past, clear_past, strict=True):
        pv.observe(iv, 0.3 * clear)  # a thick overcast morning
    assert pv.recent_ratio(now.timestamp()) == pytest.approx(0.3, rel=1e-6)
    ivs = _horizon(now, n=24)
    s = pv.forecast(now, ivs)
    clear = pv.clear_sky_kw(ivs)
    ratio = s.values / clear
    lead_h = np.array([(iv.start_utc + iv.span / 2 - now).total_seconds() / 3600 for iv in ivs])
    np.testing.assert_allclose(ratio, 0.7 - 0.4 * np.exp(-lead_h / 2.0), rtol=1e-9)
    assert "recent ratio 0.30" in s.source


def test_missing_daytime_measurements_are_reported_as_degraded() -> None:
    pv = PvForecaster([PvArray("roof", 5.0)], PvSettings(36.1, -79.95))
    s = pv.forecast(NOON, _horizon(NOON, n=4))
    assert s.degraded is not None and "no PV measurement" in s.degraded
    assert "climatological" in s.source


def test_weather_ghi_from_the_real_tmy3_drives_pv(tmp_path: Path) -> None:
    csv_path = tmp_path / "ghi.csv"
    csv_path.write_text((DATA / "greensboro_tmy3_slice.csv").read_text())
    weather = CsvSource(csv_path, "ghi_w_per_m2", field="forecast.pv.weather")
    pv = PvForecaster([PvArray("roof", 5.0)], PvSettings(36.1, -79.95), weather)
    day = datetime(2015, 6, 1, tzinfo=ZoneInfo("Etc/GMT+5"))  # the file's fixed UTC-5
    ivs = horizon(containing(day, Duration.PT1H, NEW_YORK), 24 * 30)
    s = pv.forecast(day, ivs)
    assert s.degraded is None and "csv ghi.csv" in s.source
    by_day = s.values.reshape(30, 24).sum(axis=1)
    with (DATA / "greensboro_tmy3_slice.csv").open() as fh:
        ghi = [float(line.split(",")[1]) for line in fh if line.startswith("2015-06")]
    ghi_by_day = np.array(ghi).reshape(30, 24).sum(axis=1)
    # PV energy follows the measured sunshine: a cloudy day makes little, a clear day a lot.
    assert np.corrcoef(by_day, ghi_by_day)[0, 1] > 0.95
    beyond = pv.forecast(
        day, horizon(containing(datetime(2015, 7, 1, 10, tzinfo=UTC), Duration.PT1H, NEW_YORK), 4)
    )
    assert (
        beyond.degraded is not None and "covers none" not in beyond.degraded
    )  # a PV note, not a quantity one
    assert "covers 0 of 4" in beyond.degraded


def test_observe_feeds_history_and_the_error_record(tmp_path: Path) -> None:
    f = build_forecaster(_config(tmp_path), ManualClock(NOON))
    now = NOON.astimezone(UTC)
    ivs = _horizon(now, Duration.PT1H, 3)
    f.forecast(now - timedelta(hours=2), ivs)
    for iv in ivs:
        for five in iv.children(Duration.PT5M):
            f.observe(five, base_load_kw=0.9, outdoor_c=21.0, draw_l=1.0)
    acc = f.accuracy()
    assert set(acc) == {"base_load_kw", "outdoor_c", "draw_l_per_h"}
    assert acc["base_load_kw"]["all"]["count"] == 3
    assert acc["base_load_kw"]["all"]["bias"] == pytest.approx(0.4 - 0.9)  # flat default 0.4
    assert acc["draw_l_per_h"]["all"]["bias"] == pytest.approx(5.0 - 12.0)
    assert list(acc["outdoor_c"]["by_lead"]) == ["1-6h"]


odd = st.one_of(st.floats(-10, 50), st.just(math.nan), st.just(math.inf), st.none())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.integers(0, 14 * 96), odd, odd, odd, odd), max_size=80),
    st.sampled_from([Duration.PT5M, Duration.PT15M, Duration.PT1H]),
    st.integers(0, 100),
    st.integers(0, 365 * 24),
)
def test_forecast_never_raises_and_stays_physical(
    tmp_path: Path,
    observations: list[tuple[int, float | None, float | None, float | None, float | None]],
    step: Duration,
    count: int,
    hour_of_year: int,
) -> None:
    f: Forecaster = build_forecaster(_config(tmp_path), ManualClock(NOON))
    origin = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hour_of_year)
    for k, load, pv, temp, draw in observations:
        iv = containing(origin + timedelta(minutes=15 * k), step, NEW_YORK)
        f.observe(iv, base_load_kw=load, pv_kw=pv, outdoor_c=temp, draw_l=draw)
    now = origin + timedelta(days=15)
    result = f.forecast(now, _horizon(now, step, count))
    for s in result.series:
        assert len(s.values) == count
        assert np.all(np.isfinite(s.values))
        assert s.degraded is None or "forecast failed" not in s.degraded
    assert np.all(result.base_load_kw >= 0) and np.all(result.pv_kw >= 0) and np.all(result.draw_l >= 0)
    assert np.all(result.pv_kw <= 7.0)
    assert all(math.isfinite(v["all"]["mae"]) or v["all"]["count"] == 0 for v in f.accuracy().values())


def test_the_sky_kept_for_one_horizon_is_not_used_for_another() -> None:
    """PV and irradiance over one horizon share the sun's positions; a horizon that differs
    (moved on, or the same list object changed in place) gets its own."""
    arrays = [PvArray("roof", 5.0, 25.0, 180.0)]
    kept = PvForecaster(arrays, PvSettings(36.1, -79.95))
    now = NOON.astimezone(UTC)
    ivs = _horizon(now, n=48)
    kept.forecast(now, ivs)
    for asked in (ivs, _horizon(now + timedelta(hours=5), n=48), _horizon(now, Duration.PT1H, n=12)):
        fresh = PvForecaster(arrays, PvSettings(36.1, -79.95))
        np.testing.assert_array_equal(kept.irradiance(now, asked).values, fresh.irradiance(now, asked).values)
        np.testing.assert_array_equal(kept.forecast(now, asked).values, fresh.forecast(now, asked).values)
    ivs[:] = _horizon(now + timedelta(hours=6), n=48)
    np.testing.assert_array_equal(
        kept.forecast(now, ivs).values,
        PvForecaster(arrays, PvSettings(36.1, -79.95)).forecast(now, ivs).values,
    )
