"""What every response carries, and what a state-changing request must pass.

Read-only requests (GET/HEAD) are open to whoever can reach the bind address. A request that
changes something must come from this page, not from another site the householder happens to
have open: it must carry the token in a header (``Authorization: Bearer`` or ``X-Hems-Token``;
never a cookie, so the browser cannot attach it for another site), declare a JSON body (a
cross-site HTML form cannot), not be marked cross-site by the browser (``Sec-Fetch-Site``),
carry an ``Origin`` matching ``Host`` when it carries one, and name in ``Host`` an address or a
name of this machine (a DNS-rebinding page names its own domain). No CORS headers are ever sent,
so a browser never lets another origin read an answer.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from agent.errors import HemsError
from agent.web.errors import RequestError
from agent.web.token import token_matches

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"
)
SAFE_METHODS = {"GET", "HEAD"}


def local_names() -> set[str]:
    name = socket.gethostname().lower()
    return {"localhost", name, f"{name}.local", f"{name}.lan", f"{name}.home"}


def _host_only(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str, names: set[str]) -> bool:
    bare = _host_only(host.strip().lower())
    if not bare:
        return False
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return bare in names
    return True


def check_control_request(request: web.Request, token: str, names: set[str]) -> None:
    """Raise :class:`RequestError` (401/403/415) unless the request may change the agent's state."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise RequestError("Sec-Fetch-Site", f"cross-site request refused ({fetch_site})", status=403)
    host = request.headers.get("Host", "")
    if not host_allowed(host, names):
        raise RequestError("Host", f"{host!r} is not an address or name of this gateway", status=403)
    origin = request.headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin)
        if origin == "null" or parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
            raise RequestError("Origin", f"{origin!r} does not match the host {host!r}", status=403)
    if request.content_type != "application/json":
        raise RequestError("Content-Type", "must be application/json", status=415)
    given = request.headers.get("X-Hems-Token")
    auth = request.headers.get("Authorization", "")
    if given is None and auth[:7].lower() == "bearer ":
        given = auth[7:].strip()
    if not token_matches(given, token):
        raise RequestError(
            "Authorization", "a valid token is required (Authorization: Bearer <token>)", status=401
        )


@web.middleware
async def errors_and_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """JSON errors for the API (never a traceback), and the security headers on every answer."""
    try:
        response = await handler(request)
    except RequestError as e:
        response = web.json_response(e.to_json(), status=e.status)
        if e.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="hems"'
    except web.HTTPException as e:
        if not request.path.startswith("/api/"):
            raise
        field = "body" if e.status == 413 else "method" if e.status == 405 else "path"
        response = web.json_response({"error": e.reason, "field": field}, status=e.status)
        if e.status == 405:
            response.headers["Allow"] = e.headers.get("Allow", "")
    except HemsError as e:
        log.warning("%s %s: %s", request.method, request.path, e)
        response = web.json_response({"error": str(e), "field": None}, status=503)
    except Exception:  # one bad request must not take the server down
        log.exception("%s %s failed", request.method, request.path)
        response = web.json_response({"error": "internal error", "field": None}, status=500)
    if not response.prepared:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith("/api/") or request.path == "/metrics":
            response.headers.setdefault("Cache-Control", "no-store")
    return response
