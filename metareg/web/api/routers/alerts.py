"""Alerts: list, read, acknowledge, counts, and the feeds (JSON, Atom, server-sent
events), read through `metareg.oversight.alerts`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, computed_field
from sqlalchemy import Connection, Engine

from metareg.oversight import alerts
from metareg.records.identifiers import APPROACH_ID_PATTERN, is_provisional
from metareg.web.api.auth import authorize
from metareg.web.api.deps import engine_of, read_connection, settings_of
from metareg.web.auth import Principal, unchanged_key
from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["alerts"])

Status = Literal["open", "acknowledged", "resolved"]
# Only the codes of RULES.md's catalogue: `?rule=DC99` is a 422 naming the problem, not an
# empty list (the document says which codes exist).
RULE_PATTERN = f"^({'|'.join(alerts.RULE_CODES)})$"
ALERT_ID = Path(..., min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")


class Evidence(BaseModel):
    registry: str
    record_type: str
    record_id: str


class AlertOut(BaseModel):
    """An alert as RULES.md defines it."""

    id: str
    rule: str
    name: str
    severity: str
    status: str
    cooperative_approach_id: str | None
    party_registry_id: str | None
    first_id: int | None
    last_id: int | None
    vintage: int | None = None
    first_transferring_party_id: str | None = None
    identifier: str | None = None  # the ITMO text form of its range
    registries: list[str]
    evidence: list[Evidence]
    message: str
    first_seen: str
    last_seen: str
    resolved_at: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def provisional(self) -> bool:
        """RECORDS.md: a provisional cooperative approach (CAP-...) is marked so."""
        return is_provisional(self.cooperative_approach_id)


class AlertDetail(AlertOut):
    acknowledgement: dict[str, Any] | None = None


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_after: str | None  # pass as `after` for the next page


class AlertCounts(BaseModel):
    total: int
    by_status: dict[str, int]
    by_rule: dict[str, dict[str, int]]
    by_severity: dict[str, int]


class Acknowledgement(BaseModel):
    note: str = Field(min_length=1, max_length=5000, description="What was done or decided")


class EventPage(BaseModel):
    events: list[dict[str, Any]]
    next: int
    has_more: bool


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    status: Status | None = Query(None),
    rule: str | None = Query(None, pattern=RULE_PATTERN),
    registry: str | None = Query(None, pattern=r"^[A-Z]{3}[0-9]{2}$"),
    cooperative_approach_id: str | None = Query(None, pattern=APPROACH_ID_PATTERN),
    limit: int = Query(100, ge=1, le=1000),
    after: str | None = Query(None, max_length=64),
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize),
) -> Any:
    try:
        found = alerts.list_alerts(
            connection,
            status=status,
            rule=rule,
            registry=registry,
            cooperative_approach_id=cooperative_approach_id,
            limit=limit,
            after_id=after,
        )
    except alerts.AlertError as error:  # e.g. a rule code no rule has (DC99)
        raise ApiProblem(422, f"{error}.") from error
    return {"items": found, "next_after": found[-1]["id"] if len(found) == limit else None}


@router.get("/alerts/counts", response_model=AlertCounts)
def alert_counts(
    status: Status | None = Query(None),
    rule: str | None = Query(None, pattern=RULE_PATTERN),
    cooperative_approach_id: str | None = Query(None, pattern=APPROACH_ID_PATTERN),
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize),
) -> Any:
    """Counts only (public): no evidence, no account ids."""
    try:
        return alerts.count_alerts(
            connection, status=status, rule=rule, cooperative_approach_id=cooperative_approach_id
        )
    except alerts.AlertError as error:
        raise ApiProblem(422, f"{error}.") from error


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetail,
    responses={404: {"description": "No such alert"}},
)
def get_alert(
    alert_id: str = ALERT_ID,
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize),
) -> Any:
    alert = alerts.alert_with_acknowledgement(connection, alert_id)
    if alert is None:
        raise ApiProblem(404, f"No alert with id {alert_id!r}.")
    return alert


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    responses={404: {"description": "No such alert"}, 409: {"description": "Alert is resolved"}},
)
def acknowledge_alert(
    body: Acknowledgement,
    alert_id: str = ALERT_ID,
    engine: Engine = Depends(engine_of),
    caller: Principal = Depends(authorize),
) -> Any:
    by = f"key {caller.key_id} ({caller.key_name})"
    try:
        with engine.begin() as connection:
            return alerts.acknowledge(connection, alert_id, body.note, by=by)
    except alerts.NoSuchAlert as error:
        raise ApiProblem(404, f"No alert with id {alert_id!r}.") from error
    except alerts.AlertResolved as error:
        raise ApiProblem(
            409, f"Alert {alert_id} is resolved; there is nothing to acknowledge."
        ) from error
    except alerts.AlertError as error:
        raise ApiProblem(422, str(error)) from error


@router.get("/feeds/alerts.json", response_model=EventPage)
def json_feed(
    since: int | None = Query(None, ge=0, le=2**62),
    limit: int = Query(100, ge=1, le=1000),
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize),
) -> Any:
    """Alert events after cursor `since`, oldest first; follow `next`."""
    return alerts.events_page(connection, since, limit)


@router.get(
    "/feeds/alerts.atom",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {"schema": {"type": "string"}}}}},
)
def atom_feed(
    request: Request,
    since: int | None = Query(None, ge=0, le=2**62),
    limit: int = Query(100, ge=1, le=1000),
    connection: Connection = Depends(read_connection),
    settings: ApiSettings = Depends(settings_of),
    _caller: Principal = Depends(authorize),
) -> Response:
    xml = alerts.atom_feed(
        connection,
        since=since,
        limit=limit,
        base_url=settings.base_url,
        feed_path=request.url.path,
        alert_path="/v1/alerts/{id}",
    )
    return Response(xml, media_type="application/atom+xml")


@router.get(
    "/feeds/alerts/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
def event_stream(
    request: Request,
    since: int | None = Query(None, ge=0, le=2**62),
    engine: Engine = Depends(engine_of),
    settings: ApiSettings = Depends(settings_of),
    caller: Principal = Depends(authorize),
) -> StreamingResponse:
    """Server-sent events: every alert event after `since` (or `Last-Event-ID`), then live.
    The stream ends (after an `access-ended` event) as soon as its key is revoked or its
    role changes."""
    last_event = request.headers.get("last-event-id")
    if since is None and last_event and last_event.isdigit():
        since = int(last_event)
    return StreamingResponse(
        alerts.sse_events(
            engine,
            since,
            settings.feed_poll_seconds,
            heartbeat_seconds=settings.feed_heartbeat_seconds,
            still_allowed=unchanged_key(caller.key_id, caller.role),
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
