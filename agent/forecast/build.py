"""Building a :class:`Forecaster` from the ``forecast:`` section of the config."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from agent.clock import Clock
from agent.config import devices as cfg
from agent.config.model import Config
from agent.config.sections import CsvForecastSource, ForecastSource, MqttForecastSource
from agent.forecast.baseload import BaseLoadForecaster, BaseLoadSettings
from agent.forecast.errors import ForecastError, SourceError
from agent.forecast.forecaster import Forecaster
from agent.forecast.prior import LoadPrior
from agent.forecast.profile import DailyProfile
from agent.forecast.pv_forecast import PvForecaster, PvSettings
from agent.forecast.pv_model import PvArray
from agent.forecast.quantity import QuantityForecaster, QuantitySpec
from agent.forecast.seed import SeedProfile
from agent.forecast.sources import CsvSource, MqttSource, Source
from agent.forecast.timeseries import parse_csv
from drivers.mqtt.client import MqttClient


class ForecastConfigError(ForecastError):
    """The forecast settings cannot work here (a seed file that does not parse, a broker not set up)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _source(
    spec: ForecastSource | None,
    field: str,
    clock: Clock,
    clients: Mapping[str, MqttClient],
    mqtt: list[MqttSource],
) -> Source | None:
    if spec is None:
        return None
    if isinstance(spec, CsvForecastSource):
        return CsvSource(spec.file, spec.column, field=field, max_age_s=spec.stale_after_s)
    assert isinstance(spec, MqttForecastSource)
    client = clients.get(spec.broker)
    if client is None:
        raise ForecastConfigError(f"broker {spec.broker!r} is not connected", field=f"{field}.broker")
    source = MqttSource(client, spec.topic, clock, field=field, max_age_s=spec.stale_after_s)
    mqtt.append(source)
    return source


def build_forecaster(
    config: Config, clock: Clock, mqtt_clients: Mapping[str, MqttClient] | None = None
) -> Forecaster:
    """``mqtt_clients``: broker name -> client, for MQTT sources (the drivers' shared links)."""
    f = config.forecast
    tz = config.zone
    clients = mqtt_clients or {}
    mqtt: list[MqttSource] = []
    seed = None
    if f.base_load.seed_file is not None:
        field = "forecast.base_load.seed_file"
        try:
            text = f.base_load.seed_file.read_text(encoding="utf-8")
            series = parse_csv(
                text,
                f.base_load.seed_column,
                field=field,
                issued_at=datetime.now(UTC),
                name=f.base_load.seed_file.name,
            )
        except (OSError, UnicodeDecodeError, SourceError) as e:
            raise ForecastConfigError(str(e), field=field) from e
        seed = SeedProfile(series, tz, scale=f.base_load.seed_scale)
    b = f.base_load
    prior = None
    if b.annual_consumption_kwh is not None:
        prior = LoadPrior(b.annual_consumption_kwh, tz, prior_days=b.prior_days)
    base = BaseLoadForecaster(
        BaseLoadSettings(
            weeks=b.weeks,
            recency=b.recency,
            combine=b.combine,
            default_kw=b.default_kw,
            blend_tau_h=b.blend_tau_h,
        ),
        tz,
        seed,
        prior,
    )
    arrays = [
        PvArray(name, d.peak_kw, d.tilt_deg, d.azimuth_deg, f.pv.losses)
        for name, d in config.devices_of(cfg.PvInverter).items()
    ]
    p = f.pv
    pv = PvForecaster(
        arrays,
        PvSettings(
            config.site.latitude,
            config.site.longitude,
            recent_h=p.recent_h,
            decay_h=p.decay_h,
            climate_ratio=p.climate_ratio,
            weather_kind=p.weather_kind,
            calibration_h=p.calibration_h,
        ),
        _source(p.weather, "forecast.pv.weather", clock, clients, mqtt),
    )
    o = f.outdoor_temperature
    outdoor = QuantityForecaster(
        QuantitySpec(
            "outdoor_c",
            o.default_c,
            _source(o.source, "forecast.outdoor_temperature.source", clock, clients, mqtt),
            DailyProfile(o.profile_c, "linear") if o.profile_c else None,
            o.anchor_decay_h,
        ),
        tz,
    )
    h = f.hot_water
    draws = QuantityForecaster(
        QuantitySpec(
            "draw_l",
            h.default_l_per_h,
            _source(h.source, "forecast.hot_water.source", clock, clients, mqtt),
            DailyProfile(h.profile_l_per_h, "step") if h.profile_l_per_h else None,
            h.anchor_decay_h,
            per_interval_amount=True,
            lower_bound=0.0,
        ),
        tz,
    )
    return Forecaster(tz, base_load=base, pv=pv, outdoor=outdoor, draws=draws, mqtt_sources=mqtt)
