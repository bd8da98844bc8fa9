"""``market: {type: openadr, ...}`` inside a tariff: a utility's OpenADR 2.0b price program.

The VEN (agent/openadr/) registers with the utility's VTN and turns the program's events into
the tariff's market price per interval; the household formula (agent/tariff/household.py) still
applies over it, so network charges, VAT, the export rule and fixed charges stay the contract's.

* ``price_per_kwh``: the market price when no event sets one (the contract's base rate);
* ``simple_levels``: the market price of each SIMPLE signal level (0 normal … 3 special); a level
  without a price makes the VEN opt out of that event rather than guess;
* ``ELECTRICITY_PRICE`` / ``ENERGY_PRICE`` signals need no map: ``price`` is the market price per
  kWh, ``priceRelative`` is added to the base, ``priceMultiplier`` scales it.

OpenADR 2.0b requires TLS with client certificates: an ``https`` VTN needs ``tls``; plain
``http`` is accepted only for a VTN on this machine's loopback (a test VTN).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field

from agent.config.base import Check, Finding, Strict
from agent.config.types import ExistingFile, PricePerKwh, Seconds, Secret

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SimpleLevel = Annotated[int, Field(ge=0, le=3)]
Fingerprint = Annotated[str, Field(pattern=r"^([0-9A-Fa-f]{2}:){9}[0-9A-Fa-f]{2}$")]


class OpenAdrTls(Strict):
    """The VEN's certificate and key (they sign messages and authenticate the TLS client), the CA
    the VTN's server certificate is checked against, and the VTN's certificate fingerprint."""

    cert_file: ExistingFile
    key_file: ExistingFile
    ca_file: ExistingFile
    key_passphrase: Secret | None = None
    # Messages whose signature does not come from this certificate are dropped; None: not checked.
    vtn_fingerprint: Fingerprint | None = None
    check_hostname: bool = True


def _url_fits_tls(v: Mapping[str, Any]) -> Finding | None:
    parts = urlsplit(str(v["vtn_url"]))
    if parts.scheme == "https" and v.get("tls") is None:
        return "tls", (
            "an https VTN needs 'tls' (cert_file, key_file, ca_file): OpenADR 2.0b uses client certificates"
        )
    if parts.scheme == "http":
        if parts.hostname not in LOOPBACK_HOSTS:
            return "vtn_url", "plain http is for a VTN on this machine only; a utility's VTN needs https"
        if v.get("tls") is not None:
            return "tls", "certificates need an https vtn_url"
    return None


class OpenAdrMarket(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_url_fits_tls,)
    type: Literal["openadr"]
    # The VTN's base URL from the utility, e.g. https://vtn.example.com/OpenADR2/Simple/2.0b
    vtn_url: Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$", max_length=300)]
    # The name the utility enrolled the home under; ven_id when the utility assigned one.
    ven_name: Annotated[str, Field(min_length=1, max_length=120)]
    ven_id: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    # Only events of this program (its market context URI); None: every event sent to the home.
    market_context: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    price_per_kwh: PricePerKwh = Decimal(0)
    simple_levels: Annotated[dict[SimpleLevel, PricePerKwh], Field(max_length=4)] = Field(
        default_factory=dict
    )
    # Opt in to the events whose prices the agent follows; false: follow the prices, opt out.
    opt_in: bool = True
    # After the VTN was last heard, its prices are kept this long, then the base rate applies.
    hold_h: Annotated[float, Field(gt=0.0, le=168.0)] = 24.0
    # One registration attempt (query, register, reports, event sync) may take this long.
    request_timeout_s: Seconds = 30.0
    # A failed registration is retried after 5 s, doubling up to this.
    retry_max_s: Seconds = 600.0
    # Offer the VTN a TELEMETRY_USAGE report of the meter's grid power (W, +import/-export).
    report_usage: bool = True
    report_min_period_s: Annotated[int, Field(ge=1, le=3600)] = 60
    tls: OpenAdrTls | None = None
