"""Bidding zones of the ENTSO-E Transparency Platform: the name a household writes → its EIC code.

The codes are the area (Y-type) Energy Identification Codes of the bidding zones, as listed in
the "Areas" appendix (A.10) of the Transparency Platform RESTful API user guide
(transparency.entsoe.eu, "web api/Guide.html") and the ENTSO-E EIC area code list. A zone that
is missing here may be given by its 16-character code directly (``zone: 10Y...``).
"""

from __future__ import annotations

import re

BIDDING_ZONES: dict[str, str] = {
    "AT": "10YAT-APG------L",
    "BE": "10YBE----------2",
    "BG": "10YCA-BULGARIA-R",
    "CH": "10YCH-SWISSGRIDZ",
    "CZ": "10YCZ-CEPS-----N",
    "DE-LU": "10Y1001A1001A82H",
    "DK1": "10YDK-1--------W",
    "DK2": "10YDK-2--------M",
    "EE": "10Y1001A1001A39I",
    "ES": "10YES-REE------0",
    "FI": "10YFI-1--------U",
    "FR": "10YFR-RTE------C",
    "GR": "10YGR-HTSO-----Y",
    "HR": "10YHR-HEP------M",
    "HU": "10YHU-MAVIR----U",
    "IE-SEM": "10Y1001A1001A59C",
    "IT-NORTH": "10Y1001A1001A73I",
    "LT": "10YLT-1001A0008Q",
    "LV": "10YLV-1001A00074",
    "NL": "10YNL----------L",
    "NO1": "10YNO-1--------2",
    "NO2": "10YNO-2--------T",
    "NO3": "10YNO-3--------J",
    "NO4": "10YNO-4--------9",
    "NO5": "10Y1001A1001A48H",
    "PL": "10YPL-AREA-----S",
    "PT": "10YPT-REN------W",
    "RO": "10YRO-TEL------P",
    "RS": "10YCS-SERBIATSOV",
    "SE1": "10Y1001A1001A44P",
    "SE2": "10Y1001A1001A45N",
    "SE3": "10Y1001A1001A46L",
    "SE4": "10Y1001A1001A47J",
    "SI": "10YSI-ELES-----O",
    "SK": "10YSK-SEPS-----K",
}

# An area EIC: 16 characters, digits, capitals and '-', "10Y" for an area.
EIC_RE = re.compile(r"^10Y[0-9A-Z-]{13}$")


def zone_code(name: str) -> str:
    """The EIC code of a zone name (``DE-LU``, ``se3``) or of a code given directly.

    Raises ``ValueError`` naming the known zones for anything else.
    """
    upper = name.strip().upper()
    if upper in BIDDING_ZONES:
        return BIDDING_ZONES[upper]
    if EIC_RE.fullmatch(upper):
        return upper
    raise ValueError(
        f"unknown bidding zone {name!r}; known: {', '.join(BIDDING_ZONES)}, or a 16-character EIC code 10Y..."
    )
