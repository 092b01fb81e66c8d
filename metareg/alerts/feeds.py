"""Alert events as feeds: Atom 1.0 for feed readers, server-sent events for live
dashboards. Both read the ordered event log (`metareg.alerts.events`); the HTTP
routes that serve them live in the API app, which mounts these functions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import Connection, Engine

from metareg.alerts.events import events_page

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ID = "urn:metareg:alerts"
DEFAULT_ATOM_LIMIT = 100
HEARTBEAT_SECONDS = 15.0


def _entry_title(event: dict[str, Any]) -> str:
    alert = event["alert"]
    where = ""
    if alert.get("identifier"):
        where = f" {alert['identifier']}"
    elif alert.get("cooperative_approach_id"):
        where = (
            f" {alert['cooperative_approach_id']}-{alert['party_registry_id']} "
            f"{alert['first_id']}-{alert['last_id']}"
        )
    elif alert.get("registries"):
        where = f" {', '.join(alert['registries'])}"
    return f"{alert['rule']} {alert['name']} {event['event']}:{where} ({alert['severity']})"


def atom_feed(
    connection: Connection,
    since: int | None = None,
    limit: int = DEFAULT_ATOM_LIMIT,
    base_url: str = "http://localhost:8000",
    *,
    feed_path: str = "/feeds/alerts.atom",
    alert_path: str = "/alerts/{id}",
) -> str:
    """An Atom 1.0 document (RFC 4287) of alert events: the newest `limit` events,
    or with `since` the next `limit` events after that cursor. Entries are newest
    first; `feed_path` and `alert_path` say where the API serves the feed and an
    alert, for the self/next and entry links."""
    base = base_url.rstrip("/")
    if since is None:
        from metareg.alerts.events import latest_seq

        since = max(latest_seq(connection) - limit, 0)
    page = events_page(connection, since, limit)
    events = page["events"]
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    sub(feed, "id", FEED_ID)
    sub(feed, "title", "metareg alerts")
    sub(feed, "subtitle", "Double counting and sync alerts of the Article 6.2 meta-registry")
    updated = events[-1]["at"] if events else datetime.now(UTC).isoformat().replace("+00:00", "Z")
    sub(feed, "updated", updated)
    author = sub(feed, "author")
    sub(author, "name", "metareg")
    sub(feed, "link", rel="self", href=f"{base}{feed_path}?since={since}")
    if page["has_more"]:
        sub(feed, "link", rel="next", href=f"{base}{feed_path}?since={page['next']}")
    sub(feed, "generator", "metareg")
    for event in reversed(events):  # newest first, as feed readers expect
        alert = event["alert"]
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:metareg:alert-event:{event['seq']}")
        sub(entry, "title", _entry_title(event))
        sub(entry, "updated", event["at"])
        sub(entry, "published", event["at"])
        sub(entry, "link", rel="alternate", href=base + alert_path.format(id=alert["id"]))
        sub(entry, "category", term=alert["rule"], label=alert["name"])
        sub(entry, "category", term=alert["severity"], scheme="urn:metareg:severity")
        sub(entry, "category", term=event["event"], scheme="urn:metareg:event")
        summary = alert["message"]
        if event.get("note"):
            summary += f" — acknowledged: {event['note']}"
        sub(entry, "summary", summary, type="text")
        sub(entry, "content", json.dumps(event, sort_keys=True), type="application/json")
    body = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body


def sse_frame(event: dict[str, Any]) -> str:
    """One event as a server-sent event frame (its cursor as the SSE id, so a browser
    reconnecting with Last-Event-ID resumes exactly after it)."""
    data = json.dumps(event, sort_keys=True, separators=(",", ":"))
    return f"id: {event['seq']}\nevent: alert.{event['event']}\ndata: {data}\n\n"


# The last frame of a stream whose key was revoked or changed role (then the stream ends).
ACCESS_ENDED_FRAME = (
    'event: access-ended\ndata: {"reason":"the key was revoked or its role changed"}\n\n'
)


async def sse_events(
    engine: Engine,
    since: int | None,
    poll_seconds: float = 2.0,
    *,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
    page_size: int = 500,
    still_allowed: Callable[[Connection], bool] | None = None,
) -> AsyncIterator[str]:
    """Formatted SSE frames of every event after `since` (None: only new ones), then
    of each new event as it is committed; a comment line every `heartbeat_seconds`
    keeps proxies from closing an idle stream. Runs until the consumer stops it, or
    until `still_allowed` (run on the reading connection after each read, so before
    anything read is delivered, and on every poll) says the caller may no longer see
    the feed: then an `access-ended` event and the end of the stream."""

    def read(cursor: int | None) -> dict[str, Any] | None:
        with engine.connect() as connection:
            if cursor is None:
                from metareg.alerts.events import latest_seq

                page = {"events": [], "next": latest_seq(connection), "has_more": False}
            else:
                page = events_page(connection, cursor, page_size)
            # After the read: anything committed after a revocation is read only by a
            # read that also sees the revocation.
            if still_allowed is not None and not still_allowed(connection):
                return None
            return page

    cursor = since
    yield f"retry: {int(poll_seconds * 1000)}\n\n"
    idle = 0.0
    while True:
        page = await asyncio.to_thread(read, cursor)
        if page is None:
            yield ACCESS_ENDED_FRAME
            return
        cursor = page["next"]
        for event in page["events"]:
            yield sse_frame(event)
        if page["events"]:
            idle = 0.0
        if page["has_more"]:
            continue
        await asyncio.sleep(poll_seconds)
        idle += poll_seconds
        if idle >= heartbeat_seconds:
            idle = 0.0
            yield ": keep-alive\n\n"
