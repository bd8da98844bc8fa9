"""The retailer simulator of the HIL rig: tenders, spot prices and confirmations over the
retailer link's MQTT topics (``docs/retailer-link.md``); rules in ``hil/README.md``."""

from hil.retailer.book import HomeTenderState, RetailerBill, RetailerBook
from hil.retailer.desk import Desk
from hil.retailer.faults import BadTender, FaultPayload, bad_tender
from hil.retailer.pricing import PricingRules, Wholesale, WholesalePrices
from hil.retailer.settings import RetailerSettings
from hil.retailer.sim import RetailerSim

__all__ = [
    "BadTender",
    "Desk",
    "FaultPayload",
    "HomeTenderState",
    "PricingRules",
    "RetailerBill",
    "RetailerBook",
    "RetailerSettings",
    "RetailerSim",
    "Wholesale",
    "WholesalePrices",
    "bad_tender",
]
