"""``market: {type: octopus, ...}`` inside a tariff: unit rates from Octopus Energy's public API.

Agile-style tariffs (Agile Octopus, and others with timed unit rates such as Octopus Go) publish a
unit rate per half hour; the product's public endpoint needs no account or token. A tariff code is
``E-1R-<product code>-<region>``: single-register electricity (``E-1R``) of the product, in the
home's grid supply point (GSP) region, one of the fourteen letters below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field

from agent.config.base import Check, Finding
from agent.config.price_service import FetchedMarketPrice, HttpUrl
from agent.config.types import show_value

# The GSP groups of Great Britain's fourteen distribution regions (no I, no O).
GSP_REGIONS = {
    "A": "Eastern England",
    "B": "East Midlands",
    "C": "London",
    "D": "Merseyside and North Wales",
    "E": "West Midlands",
    "F": "North Eastern England",
    "G": "North Western England",
    "H": "Southern England",
    "J": "South Eastern England",
    "K": "South Wales",
    "L": "South Western England",
    "M": "Yorkshire",
    "N": "Southern Scotland",
    "P": "Northern Scotland",
}
PRODUCT_CODE = r"[A-Z0-9]+(-[A-Z0-9]+)*"
ProductCode = Annotated[str, Field(pattern=rf"^{PRODUCT_CODE}$", max_length=60)]


def _tariff_code(value: str) -> str:
    head, _, region = value.rpartition("-")
    if not value.startswith("E-1R-") or not re.fullmatch(PRODUCT_CODE, head[5:]) or region == "":
        raise ValueError(
            "must be a single-register electricity tariff code E-1R-<product code>-<region>, "
            f"e.g. E-1R-AGILE-24-10-01-C (got {show_value(value)})"
        )
    if region not in GSP_REGIONS:
        known = ", ".join(f"{k} {v}" for k, v in GSP_REGIONS.items())
        raise ValueError(f"ends in region {show_value(region)}, not a GSP region; regions: {known}")
    return value


def _tariff_of_product(v: Mapping[str, Any]) -> Finding | None:
    product, tariff = str(v["product_code"]), str(v["tariff_code"])
    if tariff.rpartition("-")[0] != f"E-1R-{product}":
        return "tariff_code", f"{tariff} is not a tariff of product {product} (E-1R-{product}-<region>)"
    return None


class OctopusMarketPrice(FetchedMarketPrice):
    """Half-hourly unit rates of an Octopus Energy tariff (Agile), in GBP; no token."""

    checks: ClassVar[tuple[Check, ...]] = (_tariff_of_product,)
    type: Literal["octopus"]
    # The product, e.g. AGILE-24-10-01; the tariff, e.g. E-1R-AGILE-24-10-01-C (region C, London).
    product_code: ProductCode
    tariff_code: Annotated[str, Field(max_length=80), AfterValidator(_tariff_code)]
    # false: the rate before VAT (value_exc_vat), so the tariff's vat_multiplier adds VAT to it
    # and to every other part once; true: the rate with VAT (value_inc_vat), vat_multiplier 1.
    vat_included: bool = False
    base_url: HttpUrl = "https://api.octopus.energy"
