"""A small home (config text, forecasts, tenders) shared by the planning and trading tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from agent.config import Config, parse_config
from agent.forecast import Forecasts, Series
from agent.market.intervals import Interval
from agent.market.records import Product, Side, Tender

NOW = datetime(2026, 3, 10, 8, 3, tzinfo=UTC)  # 09:03 in Berlin; the plan starts 09:00 local

CONFIG_TEXT = """
site: {{id: home-1, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4, currency: EUR}}
metering_interval: PT15M
market:
  retailer_party_id: shop
  price_min_per_kwh: "-0.50"
  price_max_per_kwh: "2.00"
  commitment_window_h: {window_h}
  hedge_ratio: {hedge}
  max_tender_kw: {max_kw}
planner: {{horizon_h: {horizon_h}, step: PT15M}}
devices:
  grid:
    role: meter
    import_max_kw: 20
    export_max_kw: 10
    driver: {{type: simulated}}
  pv:
    role: pv_inverter
    peak_kw: 6
    curtailable: true
    driver: {{type: simulated}}
  battery:
    role: battery
    capacity_kwh: 10
    charge_max_kw: 4
    discharge_max_kw: 4
    soc_min: 0.1
    soc_max: 0.9
    reserve_soc: 0.2
    wear_cost_per_kwh: "0.01"
    driver: {{type: simulated}}
{extra}
"""

WATER_HEATER = """
  boiler:
    role: water_heater
    tank_l: 150
    element_kw: 2
    driver: {type: simulated}
"""

# A car on the simulated charger, which only charges: v2g: true is planned as charge-only.
EV = """
  car:
    role: ev_charger
    max_kw: 7
    v2g: true
    v2g_max_kw: 5
    battery_kwh: 50
    departure_time: "07:00"
    target_soc: 0.8
    driver: {type: simulated}
"""


# A car on a charger that can discharge it: EVerest's API over MQTT (needs BROKER).
V2G_EV = """
  car:
    role: ev_charger
    max_kw: 7
    v2g: true
    v2g_max_kw: 5
    battery_kwh: 50
    driver: {type: mqtt, broker: home, topic_map: everest_bidirectional, base_topic: everest_api/evse_manager}
"""
BROKER = "mqtt_brokers: {home: {host: 127.0.0.1}}\n"


def config(
    *,
    hedge: float = 1.0,
    window_h: int = 3,
    horizon_h: int = 3,
    max_kw: float = 8.0,
    extra: str = "",
    top: str = "",
) -> Config:
    """``extra``: more devices; ``top``: more top-level sections (e.g. ``BROKER``)."""
    text = CONFIG_TEXT.format(hedge=hedge, window_h=window_h, horizon_h=horizon_h, max_kw=max_kw, extra=extra)
    return parse_config(text.replace("devices:\n", top + "devices:\n", 1))


def forecasts(
    starts: tuple[datetime, ...], *, base_kw: float | list[float] = 1.0, pv_kw: float | list[float] = 0.0
) -> Forecasts:
    n = len(starts)

    def s(name: str, v: float | list[float]) -> Series:
        return Series(name, np.broadcast_to(np.asarray(v, dtype=float), (n,)), NOW, "test")

    return Forecasts(
        NOW, starts, s("base_load_kw", base_kw), s("pv_kw", pv_kw), s("outdoor_c", 5.0), s("draw_l", 2.0)
    )


def tender(
    tid: str,
    interval: Interval,
    side: Side,
    price: str,
    kw: str = "3",
    *,
    party: str = "shop",
    actionable: bool = True,
    expires: datetime | None = None,
    product: Product = Product.ENERGY,
    from_node: str | None = None,
    to_node: str | None = None,
    currency: str = "EUR",
) -> Tender:
    return Tender(
        id=tid,
        party=party,
        counterparty=None,
        side=side,
        product=product,
        interval=interval,
        quantity_kw=Decimal(kw),
        price_per_kwh=Decimal(price),
        currency=currency,
        expires=expires or NOW + timedelta(minutes=30),
        actionable=actionable,
        from_node=from_node,
        to_node=to_node,
    )
