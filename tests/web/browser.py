"""Headless Chromium (the Debian package) driven by Playwright's Python API.

Never ``playwright install``: the tests launch /usr/bin/chromium with flags that keep it off
the network (no component updates, no sync, no QUIC), so it only ever talks to the agent on
loopback. If the binary is missing the error says how to install it.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[2] / "artifacts"
DOCS_SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshot.png"


def chromium_path() -> str:
    if not CHROMIUM.exists():
        raise RuntimeError("headless Chromium not found: apt-get install -y chromium")
    return str(CHROMIUM)
