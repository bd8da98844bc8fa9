"""The forecast error record: pairing, lead buckets, aggregation across steps, the rolling day."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.forecast.accuracy import ErrorRecorder, bucket_name
from agent.market.intervals import Duration, containing

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 5, 4, 10, tzinfo=UTC)


def test_errors_by_lead_bucket_with_mae_and_bias() -> None:
    r = ErrorRecorder()
    target = containing(T0 + timedelta(hours=8), Duration.PT1H, BERLIN)
    r.record_forecast("pv_kw", target, T0, 3.0)  # 8 h ahead
    r.record_forecast("pv_kw", target, T0 + timedelta(hours=1), 2.5)  # 7 h: same bucket, ignored
    r.record_forecast("pv_kw", target, T0 + timedelta(hours=4), 2.2)  # 4 h ahead
    r.record_forecast("pv_kw", target, T0 + timedelta(hours=7, minutes=30), 1.9)  # 30 min ahead
    r.record_measurement("pv_kw", target, 2.0)
    assert r.stats("pv_kw", "6-24h").mae == pytest.approx(1.0)
    assert r.stats("pv_kw", "1-6h").bias == pytest.approx(0.2)
    assert r.stats("pv_kw", "<1h").bias == pytest.approx(-0.1)
    overall = r.stats("pv_kw")
    assert overall.count == 3
    assert overall.mae == pytest.approx((1.0 + 0.2 + 0.1) / 3)
    assert overall.bias == pytest.approx((1.0 + 0.2 - 0.1) / 3)
    summary = r.summary()
    assert list(summary["pv_kw"]["by_lead"]) == ["<1h", "1-6h", "6-24h"]
    assert summary["pv_kw"]["all"]["count"] == 3


def test_five_minute_measurements_close_an_hourly_forecast_once_covered() -> None:
    r = ErrorRecorder()
    hour = containing(T0, Duration.PT1H, BERLIN)
    r.record_forecast("base_load_kw", hour, T0 - timedelta(hours=2), 1.0)
    fives = hour.children(Duration.PT5M)
    for i, five in enumerate(fives[:-1]):
        r.record_measurement("base_load_kw", five, 0.5 + (i % 2))
    assert r.stats("base_load_kw").count == 0  # not covered yet: no sample from a partial hour
    r.record_measurement("base_load_kw", fives[-1], 1.5)
    # six at 0.5 and six at 1.5: the hour's mean is 1.0, so the error is 0
    stats = r.stats("base_load_kw")
    assert stats.count == 1
    assert stats.mae == pytest.approx(0.0)


def test_samples_older_than_a_day_drop_out_and_unmeasured_forecasts_are_forgotten() -> None:
    r = ErrorRecorder()
    first = containing(T0, Duration.PT1H, BERLIN)
    r.record_forecast("outdoor_c", first, T0, 10.0)
    r.record_measurement("outdoor_c", first, 12.0)
    never = containing(T0 + timedelta(hours=1), Duration.PT1H, BERLIN)
    r.record_forecast("outdoor_c", never, T0, 10.0)
    assert r.stats("outdoor_c").count == 1
    later = containing(T0 + timedelta(hours=25), Duration.PT1H, BERLIN)
    r.record_forecast("outdoor_c", later, T0 + timedelta(hours=24), 5.0)
    r.record_measurement("outdoor_c", later, 4.0)
    assert [s.error for s in r.samples("outdoor_c")] == [1.0]
    assert r.stats("outdoor_c").bias == pytest.approx(1.0)


def test_non_finite_values_are_not_recorded() -> None:
    r = ErrorRecorder()
    iv = containing(T0, Duration.PT1H, BERLIN)
    r.record_forecast("pv_kw", iv, T0, math.nan)
    r.record_measurement("pv_kw", iv, 1.0)
    assert r.stats("pv_kw").count == 0
    assert math.isnan(r.stats("pv_kw").mae)


@pytest.mark.parametrize(
    ("lead_h", "name"),
    [(-0.5, "<1h"), (0.0, "<1h"), (1.0, "1-6h"), (5.99, "1-6h"), (6.0, "6-24h"), (30, ">=24h")],
)
def test_bucket_names(lead_h: float, name: str) -> None:
    assert bucket_name(lead_h * 3600.0) == name
