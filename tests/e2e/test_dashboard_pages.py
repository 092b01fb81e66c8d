"""Every dashboard page in headless Chromium, on a desktop (1280x800) and a phone
(390x844): what a reader sees. One server and one browser for the whole module, over
the all-rules world (every rule planted once), loaded straight into a SQLite index.

On every page: nothing scrolls sideways (wide tables scroll in their own box), and
each chart's legend lies inside its drawing. Screenshots go to test-artifacts/e2e (or
$METAREG_TEST_OUTPUT/e2e)."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from metareg.checks.runner import run_checks
from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.index.state import MIXED, STATES
from metareg.oversight.keys import create_key
from metareg.simulator.scenario import load_scenario
from metareg.simulator.serve_app import BackgroundServer
from metareg.simulator.world import World, generate_world
from metareg.sync.ingest import ingest_files
from metareg.web.app import create_app
from metareg.web.settings import ApiSettings
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, need_chromium, screenshot_folder

pytestmark = pytest.mark.slow

SCENARIO = Path(__file__).resolve().parents[2] / "config" / "scenarios" / "all-rules.toml"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SEVERITY_RANK = {"critical": 0, "high": 1, "warning": 2, "low": 3}


@dataclass
class Site:
    url: str
    world: World
    admin_key: str
    shots: Path


def _load(world: World, folder: Path, url: str) -> None:
    """Every record and holding snapshot the world's registries publish, ingested as
    files, then one full check as of the world's end."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    for registry in world.registry_ids:
        rows = [p.record for p in world.visible(registry, world.scenario.end)]
        snapshot = world.snapshot(registry, world.scenario.end)
        rows += list(snapshot.rows) if snapshot else []
        path = folder / f"{registry}.jsonl"
        path.write_bytes(b"\n".join(orjson.dumps(row) for row in rows))
        ingest_files(engine, [path], registry)
    run_checks(engine, full=True, as_of=world.scenario.end)
    engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("dashboard-pages")
    world = generate_world(load_scenario(SCENARIO))
    url = f"sqlite:///{folder / 'index.db'}"
    _load(world, folder, url)
    engine = make_engine(url)
    with engine.begin() as connection:
        admin = create_key(connection, "e2e admin", "admin")[1]
    server = BackgroundServer(create_app(engine, settings=ApiSettings(config=folder))).start()
    try:
        yield Site(server.url, world, admin, screenshot_folder("e2e"))
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(browser: Any, site: Site, viewport: str) -> Iterator[Any]:
    """A logged-in page (admin key, through the login form) at the viewport's size."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORTS[viewport])
    tab = context.new_page()
    tab.goto(f"{site.url}/dashboard")
    tab.fill("#key", site.admin_key)
    tab.click("form.login button")
    expect(tab.locator("h1")).to_have_text("Overview")
    try:
        yield tab
    finally:
        context.close()


def fits(page: Any, shots: Path, name: str) -> None:
    """The page does not scroll sideways, each chart's legend is inside its drawing;
    then its screenshot."""
    page.wait_for_load_state("load")
    overflow = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    if overflow[0] > overflow[1]:
        wide = page.evaluate(
            """(w) => [...document.querySelectorAll("body *")]
            .filter(e => e.getBoundingClientRect().right + window.scrollX > w
              && !(e.parentElement && e.parentElement.closest(".scroll")))
            .slice(0, 5).map(e => e.tagName + "." + e.className)
            .concat(["scrollX " + window.scrollX])""",
            overflow[1],
        )
        page.screenshot(path=str(shots / f"{name}-OVERFLOW.png"), full_page=True)
        raise AssertionError(f"{name}: page is {overflow[0]}px wide in {overflow[1]}px: {wide}")
    outside = page.evaluate(
        """() => {
        const out = [];
        for (const svg of document.querySelectorAll("svg.chart")) {
          const box = svg.getBoundingClientRect();
          if (!box.width) continue;  // the other screen size's drawing
          for (const el of svg.querySelectorAll(".legend text, .legend rect, text")) {
            const r = el.getBoundingClientRect();
            if (r.left < box.left - 0.5 || r.right > box.right + 0.5 ||
                r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
              out.push(svg.getAttribute("aria-label") + ": " + el.textContent);
          }
        }
        return out;
    }"""
    )
    assert not outside, f"{name}: drawn outside its chart: {outside}"
    shrunk = page.evaluate(
        """() => [...document.querySelectorAll("svg.chart")]
        .filter(svg => svg.getBoundingClientRect().width)
        .map(svg => svg.getBoundingClientRect().width / svg.viewBox.baseVal.width)
        .filter(scale => scale < 0.9)"""
    )
    assert not shrunk, f"{name}: charts shrunk to {shrunk} of their size: text unreadable"
    shot = shots / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000 and shot.stat().st_mtime >= time.time() - 60, shot


def test_overview_charts_answer_questions(page: Any, site: Site, viewport: str) -> None:
    page.goto(f"{site.url}/dashboard")
    charts = page.locator("svg.chart:visible")  # each chart is drawn for wide and narrow
    labels = [c.get_attribute("aria-label") for c in charts.all()]
    assert labels == [
        "Open alerts by rule, by severity",
        "Open alerts by registry involved, by severity",
        "Units by state, per first transferring Party and vintage",
        "Unresolved conflicts by the date of their conflicting actions",
    ]
    # The units chart says whom it counts by, and stacks every bar in one order.
    headings = page.locator("#charts h2").all_inner_texts()
    assert any("by first transferring Party and vintage" in h for h in headings), headings
    units = charts.nth(2)
    order = [*STATES, MIXED]
    legend = units.locator(".legend text").all_text_contents()
    assert legend and legend == sorted(legend, key=order.index)
    bars: dict[str, list[str]] = {}
    for rect in units.locator("rect[data-series]").all():
        label = str(rect.locator("title").text_content()).split(" ")
        bars.setdefault(" ".join(label[:2]), []).append(str(rect.get_attribute("data-series")))
    assert len(bars) >= 2
    for label, series in bars.items():
        assert series == sorted(series, key=order.index), f"{label}: {series}"
        assert set(series) <= set(legend)
    # Conflicts are dated by their actions (the world's years), not by when metareg
    # saw them (today): several periods, all within the world's time.
    periods = charts.nth(3).locator("rect.period")
    dated = {str(p.get_attribute("data-period")) for p in periods.all()}
    assert len(dated) > 2, dated
    start, end = site.world.scenario.start, site.world.scenario.end
    assert all(f"{start:%Y-%m}" <= d[:7] <= f"{end:%Y-%m}" for d in dated), dated
    # Every planted conflict (and nothing else) is flagged and dated.
    counted = sum(int(p.get_attribute("data-count") or 0) for p in periods.all())
    assert counted == len(site.world.conflicts)
    # The open alerts by rule chart counts each planted rule.
    rules = {t.split(" ")[0] for t in charts.nth(0).locator("text.label").all_text_contents()}
    assert {c.rule for c in site.world.conflicts} <= rules
    fits(page, site.shots, f"{viewport}-overview")


def _rows(page: Any) -> list[dict[str, str]]:
    return page.evaluate(
        """() => [...document.querySelectorAll("tr[data-alert]")].map(r => ({
            id: r.dataset.alert, rule: r.dataset.rule, severity: r.dataset.severity,
            last_seen: r.dataset.lastSeen, status: r.querySelector(".status").textContent}))"""
    )


def test_alerts_sorted_by_severity_then_recency_with_controls(
    page: Any, site: Site, viewport: str
) -> None:
    page.goto(f"{site.url}/dashboard/alerts")
    rows = _rows(page)
    assert len(rows) >= len(site.world.conflicts)
    for before, after in itertools.pairwise(rows):
        ranks = SEVERITY_RANK[before["severity"]], SEVERITY_RANK[after["severity"]]
        assert ranks[0] < ranks[1] or (
            ranks[0] == ranks[1] and before["last_seen"] >= after["last_seen"]
        ), (before, after)
    assert rows[0]["severity"] == "critical" and rows[-1]["severity"] == "low"
    fits(page, site.shots, f"{viewport}-alerts")

    # The Rule heading sorts by rule, A to Z; again, Z to A.
    page.click("th a.sort[data-sort=rule]")
    page.wait_for_url(re.compile(r"sort=rule"))
    by_rule = [r["rule"] for r in _rows(page)]
    assert by_rule == sorted(by_rule) and by_rule[0] != by_rule[-1]
    page.click("th a.sort[data-sort=rule]")
    page.wait_for_url(re.compile(r"order=asc|order=desc"))
    assert [r["rule"] for r in _rows(page)] == sorted(by_rule, reverse=True)
    assert page.locator("th[aria-sort=descending] a[data-sort=rule]").count() == 1

    # The form's controls sort too, and keep the filter.
    page.select_option("select[name=status]", "open")
    page.select_option("select[name=sort]", "severity")
    page.select_option("select[name=order]", "asc")
    with page.expect_navigation():
        page.click("form.filters button")
    ascending = _rows(page)
    assert ascending and all(r["status"] == "open" for r in ascending)
    ranks = [SEVERITY_RANK[r["severity"]] for r in ascending]
    assert ranks == sorted(ranks, reverse=True)
    fits(page, site.shots, f"{viewport}-alerts-sorted")


def test_alert_page_shows_evidence_timeline_history_and_acknowledges(
    page: Any, site: Site, viewport: str
) -> None:
    from playwright.sync_api import expect

    # The most severe open pair alert with a block (a double use or issuance).
    page.goto(f"{site.url}/dashboard/alerts?status=open")
    row = page.locator("tr[data-rule=DC05], tr[data-rule=DC01]").first
    alert_id = str(row.get_attribute("data-alert"))
    rule = str(row.get_attribute("data-rule"))
    row.locator("a.alert-link").click()
    page.wait_for_url(f"**/dashboard/alerts/{alert_id}")
    expect(page.locator("h1")).to_contain_text(rule)
    expect(page.locator("#alert-summary .status")).to_have_text("open")

    # Evidence side by side: one column per record, the differing fields marked.
    sides = page.locator("table.evidence th.side")
    expect(sides).to_have_count(2)
    assert page.locator("table.evidence tr.differs").count() >= 1
    assert page.locator("table.evidence tr[data-field=action_date] td").count() == 2

    # The timeline of its range, its evidence highlighted; and its history.
    events = page.locator("#block ol.timeline li.event")
    assert events.count() >= 2
    highlighted = page.locator("#block li.evidence").all_inner_texts()
    evidence_ids = [str(s.get_attribute("data-record")) for s in sides.all()]
    assert all(any(rid in h for h in highlighted) for rid in evidence_ids), highlighted
    expect(page.locator("#history li[data-event=opened]")).to_have_count(1)
    fits(page, site.shots, f"{viewport}-alert")

    # The ITMO page of its range links back to the alert, not to a rule filter.
    page.locator("#alert-summary a.lookup").click()
    expect(page.locator("h1")).to_have_text("ITMO lookup")
    links = page.locator("a.alert-link")
    hrefs = [str(a.get_attribute("href")) for a in links.all()]
    assert f"/dashboard/alerts/{alert_id}" in hrefs, hrefs
    assert not any("rule=" in h for h in hrefs)
    fits(page, site.shots, f"{viewport}-itmo")
    page.locator(f"a.alert-link[href='/dashboard/alerts/{alert_id}']").click()
    page.wait_for_url(f"**/dashboard/alerts/{alert_id}")

    # Acknowledged with a note, which its history then shows.
    note = f"Asked the registries to correct ({viewport})"
    page.fill("#note", note)
    with page.expect_navigation():
        page.click("form.ack-page button")
    expect(page.locator("#alert-summary .status")).to_have_text("acknowledged")
    expect(page.locator("#history li[data-event=acknowledged]")).to_contain_text(note)
    assert page.locator("form.ack-page").count() == 0
    fits(page, site.shots, f"{viewport}-alert-acknowledged")


def test_an_unknown_alert_is_a_clear_404(page: Any, site: Site, viewport: str) -> None:
    answer = page.goto(f"{site.url}/dashboard/alerts/0000000000000000")
    assert answer is not None and answer.status == 404
    assert "No such alert" in page.locator("h1").inner_text()
    fits(page, site.shots, f"{viewport}-no-such-alert")


def test_public_figures_without_a_key(browser: Any, site: Site, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    try:
        page.goto(f"{site.url}/dashboard/public")
        assert page.locator("h1").inner_text() == "Public figures"
        assert page.locator("form.logout").count() == 0  # nobody is logged in
        text = page.locator("main").inner_text()
        # Aggregates: units per Party and vintage, per approach, open alerts by rule.
        for approach in site.world.scenario.approaches:
            assert approach.id in text
        rules = page.locator("#public-alerts svg text.label").all_text_contents()
        assert {c.rule for c in site.world.conflicts} <= set(rules)
        # Nothing a key is needed for: no alert ids, no record ids, no accounts.
        html = page.content()
        for conflict in site.world.conflicts:
            for evidence in conflict.evidence:
                assert evidence.record_id not in html
        assert not re.search(r"/dashboard/alerts/[0-9a-f]{16}", html)
        assert "HOLD-" not in html and "GOV-" not in html  # account ids
        fits(page, site.shots, f"{viewport}-public")
    finally:
        context.close()


def test_login_page_fits(browser: Any, site: Site, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    try:
        page.goto(f"{site.url}/dashboard/login")
        assert page.locator("a[href='/dashboard/public']").count() == 1
        fits(page, site.shots, f"{viewport}-login")
    finally:
        context.close()
