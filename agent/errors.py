"""The root of every exception the agent raises on purpose.

Each package has its own subtree (config, market, ledger, optimizer, ...); boundaries translate
foreign exceptions into these with ``raise ... from e`` so callers can tell a timeout from garbage.
"""


class HemsError(Exception):
    """Root of all deliberate hems errors."""
