"""Errors of the tariff counterparty and of the price services behind dynamic tariffs."""

from agent.errors import HemsError


class TariffError(HemsError):
    """A tariff cannot price an interval (no market price for it, a source that failed)."""


class PriceServiceError(TariffError):
    """A price service could not be reached or refused the request (HTTP error, timeout, bad token).

    ``retryable`` is false where asking again cannot help (a rejected token, a bad zone code).
    """

    def __init__(self, service: str, reason: str, *, retryable: bool = True) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason
        self.retryable = retryable


class PricesNotPublished(PriceServiceError):
    """The service answered that it has no prices for the period (yet): tomorrow's are late."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(service, reason, retryable=False)


class PriceFormatError(TariffError):
    """A price service's reply does not have the documented shape; ``field`` names where."""

    def __init__(self, service: str, field: str, reason: str) -> None:
        super().__init__(f"{service}: {field}: {reason}")
        self.service = service
        self.field = field
        self.reason = reason
