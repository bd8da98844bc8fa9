"""systemd glue without a systemd dependency: sd_notify messages and the watchdog.

Usage from the supervisor::

    notifier = Notifier.from_environment()
    watchdog = Watchdog(notifier)
    ...  # first good control cycle
    notifier.ready("cycle ok")
    # in every good control cycle:
    watchdog.beat()
    # a supervised task:
    await watchdog.run()
    # SIGHUP: notifier.reloading(); reload; notifier.ready()
    # SIGTERM: notifier.stopping(); await dispatcher.safe_stop()

Outside systemd (no ``NOTIFY_SOCKET``) every call is a cheap no-op.
"""

from agent.systemd.errors import NotifyError
from agent.systemd.notify import Notifier
from agent.systemd.watchdog import Watchdog, watchdog_period_s

__all__ = ["Notifier", "NotifyError", "Watchdog", "watchdog_period_s"]
