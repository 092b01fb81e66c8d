"""The JSON feed (cursor paging), the Atom feed (parsed by a real feed parser) and
the server-sent events stream."""

from __future__ import annotations

import asyncio

import feedparser

from metareg.alerts import store
from metareg.alerts.events import events_page
from metareg.alerts.feeds import atom_feed, sse_events
from tests.alerts.conftest import Index
from tests.helpers import action


def _many_events(index: Index) -> None:
    """Seven alerts opened, one acknowledged, one resolved: nine events."""
    index.put("IDN01", *[action(f"ISS-{n}", n * 10 + 1, n * 10 + 10) for n in range(7)])
    index.put("JPN01", *[action(f"DUP-{n}", n * 10 + 5, n * 10 + 5) for n in range(7)])
    index.check()
    first = index.alerts()[0]
    with index.engine.begin() as connection:
        store.acknowledge(connection, first["id"], "seen")
    index.put("JPN01", action("DUP-0", 1000, 1000))
    index.check()


def test_json_feed_pages_visit_every_event_once(index: Index) -> None:
    _many_events(index)
    seen: list[int] = []
    cursor = None
    with index.engine.connect() as connection:
        while True:
            page = events_page(connection, cursor, 2)
            seen += [event["seq"] for event in page["events"]]
            cursor = page["next"]
            if not page["has_more"]:
                break
        assert events_page(connection, cursor, 2)["events"] == []
    assert len(seen) == 9 and seen == sorted(set(seen))
    # New events appear after the last cursor, and only there.
    index.put("JPN01", action("DUP-0", 5, 5))
    index.check()
    with index.engine.connect() as connection:
        page = events_page(connection, cursor, 10)
    assert [(e["event"], e["alert"]["rule"]) for e in page["events"]] == [("reopened", "DC01")]


def test_atom_feed_is_valid_and_lists_the_events(index: Index) -> None:
    _many_events(index)
    with index.engine.connect() as connection:
        document = atom_feed(connection, base_url="https://metareg.example")
        page = atom_feed(connection, since=0, limit=4, base_url="https://metareg.example")
    parsed = feedparser.parse(document)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert len(parsed.entries) == 9
    newest = parsed.entries[0]
    assert newest.id.startswith("urn:metareg:alert-event:")
    assert "DC01" in newest.title and "resolved" in newest.title
    assert newest.link.startswith("https://metareg.example/alerts/")
    assert any(e.get("summary", "").endswith("acknowledged: seen") for e in parsed.entries)
    paged = feedparser.parse(page)
    assert paged.bozo == 0 and len(paged.entries) == 4
    assert any(link.rel == "next" for link in paged.feed.links)


def test_sse_stream_replays_then_follows(index: Index) -> None:
    index.put("IDN01", action("ISS-1", 1, 10))
    index.put("JPN01", action("ISS-2", 5, 15))
    index.check()

    async def collect() -> list[str]:
        frames: list[str] = []
        stream = sse_events(index.engine, 0, poll_seconds=0.05, heartbeat_seconds=0.1)
        async for frame in stream:
            frames.append(frame)
            if len([f for f in frames if f.startswith("id:")]) == 1 and len(frames) == 2:
                # a new event committed while the stream is open
                await asyncio.to_thread(lambda: index.put("JPN01", action("ISS-2", 50, 60)))
                await asyncio.to_thread(index.check)
            if any("alert.resolved" in f for f in frames) and any(
                f.startswith(": keep-alive") for f in frames
            ):
                break
        await stream.aclose()
        return frames

    frames = asyncio.run(asyncio.wait_for(collect(), timeout=30))
    assert frames[0].startswith("retry:")
    events = [f for f in frames if f.startswith("id:")]
    assert [f.split("\n")[1] for f in events] == ["event: alert.opened", "event: alert.resolved"]
    assert events[0].startswith("id: 1\n") and events[1].startswith("id: 2\n")
