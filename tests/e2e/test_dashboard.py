"""The dashboard end to end, in headless Chromium: the demo's world loads, an alert is
found by filtering, acknowledged, and the ITMO lookup shows its timeline across
registries. Screenshots go to test-artifacts/test_dashboard (or under $METAREG_TEST_OUTPUT)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from metareg.cli.live_demo import DemoStack, build_demo
from metareg.simulator.scenario import load_scenario
from metareg.simulator.serve_app import BackgroundServer
from metareg.simulator.world import generate_world
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, screenshot_folder

SCENARIO = Path(__file__).resolve().parents[2] / "config" / "scenarios" / "jcm.toml"
pytestmark = pytest.mark.slow


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[DemoStack, str]]:
    world = generate_world(load_scenario(SCENARIO))
    stack = build_demo(tmp_path / "demo", world, interval=1.0)
    stack.simulator.start()
    stack.loop.start()
    server = BackgroundServer(stack.app).start()
    try:
        yield stack, server.url
    finally:
        server.stop()
        stack.stop()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    """test-artifacts/<the test module's name> (this module's: test_dashboard)."""
    return screenshot_folder(request.module.__name__.rsplit(".", 1)[-1])


def test_dashboard_finds_acknowledges_and_traces_an_alert(
    demo: tuple[DemoStack, str], shots: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import expect, sync_playwright

    stack, url = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            # Not logged in: the dashboard asks for a key.
            page.goto(f"{url}/dashboard")
            expect(page.locator("h1")).to_have_text("Log in")
            page.fill("#key", stack.admin_key)
            page.click("form.login button")

            # The demo's world loads: every simulated registry synced.
            expect(page.locator("h1")).to_have_text("Overview")
            health = page.locator("#health tr[data-registry]")
            expect(health).to_have_count(len(stack.world.scenario.registries))
            expect(page.locator("#health tr.health-ok")).to_have_count(
                len(stack.world.scenario.registries), timeout=60_000
            )
            page.screenshot(path=str(shots / "1-overview.png"), full_page=True)

            # An alert is found by filtering (the double use planted in JPN01).
            row = page.locator("tr[data-rule='DC05']")
            deadline = time.monotonic() + 60
            while True:
                page.goto(f"{url}/dashboard/alerts")
                page.select_option("select[name=rule]", "DC05")
                page.select_option("select[name=status]", "open")
                page.click("form.filters button")
                if row.count() or time.monotonic() > deadline:
                    break
                time.sleep(1)
            expect(row).to_have_count(1)
            expect(page.locator("tr[data-rule]")).to_have_count(1)  # the filter filtered
            assert "JPN01" in row.inner_text()
            page.screenshot(path=str(shots / "2-filtered.png"), full_page=True)

            # Acknowledged, with a note.
            row.locator("input[name=note]").fill("Asked JPN01 to withdraw the second use")
            # Wait for the server's answer to the form before leaving the page: going on at
            # once could abort the POST (a race seen under load).
            with page.expect_response(
                lambda r: r.request.method == "POST" and "/acknowledge" in r.url
            ) as answered:
                row.locator("button", has_text="Acknowledge").click()
            assert answered.value.status < 400
            page.goto(f"{url}/dashboard/alerts?rule=DC05")
            expect(page.locator("tr[data-rule='DC05'] td.status")).to_have_text("acknowledged")
            expect(page.locator("tr[data-rule='DC05'] .note")).to_contain_text("withdraw")
            page.screenshot(path=str(shots / "3-acknowledged.png"), full_page=True)

            # The ITMO lookup shows the block's history as a timeline across registries.
            page.locator("tr[data-rule='DC05'] a.lookup").click()
            expect(page.locator("h1")).to_have_text("ITMO lookup")
            events = page.locator("ol.timeline li.event")
            expect(events.first).to_be_visible()
            kinds = events.all_inner_texts()
            assert any("Issuance" in k for k in kinds)
            assert sum("Use" in k for k in kinds) >= 2  # the two uses in conflict
            registries = {e.get_attribute("data-registry") for e in events.all()}
            assert len(registries) >= 2, registries
            page.screenshot(path=str(shots / "4-timeline.png"), full_page=True)
        finally:
            browser.close()
    assert len(list(shots.glob("*.png"))) == 4
