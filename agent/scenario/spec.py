"""A scenario file read into typed values: site, run, data, tariff, grid, devices.

``load_spec(path)`` checks every key (unknown keys are errors, so a typo never drops a device)
and raises :class:`ScenarioError` naming the key path, or file, row and column of a data file.
The ``simulate`` section belongs to the rig (``hems simulate``) and is only checked to be a
mapping here: the agent does not need the rig to plan a scenario.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from agent.scenario.devices import Devices, parse_devices
from agent.scenario.errors import ScenarioError
from agent.scenario.keys import day, instant, known, mapping, need, number
from agent.scenario.series import Method, SeriesSpec
from agent.scenario.tariff import Tariff, parse_tariff

# The data a scenario can name, and how each is brought to the run's step.
DATA_METHODS: dict[str, Method] = {
    "forward_price_per_kwh": "mean",
    "spot_price_per_kwh": "mean",
    "outdoor_c": "interpolate",
    "ghi_w_per_m2": "mean",
    "dni_w_per_m2": "mean",
    "dhi_w_per_m2": "mean",
    "pv_kw": "mean",
    "base_load_kw": "mean",
    "hot_water_l_per_h": "mean",
}
TOP_KEYS = {"name", "site", "start", "step", "horizon", "days", "data", "replay", "weather_station"} | {
    "tariff", "grid", "devices", "simulate",
}  # fmt: skip
SERIES_KEYS = {"csv", "column", "scale", "offset", "align", "fill", "method", "shift_s"}
OLD_KEYS = {"series": "data", "base_load_kw": "data.base_load_kw", "pv_kw": "data.pv_kw or devices.pv"} | {
    "battery": "devices.battery", "ev": "devices.ev", "heat_pump": "devices.heat_pump",
    "water_heater": "devices.water_heater", "home": "devices (and the data it used, under data)",
    "speed": "simulate.speed", "cycle_s": "simulate.cycle_s", "faults": "simulate.faults",
    "agent": "simulate.agent", "pricing": "simulate.pricing",
}  # fmt: skip
_STEP = re.compile(r"^PT(\d+)([MH])$")


@dataclass(frozen=True)
class Site:
    tz: str
    latitude_deg: float | None = None  # where the sun is computed for the site (the rig's agent)
    longitude_deg: float | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass(frozen=True)
class Replay:
    """Show the data of ``from_day`` on the run's first local day, looping every ``days`` days."""

    from_day: date
    days: int


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    path: Path | None
    site: Site
    start: datetime
    step: timedelta
    end: datetime
    data: Mapping[str, SeriesSpec | float]
    tariff: Tariff
    import_limit_kw: float
    export_limit_kw: float
    devices: Devices
    replay: Replay | None = None
    station: tuple[float, float] | None = None  # where the irradiance was recorded (lat, lon)
    simulate: Mapping[str, Any] = field(default_factory=dict)

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)

    def starts(self) -> list[datetime]:
        """The run's interval starts, in the site's zone."""
        n = math.ceil((self.end - self.start) / self.step - 1e-9)
        tz = self.site.zone
        return [(self.start + k * self.step).astimezone(tz) for k in range(n)]


def load_spec(path: Path) -> ScenarioSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError("scenario", f"cannot read {path}: {e.strerror}") from e
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScenarioError("scenario", f"{path} is not valid YAML: {e}") from e
    return parse_spec(doc, path=path)


def parse_spec(doc: Any, *, path: Path | None = None, base_dir: Path | None = None) -> ScenarioSpec:
    d = mapping("scenario", doc)
    for old, new in OLD_KEYS.items():
        if old in d:
            raise ScenarioError(
                old, f"is the old scenario format; write it as {new} (docs/scenario-format.md)"
            )
    known("", d, TOP_KEYS)
    base = base_dir or (path.parent if path else Path.cwd())
    site_doc = mapping("site", need(d, "site", ""))
    known("site", site_doc, {"tz", "latitude_deg", "longitude_deg"})
    tz_name = str(need(site_doc, "tz", "site"))
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ScenarioError("site.tz", f"unknown IANA time zone {tz_name!r}") from e
    lat, lon = site_doc.get("latitude_deg"), site_doc.get("longitude_deg")
    site = Site(
        tz_name,
        None if lat is None else number("site.latitude_deg", lat, lo=-90.0, hi=90.0),
        None if lon is None else number("site.longitude_deg", lon, lo=-180.0, hi=180.0),
    )
    start = instant("start", need(d, "start", ""))
    step = _step(d.get("step", "PT15M"))
    end = _end(d, start, step, tz)
    data_doc = mapping("data", d.get("data", {}))
    known("data", data_doc, set(DATA_METHODS))
    data = {str(k): _series(f"data.{k}", v, DATA_METHODS[str(k)], base) for k, v in data_doc.items()}
    replay = None
    if "replay" in d:
        r = mapping("replay", d["replay"])
        known("replay", r, {"from", "days"})
        days = need(r, "days", "replay")
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ScenarioError("replay.days", f"must be a whole number of days >= 1, got {days!r}")
        replay = Replay(day("replay.from", need(r, "from", "replay")), days)
    station = None
    if "weather_station" in d:
        w = mapping("weather_station", d["weather_station"])
        known("weather_station", w, {"latitude_deg", "longitude_deg"})
        station = (
            number("weather_station.latitude_deg", need(w, "latitude_deg", "weather_station"), lo=-90, hi=90),
            number(
                "weather_station.longitude_deg", need(w, "longitude_deg", "weather_station"), lo=-180, hi=180
            ),
        )
    grid = mapping("grid", need(d, "grid", ""))
    known("grid", grid, {"import_limit_kw", "export_limit_kw"})
    return ScenarioSpec(
        name=str(d.get("name") or (path.stem if path else "scenario")),
        path=path,
        site=site,
        start=start,
        step=step,
        end=end,
        data=data,
        tariff=parse_tariff(mapping("tariff", d.get("tariff", {}))),
        import_limit_kw=number("grid.import_limit_kw", need(grid, "import_limit_kw", "grid"), lo=0.0),
        export_limit_kw=number("grid.export_limit_kw", need(grid, "export_limit_kw", "grid"), lo=0.0),
        devices=parse_devices(mapping("devices", d.get("devices", {})), base),
        replay=replay,
        station=station,
        simulate=mapping("simulate", d.get("simulate", {})),
    )


def _step(raw: Any) -> timedelta:
    m = _STEP.match(str(raw))
    step = None
    if m:
        n = int(m.group(1))
        step = timedelta(minutes=n) if m.group(2) == "M" else timedelta(hours=n)
    if step is None or not timedelta(minutes=1) <= step <= timedelta(hours=1) or timedelta(hours=1) % step:
        raise ScenarioError(
            "step", f"must be PT<n>M dividing an hour, or PT1H (PT5M, PT15M, PT1H), got {raw!r}"
        )
    return step


def _end(d: Mapping[str, Any], start: datetime, step: timedelta, tz: ZoneInfo) -> datetime:
    if ("horizon" in d) == ("days" in d):
        raise ScenarioError("days", "give the run's length as days or as horizon (intervals), one of them")
    if "horizon" in d:
        n = d["horizon"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ScenarioError("horizon", f"must be a whole number of intervals >= 1, got {n!r}")
        return start + n * step
    days = number("days", d["days"], lo=1 / 96, hi=400.0)
    if days == int(days):
        # whole days end at the same local time: a year over two DST changes is 8760 hours
        local = start.astimezone(tz).replace(tzinfo=None) + timedelta(days=int(days))
        return local.replace(tzinfo=tz).astimezone(start.tzinfo)
    return start + timedelta(days=days)


def _series(key: str, raw: Any, method: Method, base: Path) -> SeriesSpec | float:
    if not isinstance(raw, Mapping):
        return number(key, raw)
    known(key, raw, SERIES_KEYS)
    align = raw.get("align", "instant")
    if align not in ("instant", "wall", "standard"):
        raise ScenarioError(f"{key}.align", f"must be instant, wall or standard, got {align!r}")
    fill = raw.get("fill", "error")
    if fill not in ("error", "week"):
        raise ScenarioError(f"{key}.fill", f"must be error or week, got {fill!r}")
    chosen = raw.get("method", method)
    if chosen not in ("mean", "interpolate"):
        raise ScenarioError(f"{key}.method", f"must be mean or interpolate, got {chosen!r}")
    return SeriesSpec(
        key=key,
        path=(base / str(need(raw, "csv", key))).resolve(),
        column=str(need(raw, "column", key)),
        method=chosen,
        scale=number(f"{key}.scale", raw.get("scale", 1.0)),
        offset=number(f"{key}.offset", raw.get("offset", 0.0)),
        align=align,
        fill=fill,
        shift_s=number(f"{key}.shift_s", raw.get("shift_s", 0.0), lo=-86400.0, hi=86400.0),
    )
