"""The JSON API's handlers; the OpenAPI document (:mod:`agent.web.openapi`) describes each one."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from agent.market.intervals import Duration, containing
from agent.web import bills, controls, events, live, market_view, plan_view, tariff_view
from agent.web import queries as q
from agent.web.errors import RequestError
from agent.web.guard import check_control_request
from agent.web.respond import blocking, json_response

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

POSITION_DURATIONS = (Duration.PT1H, Duration.PT15M, Duration.PT5M)
MAX_ROWS = 5000


class Api:
    def __init__(self, agent: RunningAgent, token: str, host_names: set[str]) -> None:
        self.agent = agent
        self.token = token
        self.host_names = host_names

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/state", self.state),
            web.get("/api/plan", self.plan),
            web.get("/api/tenders", self.tenders),
            web.get("/api/transactions", self.transactions),
            web.get("/api/positions", self.positions),
            web.get("/api/settlements", self.settlements),
            web.get("/api/bill", self.bill),
            web.get("/api/tariff", self.tariff),
            web.get("/api/health", self.health),
            web.get("/api/forecast", self.forecast),
            web.get("/api/controls", self.get_controls),
            web.post("/api/controls", self.post_controls),
            web.get("/api/events", self.events),
        ]

    def _day(self) -> tuple[Any, Any]:
        now = self.agent.clock.now()
        day = containing(now, Duration.P1D, self.agent.config.zone)
        return day.start_utc, day.end_utc

    async def state(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, set())
        a = self.agent
        body = events.live_json(a) | {
            "site_id": a.config.site.id,
            "party": a.config.party_id,
            "timezone": a.config.site.timezone,
            "started_at": a.state.started_at.isoformat(),
            "timing": a.state.to_json()["timing"],
            "counters": dict(a.state.counters),
            "dispatch": a.state.dispatch,
            "settlement": a.state.settlement,
            "link": a.state.link,
        }
        return json_response(body)

    async def plan(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, set())
        return json_response(plan_view.plan_chart(self.agent))

    async def tenders(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, set())
        return json_response(market_view.tenders(self.agent))

    async def transactions(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, {"start", "end", "limit"})
        day_start, day_end = self._day()
        start, end = q.span(request.query, day_start, day_end + timedelta(days=1))
        limit = q.integer(request.query, "limit", 500, 1, MAX_ROWS)
        a = self.agent
        return json_response(
            await blocking(market_view.transactions, a.ledger, a.config.party_id, start, end, limit)
        )

    async def positions(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, {"start", "end", "duration"})
        now = self.agent.clock.now()
        a = self.agent
        first = containing(now, a.config.metering_interval, a.config.zone).start_utc
        start, end = q.span(request.query, first, first + timedelta(hours=a.config.planner.horizon_h))
        duration = q.duration(request.query, "duration", a.config.metering_interval, POSITION_DURATIONS)
        # Checked before any interval is built: 400 days of PT5M would be 115,200 of them.
        if (end - start) / duration.nominal > market_view.MAX_POSITION_INTERVALS + 2:
            n = market_view.MAX_POSITION_INTERVALS
            raise RequestError("end", f"at most {n} intervals of {duration.value} at a time")
        result = await blocking(
            lambda: market_view.positions(
                a.ledger, a.config.zone, party=a.config.party_id, start=start, end=end, duration=duration
            )
        )
        return json_response(result)

    async def settlements(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, {"start", "end", "limit"})
        day_start, day_end = self._day()
        start, end = q.span(request.query, day_start, day_end)
        limit = q.integer(request.query, "limit", 200, 1, MAX_ROWS)
        a = self.agent
        return json_response(
            await blocking(market_view.settlements, a.ledger, a.config.party_id, start, end, limit)
        )

    async def bill(self, request: web.Request) -> web.Response:
        query = request.query
        q.only_keys(query, {"period", "start", "end", "lines"})
        a = self.agent
        now = a.clock.now()
        period = query.get("period")
        if period is not None and ("start" in query or "end" in query):
            raise RequestError("period", "give either period or start/end, not both")
        if period in (None, "today") and "start" not in query and "end" not in query:
            start, end = containing(now, Duration.P1D, a.config.zone).start_utc, now
        elif period == "month":
            start, end = containing(now, Duration.P1M, a.config.zone).start_utc, now
        elif period is None:
            start, end = q.span(query, containing(now, Duration.P1D, a.config.zone).start_utc, now)
        else:
            raise RequestError("period", f"must be today or month (got {period[:40]!r})")
        lines = _flag(query, "lines")
        result = await blocking(lambda: bills.period_bill(a.ledger, a.config, start, end, lines=lines))
        return json_response(result)

    async def tariff(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, {"hours"})
        hours = q.integer(request.query, "hours", tariff_view.DEFAULT_HOURS, 1, tariff_view.MAX_HOURS)
        return json_response(await tariff_view.tariff_json(self.agent, hours))

    async def health(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, set())
        return json_response(live.health(self.agent))

    async def forecast(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, set())
        return json_response(
            {"accuracy": self.agent.forecaster.accuracy(), "forecast": self.agent.state.forecast}
        )

    async def get_controls(self, request: web.Request) -> web.Response:
        q.only_keys(request.query, set())
        return json_response(controls.controls_json(self.agent))

    async def post_controls(self, request: web.Request) -> web.Response:
        check_control_request(request, self.token, self.host_names)
        q.only_keys(request.query, set())
        body = q.json_object(await request.read())
        return json_response(controls.apply(self.agent, body))

    async def events(self, request: web.Request) -> web.StreamResponse:
        q.only_keys(request.query, set())
        return await events.stream(request, self.agent)


def _flag(query: Any, field: str) -> bool:
    value = query.get(field, "false")
    if value not in ("true", "false"):
        raise RequestError(field, f"must be true or false (got {value[:40]!r})")
    return bool(value == "true")
