"""Honouring a cancellation that a library swallowed, for the top of long-running loops.

Python 3.11's ``asyncio.wait_for`` returns the inner result instead of raising when the task is
cancelled just as the inner future completes (fixed in 3.12), and pymodbus turns a cancellation
into an I/O error in places. A ``while True`` loop around either would keep running after its
task was asked to stop: the retailer link's housekeeping, whose every round is a store call in
``wait_for``, spun on a closed database after shutdown and held ``asyncio.run`` forever.
"""

from __future__ import annotations

import asyncio


def honour_cancellation() -> None:
    """Raise CancelledError if this task was asked to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
