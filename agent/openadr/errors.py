"""Errors of the OpenADR price-program VEN."""

from agent.errors import HemsError


class OpenAdrError(HemsError):
    """The VEN could not do its part with the VTN (unreachable, registration refused, timed out)."""


class SignalError(OpenAdrError):
    """An event's signals cannot be turned into prices (unknown level, foreign currency, garbage)."""


class ProgramCacheError(OpenAdrError):
    """The saved program (events and when the VTN was last heard) cannot be read back."""
