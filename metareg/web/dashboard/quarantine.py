"""The dashboard's quarantine page (admin): every entry awaiting review with its source,
location and every reason; one entry with its input as received; dismiss with a note,
and reprocess with the current source profiles. Reads and actions go through
`metareg.oversight.quarantine`, as `metareg quarantine` and `/v1/quarantine` do."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from metareg.oversight import quarantine as service
from metareg.web.auth import Role
from metareg.web.dashboard.auth import LoginRequired, Viewer, viewer
from metareg.web.dashboard.views import _engine, _page, login_redirect
from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

router = APIRouter(prefix="/dashboard", include_in_schema=False)

PAGE_SIZE = 500


def _admin(request: Request, who: Viewer | LoginRequired) -> Response | Viewer:
    if isinstance(who, LoginRequired):
        return login_redirect(request, who)
    if not who.may(Role.admin):
        raise ApiProblem(403, "Reviewing the quarantine needs a key with the admin role.")
    return who


def _admin_form(request: Request, who: Viewer | LoginRequired, csrf: str) -> Response | Viewer:
    """An admin posting one of this page's forms (its CSRF token checked)."""
    checked = _admin(request, who)
    if (
        isinstance(checked, Viewer)
        and checked.via_cookie
        and not hmac.compare_digest(csrf, checked.csrf)
    ):
        raise ApiProblem(403, "The form is stale or came from elsewhere; reload the page.")
    return checked


def _reviewer(who: Viewer) -> str:
    """Who reviewed, as the quarantine records it."""
    return f"key {who.key_id} ({who.key_name}) via dashboard"


def _ids(raw: list[str]) -> list[int]:
    out = []
    for value in raw:
        for part in value.replace(",", " ").split():
            if part.isdigit() and 0 < int(part) < 2**63:
                out.append(int(part))
    return out


def _list(request: Request, who: Viewer, status: str, registry: str, **extra: Any) -> HTMLResponse:
    chosen = status if status in (*service.STATUSES, "all") else "unreviewed"
    with _engine(request).connect() as connection:
        entries = service.list_quarantine(
            connection,
            status=None if chosen == "all" else chosen,
            registry_id=registry.strip().upper() or None,
            limit=PAGE_SIZE,
        )
        counts = service.quarantine_counts(connection)
    return _page(
        request,
        "quarantine.html",
        who,
        entries=entries,
        counts=counts,
        filters={"status": chosen, "registry": registry.strip().upper()},
        statuses=(*service.STATUSES, "all"),
        **extra,
    )


@router.get("/quarantine", response_class=HTMLResponse, response_model=None)
def quarantine_page(
    request: Request,
    status: str = Query("unreviewed", max_length=16),
    registry: str = Query("", max_length=16),
    who: Viewer | LoginRequired = Depends(viewer),
) -> Response:
    checked = _admin(request, who)
    if not isinstance(checked, Viewer):
        return checked
    return _list(request, checked, status, registry)


@router.get("/quarantine/{entry_id}", response_class=HTMLResponse, response_model=None)
def entry_page(
    request: Request, entry_id: int, who: Viewer | LoginRequired = Depends(viewer)
) -> Response:
    checked = _admin(request, who)
    if not isinstance(checked, Viewer):
        return checked
    with _engine(request).connect() as connection:
        entry = service.show_quarantine(connection, entry_id)
    if entry is None:
        raise ApiProblem(404, f"No quarantine entry {entry_id}.")
    return _page(request, "quarantine_entry.html", checked, entry=entry)


@router.post("/quarantine/dismiss", response_class=HTMLResponse, response_model=None)
def dismiss(
    request: Request,
    ids: list[str] = Form([]),
    note: str = Form(""),
    csrf: str = Form(""),
    who: Viewer | LoginRequired = Depends(viewer),
) -> Response:
    checked = _admin_form(request, who, csrf)
    if not isinstance(checked, Viewer):
        return checked
    chosen = _ids(ids)
    by = _reviewer(checked)
    if not chosen:
        return _list(request, checked, "unreviewed", "", error="Tick the entries to dismiss.")
    try:
        count = service.dismiss_entries(_engine(request), chosen, note, by)
    except service.QuarantineError as error:
        return _list(request, checked, "unreviewed", "", error=str(error))
    return _list(request, checked, "unreviewed", "", done=f"{count} entry(ies) marked reviewed.")


@router.post("/quarantine/reprocess", response_class=HTMLResponse, response_model=None)
def reprocess(
    request: Request,
    ids: list[str] = Form([]),
    csrf: str = Form(""),
    who: Viewer | LoginRequired = Depends(viewer),
) -> Response:
    checked = _admin_form(request, who, csrf)
    if not isinstance(checked, Viewer):
        return checked
    settings: ApiSettings = request.app.state.settings
    by = _reviewer(checked)
    try:
        report = service.reprocess_entries(
            _engine(request), _ids(ids) or None, None, by, settings.config
        )
    except service.QuarantineError as error:
        return _list(request, checked, "unreviewed", "", error=str(error))
    done = (
        f"Reprocessed with the current profiles: {len(report.accepted)} now in the index, "
        f"{len(report.skipped)} skipped by the mapping, {len(report.still_failing)} still "
        "quarantined."
    )
    return _list(request, checked, "unreviewed", "", done=done)
