"""Errors of the tariff counterparty."""

from agent.errors import HemsError


class TariffError(HemsError):
    """A tariff cannot price an interval (no market price for it, a source that failed)."""
