"""The rig's weather-forecast provider: its error model, and the agent's own forecaster reading it
over a real Mosquitto broker from the config the rig writes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.clock import ManualClock
from agent.forecast import build_forecaster
from agent.market.intervals import Duration, containing, horizon
from drivers.assembly import add_brokers
from drivers.base import DeviceContext
from drivers.mqtt.client import MqttClient
from drivers.mqtt.factory import broker_key
from hil.emulators.weather import ForecastErrors, forecast_points
from hil.plant import SUMMER, build_plant
from hil.plant.tank import DEFAULT_DRAWS
from hil.rig import Rig
from hil.rig_config import hot_water_profile
from tests.hil.conftest import NOON, rig_config

PLANT = build_plant(SUMMER, NOON, days=3)


def test_a_forecast_without_error_is_the_plants_weather() -> None:
    exact = ForecastErrors(0.0, 0.0, 0.0, 0.0)
    points = forecast_points(PLANT.weather, NOON, 30, exact)
    assert len(points["temp_air_c"]) == len(points["ghi_w_per_m2"]) == 30
    for at, value in points["temp_air_c"]:
        assert value == pytest.approx(PLANT.weather.at(at).temp_air_c)
    for at, value in points["ghi_w_per_m2"]:
        assert value == pytest.approx(PLANT.weather.at(at).ghi_w_per_m2)
    # GHI stands at the hour's middle, temperature at the hour.
    assert points["ghi_w_per_m2"][0][0] - points["temp_air_c"][0][0] == timedelta(minutes=30)


def test_the_error_grows_with_lead_time_and_repeats_per_issue() -> None:
    errors = ForecastErrors()
    first, last = [], []
    for h in range(0, 24 * 7, 3):
        issued = NOON + timedelta(hours=h)
        points = forecast_points(PLANT.weather, issued, 48, errors)
        again = forecast_points(PLANT.weather, issued, 48, errors)
        assert points == again  # seeded by the issue time
        err = [v - PLANT.weather.at(t).temp_air_c for t, v in points["temp_air_c"]]
        first.append(err[0])
        last.append(err[-1])
    assert np.std(last) > 1.5 * np.std(first)
    assert np.std(first) < 1.0


@settings(max_examples=30, deadline=None)
@given(hours_ahead=st.integers(0, 24 * 6), sd=st.floats(0.0, 2.0))
def test_irradiance_stays_physical(hours_ahead: int, sd: float) -> None:
    issued = NOON + timedelta(hours=hours_ahead)
    points = forecast_points(PLANT.weather, issued, 24, ForecastErrors(ghi_sd=sd, ghi_sd_per_day=sd))
    for at, value in points["ghi_w_per_m2"]:
        true = PLANT.weather.at(at).ghi_w_per_m2
        assert 0.0 <= value <= 1.5 * true + 1e-9


def test_bad_error_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="temp_sd_c"):
        ForecastErrors(temp_sd_c=-1.0)
    with pytest.raises(ValueError, match="ghi_sd"):
        ForecastErrors(ghi_sd=float("nan"))


def test_hot_water_profile_carries_the_draws_heat_at_the_taps() -> None:
    profile = hot_water_profile(DEFAULT_DRAWS)
    keys = sorted(profile)
    litres = sum(profile[k] * ((keys[i + 1] if i + 1 < len(keys) else 24.0) - k) for i, k in enumerate(keys))
    drawn = sum(d[2] for d in DEFAULT_DRAWS)
    # The plant's draws are litres at the mixing valve, the planner's delivery temperature too.
    assert litres == pytest.approx(drawn, rel=1e-4)  # 0.01 l/h rounding
    assert profile[6.75] > 0.0 and profile[7.0] == 0.0  # the 06:45 shower, in its quarter hour
    assert all(v >= 0.0 for v in profile.values())


async def test_the_agents_forecaster_reads_the_rigs_forecast(
    rig: Rig, clock: ManualClock, tmp_path: Path
) -> None:
    config = rig_config(rig, tmp_path)
    assert config.forecast.pv.weather is not None
    ctx = DeviceContext(clock=clock)
    add_brokers(config, ctx)
    client = ctx.links.get_or_create(broker_key("rig"), MqttClient, lambda: pytest.fail("no broker link"))
    await client.start()
    try:
        await client.wait_connected(10.0)
        forecaster = build_forecaster(config, clock, mqtt_clients={"rig": client})
        await forecaster.start()
        ivs = list(horizon(containing(clock.now(), Duration.PT15M, config.zone), 96))
        deadline = asyncio.get_running_loop().time() + 10.0
        while True:
            rig._publish(force=True)  # retained: a restarted agent gets the forecast at once
            await asyncio.sleep(0.1)
            result = forecaster.forecast(clock.now(), ivs)
            if result.outdoor.degraded is None and result.pv.degraded is None:
                break
            assert asyncio.get_running_loop().time() < deadline, (result.outdoor, result.pv)
        truth = np.array([rig.plant.weather.at(iv.start + timedelta(minutes=7.5)).temp_air_c for iv in ivs])
        assert np.abs(result.outdoor_c - truth).max() < 6.0
        assert np.abs(result.outdoor_c - truth).mean() < 2.0
        assert "weather/hil/ghi_w_per_m2" in result.pv.source
        # The sun the agent models is the plant's: PV forecast and plant PV peak in the same hour.
        pv_truth = []
        for iv in ivs:
            w = rig.plant.weather.at(iv.start + timedelta(minutes=7.5))
            assert rig.plant.pv is not None
            pv_truth.append(
                rig.plant.pv.available_kw(w, rig.plant.weather.latitude_deg, rig.plant.weather.longitude_deg)
            )
        day = slice(0, 48)  # noon to midnight, then the next morning
        assert abs(int(np.argmax(result.pv_kw[48:])) - int(np.argmax(pv_truth[48:]))) <= 4
        assert float(np.sum(result.pv_kw[day])) == pytest.approx(float(np.sum(pv_truth[day])), rel=0.35)
        await forecaster.stop()
    finally:
        await ctx.links.close_all()
