"""The dashboard's pages: server-rendered HTML from the oversight API's own data.

Every page reads with one connection and renders a Jinja2 template; nothing needs
JavaScript to be read. A few lines of script (static/dashboard.js) listen to the
dashboard's server-sent-event stream and re-fetch the page's live parts when alerts or
the index change.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from metareg.oversight import alert_pages, itmos, programmes
from metareg.oversight import alerts as alert_service
from metareg.oversight.public import public_summary
from metareg.oversight.registries import last_sync_attempt, registry_statuses
from metareg.oversight.totals import change_sequence, index_totals
from metareg.records.identifiers import IdentifierError, is_provisional
from metareg.web.auth import Role, unchanged_key
from metareg.web.dashboard import charts
from metareg.web.dashboard.auth import COOKIE, LoginRequired, Viewer, csrf_token, lookup, viewer
from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
# RECORDS.md: every output marks a provisional cooperative approach (CAP-...).
templates.env.globals["provisional"] = is_provisional
router = APIRouter(prefix="/dashboard", include_in_schema=False)

POLL_SECONDS = 1.0


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _page(request: Request, name: str, who: Viewer | None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"viewer": who, "now": datetime.now(UTC), **context}
    )


# -- logging in ------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, reason: str = "", next: str = "/dashboard") -> HTMLResponse:
    return _page(request, "login.html", None, reason=reason, next=_local(next))


@router.post("/login")
def login(request: Request, key: str = Form(...), next: str = Form("/dashboard")) -> Response:
    found = lookup(_engine(request), key.strip())
    if found is None or not found.may(Role.oversight):
        reason = (
            "That key is unknown or revoked."
            if found is None
            else ("The dashboard needs a key with the oversight role.")
        )
        return _page(request, "login.html", None, reason=reason, next=_local(next))
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict", path="/dashboard")
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


def _local(target: str) -> str:
    """Only redirect within the dashboard (no open redirect through `next`)."""
    return target if target.startswith("/dashboard") and "//" not in target else "/dashboard"


# -- overview --------------------------------------------------------------------------


def _by_severity(counts: dict[str, Any], title: str) -> Any:
    """Open alerts per label (a rule, a registry), stacked by severity."""
    return charts.responsive(
        lambda width: charts.stacked_bars(
            [charts.Bar(label, dict(n)) for label, n in counts.items()],
            title,
            charts.SEVERITY_COLOURS,
            width=width,
        )
    )


def _health(request: Request) -> list[dict[str, Any]]:
    settings: ApiSettings = request.app.state.settings
    with _engine(request).connect() as connection:
        found = registry_statuses(connection, settings.config)
    out = []
    for registry in found:
        sync = registry.sync or {}
        out.append(
            {
                "id": registry.id,
                "name": registry.name,
                "party": registry.party_id,
                "status": registry.status,
                "last_success_at": sync.get("last_success_at"),
                "lag_seconds": sync.get("lag_seconds"),
                "failures": sync.get("consecutive_failures") or 0,
                "last_error": sync.get("last_error"),
                "quarantined": registry.quarantined_unreviewed,
            }
        )
    return out


@router.get("", response_class=HTMLResponse, response_model=None)
def overview(request: Request, who: Viewer | LoginRequired = Depends(viewer)) -> Response:
    if isinstance(who, LoginRequired):
        return login_redirect(request, who)
    with _engine(request).connect() as connection:
        totals = index_totals(connection)
        alerts = alert_service.list_alerts(connection, limit=10_000)
        open_counts = alert_pages.open_alert_counts(connection)
        unresolved = [a for a in alerts if a["status"] != "resolved"]
        dates = alert_pages.conflict_dates(connection, unresolved)
    open_alerts = [a for a in alerts if a["status"] == "open"]
    return _page(
        request,
        "overview.html",
        who,
        health=_health(request),
        open_count=len(open_alerts),
        alert_count=len(alerts),
        recent=alert_pages.sort_alerts(unresolved)[:8],
        units_chart=units_chart(totals.get("by_party_vintage", [])),
        rule_chart=_by_severity(open_counts["by_rule"], "Open alerts by rule, by severity"),
        registry_chart=_by_severity(
            open_counts["by_registry"], "Open alerts by registry involved, by severity"
        ),
        conflicts_chart=charts.responsive(
            lambda width: charts.date_columns(
                [d for d in dates.values() if d is not None],
                "Unresolved conflicts by the date of their conflicting actions",
                width=width,
            ),
            wide=760,
        ),
        by_state=totals.get("by_state", {}),
    )


def units_chart(by_party_vintage: list[dict[str, Any]]) -> str:
    """Units by state, one bar per first transferring Party and vintage."""
    bars = [
        charts.Bar(f"{item['party_id']} {item['vintage']}", dict(item["quantity_by_state"]))
        for item in by_party_vintage
    ]
    return charts.responsive(
        lambda width: charts.stacked_bars(
            bars,
            "Units by state, per first transferring Party and vintage",
            charts.STATE_COLOURS,
            width=width,
        ),
        wide=760,
    )


# -- alerts ----------------------------------------------------------------------------


@router.get("/alerts", response_class=HTMLResponse, response_model=None)
def alerts_page(
    request: Request,
    rule: str = Query("", max_length=8),
    status: str = Query("", max_length=16),
    registry: str = Query("", max_length=16),
    sort: str = Query(alert_pages.DEFAULT_SORT, max_length=16),
    order: str = Query("", max_length=4),
    who: Viewer | LoginRequired = Depends(viewer),
) -> Response:
    if isinstance(who, LoginRequired):
        return login_redirect(request, who)
    sort = sort if sort in alert_pages.SORTS else alert_pages.DEFAULT_SORT
    order = order if order in ("asc", "desc") else ""
    filters = {
        "rule": rule if rule in alert_service.RULE_CODES else None,
        "status": status if status in alert_service.STATUSES else None,
        "registry": registry.strip().upper() or None,
    }
    with _engine(request).connect() as connection:
        alerts = alert_service.alerts_with_acknowledgements(connection, limit=2_000, **filters)
    query = {k: v for k, v in filters.items() if v}
    return _page(
        request,
        "alerts.html",
        who,
        alerts=alert_pages.sort_alerts(alerts, sort, order or None),
        filters={k: v or "" for k, v in filters.items()},
        rules=alert_service.RULE_CODES,
        statuses=alert_service.STATUSES,
        query=urlencode({**query, "sort": sort, **({"order": order} if order else {})}),
        sorting=_sort_links(query, sort, order),
        sort=sort,
        order=order,
        sorts=alert_pages.SORTS,
        can_acknowledge=who.may(Role.admin),
    )


def _sort_links(filters: dict[str, str], sort: str, order: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (again: the other way round) and
    the arrow showing the current order."""
    links = {}
    for key, (_, natural) in alert_pages.SORTS.items():
        current = order or ("desc" if natural else "asc")
        if key == sort:
            flipped = "asc" if current == "desc" else "desc"
            arrow = " ▼" if current == "desc" else " ▲"
            aria = "descending" if current == "desc" else "ascending"
            target = {**filters, "sort": key, "order": flipped}
        else:
            arrow, aria = "", "none"
            target = {**filters, "sort": key}
        links[key] = {
            "href": "/dashboard/alerts?" + urlencode(target),
            "arrow": arrow,
            "aria": aria,
        }
    return links


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    request: Request,
    alert_id: str,
    note: str = Form(""),
    csrf: str = Form(""),
    back: str = Form("/dashboard/alerts"),
    who: Viewer | LoginRequired = Depends(viewer),
) -> Response:
    if isinstance(who, LoginRequired):
        return login_redirect(request, who)
    if who.via_cookie and not hmac.compare_digest(csrf, who.csrf):
        raise ApiProblem(403, "The form is stale or came from elsewhere; reload the page.")
    if not who.may(Role.admin):
        raise ApiProblem(403, "Acknowledging an alert needs a key with the admin role.")
    by = f"key {who.key_id} ({who.key_name}) via dashboard"
    with _engine(request).begin() as connection:
        try:
            alert_service.acknowledge(connection, alert_id, note, by=by)
        except alert_service.AlertError as error:
            with _engine(request).connect() as reader:
                alerts = alert_service.list_alerts(reader, limit=2_000)
            return _page(
                request,
                "alerts.html",
                who,
                alerts=alert_pages.sort_alerts(alerts),
                filters={"rule": "", "status": "", "registry": ""},
                rules=alert_service.RULE_CODES,
                statuses=alert_service.STATUSES,
                query="",
                can_acknowledge=True,
                error=str(error),
            )
    return RedirectResponse(_local(back), status_code=303)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse, response_model=None)
def alert_page(
    request: Request, alert_id: str, who: Viewer | LoginRequired = Depends(viewer)
) -> Response:
    """One alert: its evidence records side by side, the timeline of the block it names,
    the acknowledgement form, and its history of events."""
    if isinstance(who, LoginRequired):
        return login_redirect(request, who)
    with _engine(request).connect() as connection:
        found = alert_pages.describe_alert(connection, alert_id[:64])
        block = found["block"] if found else None
        statuses = programmes.statuses_under(connection, block["records"]) if block else []
    if found is None:
        page = _page(request, "alert.html", who, found=None, alert_id=alert_id[:64])
        page.status_code = 404
        return page
    timeline = _itmo_timeline(block["records"], statuses) if block else []
    return _page(
        request,
        "alert.html",
        who,
        found=found,
        alert=found["alert"],
        timeline=timeline,
        lanes=sorted({e["registry"] for e in timeline}),
        evidence_ids={(e["registry"], e["record_id"]) for e in found["evidence"]},
        rows=_evidence_rows(found["evidence"]),
        can_acknowledge=who.may(Role.admin),
    )


# Fields shown first on evidence cards, in this order; the rest follow alphabetically.
_FIRST_FIELDS = (
    "action_type",
    "action_date",
    "as_of",
    "authorization_date",
    "cooperative_approach_id",
    "party_registry_id",
    "first_transferring_party_id",
    "first_id",
    "last_id",
    "vintage",
)


def _shown(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value) or "–"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) or "–"
    return str(value)


def _evidence_rows(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per record field any evidence record has, in one order for every card (so
    the records read side by side), each saying whether the records differ there."""
    present = {name for e in evidence for name in (e["record"] or {}) if name != "record_type"}
    names = [f for f in _FIRST_FIELDS if f in present] + sorted(present - set(_FIRST_FIELDS))
    rows = []
    for name in names:
        values = [_shown((e["record"] or {}).get(name)) for e in evidence]
        rows.append({"field": name, "values": values, "differs": len(set(values)) > 1})
    return rows


# -- public view -----------------------------------------------------------------------


@router.get("/public", response_class=HTMLResponse, response_model=None)
def public_page(request: Request) -> Response:
    """What anyone may read without a key (`metareg.oversight.public`): no viewer, no
    key check, nothing but aggregates."""
    with _engine(request).connect() as connection:
        summary = public_summary(connection)
    by_rule = summary["open_alerts_by_rule"]
    return _page(
        request,
        "public.html",
        None,
        summary=summary,
        units_chart=units_chart(summary["by_party_vintage"]),
        rule_chart=charts.responsive(
            lambda width: charts.stacked_bars(
                [
                    charts.Bar(rule, {summary["rule_severity"][rule]: n})
                    for rule, n in by_rule.items()
                    if n
                ],
                "Open alerts by rule, by severity",
                charts.SEVERITY_COLOURS,
                width=width,
            )
        ),
        states=[s for s in charts.STATE_COLOURS if s in summary["by_state"]],
    )


# -- ITMO lookup -----------------------------------------------------------------------


def _timeline(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every record covering the block as one dated event, oldest first."""
    events = []
    for item in found:
        record = item["record"]
        when = record.get("action_date") or record.get("as_of") or ""
        what = record.get("action_type") or (
            f"Holding ({record.get('account_type')}, {record.get('account_id')})"
        )
        detail = []
        for key in ("acquiring_party_id", "transferring_party_id", "purpose", "using_party_id"):
            if record.get(key):
                detail.append(f"{key.replace('_id', '').replace('_', ' ')}: {record[key]}")
        if record.get("authorization_id"):
            detail.append(f"authorization {record['authorization_id']}")
        events.append(
            {
                "date": str(when)[:10],
                "registry": item["registry"],
                "record_type": item["record_type"],
                "record_id": item["record_id"],
                "what": what,
                "range": f"{record['first_id']}–{record['last_id']}",
                "vintage": record.get("vintage"),
                "detail": "; ".join(detail),
                "versions": len(item.get("history") or []),
            }
        )
    events.sort(key=lambda e: (e["date"], e["registry"], e["record_id"]))
    return events


def _programme_events(statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the crediting programme reports about the units the ITMO rests on, as events
    beside the registries' own (RECORDS.md `unit_status`)."""
    events = []
    for status in statuses:
        detail = [f"purpose: {status['purpose']}", f"Article 6 label: {status['article6_label']}"]
        if status.get("beneficiary"):
            detail.append(f"beneficiary: {status['beneficiary']}")
        if status.get("quantity") is not None:
            detail.append(f"quantity: {status['quantity']:g}")
        units = status["first_unit_id"]
        if status["last_unit_id"] != units:
            units = f"{units} .. {status['last_unit_id']}"
        events.append(
            {
                "date": str(status["status_date"])[:10],
                "registry": status["registry"],
                "record_type": "unit_status",
                "record_id": status["status_id"],
                "what": f"{status['underlying_registry_id']} units {status['status']}",
                "range": units,
                "vintage": status.get("vintage"),
                "detail": "; ".join(detail),
                "versions": 0,
                "programme": True,
            }
        )
    return events


def _itmo_timeline(
    records: list[dict[str, Any]], statuses: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The registries' records and the programme's statuses as one dated timeline."""
    timeline = _timeline(records) + _programme_events(statuses)
    timeline.sort(key=lambda e: (e["date"], e["registry"], e["record_id"]))
    return timeline


@router.get("/itmo", response_class=HTMLResponse, response_model=None)
def itmo_page(
    request: Request,
    id: str = Query("", max_length=200),
    ca: str = Query("", max_length=36),  # CA0001, or a provisional CAP-... (RECORDS.md)
    registry: str = Query("", max_length=16),
    first: int | None = Query(None, ge=1),
    last: int | None = Query(None, ge=1),
    who: Viewer | LoginRequired = Depends(viewer),
) -> Response:
    if isinstance(who, LoginRequired):
        return login_redirect(request, who)
    identifier = id.strip()
    if not identifier and ca and registry and first is not None and last is not None:
        with _engine(request).connect() as connection:
            identifier = itmos.identifier_of_range(connection, ca, registry, first, last)
    context: dict[str, Any] = {"identifier": identifier, "result": None, "error": None}
    if identifier:
        try:
            with _engine(request).connect() as connection:
                result = itmos.describe_itmo(connection, identifier)
                statuses = programmes.statuses_under(connection, result["records"])
            timeline = _itmo_timeline(result["records"], statuses)
            context.update(
                result=result,
                timeline=timeline,
                lanes=sorted({e["registry"] for e in timeline}),
            )
        except IdentifierError as error:
            context["error"] = str(error)
        except itmos.NotInIndex as missing:
            context["error"] = str(missing)
    return _page(request, "itmo.html", who, **context)


# -- live updates ----------------------------------------------------------------------


def _marks(engine: Engine, who: Viewer) -> dict[str, Any] | None:
    """What changes when something on the dashboard should: the last alert event, the
    index's change sequence, and the registries' last sync attempts. None once the
    viewer's key is revoked or its role changed (checked after the read, on the same
    connection), which ends the stream."""
    with engine.connect() as connection:
        marks = {
            "alerts": alert_service.latest_seq(connection),
            "index": change_sequence(connection) or 0,
            "sync": str(last_sync_attempt(connection)),
        }
        if not unchanged_key(who.key_id, who.role)(connection):
            return None
        return marks


async def _stream(request: Request, engine: Engine, who: Viewer) -> AsyncIterator[bytes]:
    last: dict[str, Any] | None = None
    yield b"retry: 3000\n\n"
    while not await request.is_disconnected():
        marks = await asyncio.to_thread(_marks, engine, who)
        if marks is None:
            yield alert_service.ACCESS_ENDED_FRAME.encode()
            return
        if marks != last:
            last = marks
            yield b"event: refresh\ndata: " + orjson.dumps(marks) + b"\n\n"
        else:
            yield b": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)


@router.get("/events", response_model=None)
def events(request: Request, who: Viewer | LoginRequired = Depends(viewer)) -> Response:
    if isinstance(who, LoginRequired):
        return Response(status_code=401)
    if "text/event-stream" not in request.headers.get("accept", ""):
        # Only an EventSource (which asks for text/event-stream) gets the endless stream;
        # anything else would wait forever for a body that never ends.
        return Response(
            "This is a server-sent event stream: ask for text/event-stream.\n",
            status_code=406,
            media_type="text/plain",
        )
    return StreamingResponse(
        _stream(request, _engine(request), who),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/static/{name}")
def static(name: str) -> Response:
    files = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
    if name not in files:
        raise ApiProblem(404, "No such file.")
    return Response((HERE / "static" / name).read_bytes(), media_type=files[name])


def login_redirect(request: Request, error: LoginRequired) -> RedirectResponse:
    """Pages without a usable key send the browser to the login form."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = urlencode({"next": target, "reason": error.reason})
    return RedirectResponse(f"/dashboard/login?{query}", status_code=303)


__all__ = ["csrf_token", "login_redirect", "router"]
