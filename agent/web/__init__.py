"""The local web: status page, JSON API with its OpenAPI document, Prometheus metrics, and
Home Assistant MQTT discovery. ``web_task`` is the supervised task ``hems run`` starts."""

from agent.web.errors import RequestError, TokenFileError, WebError
from agent.web.server import make_app, web_task

__all__ = ["RequestError", "TokenFileError", "WebError", "make_app", "web_task"]
