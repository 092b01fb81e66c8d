"""The quarantine page end to end, in headless Chromium: a corrupted copy of the real JCM
credits file is ingested (three rows whose mechanism the shipped profile cannot read,
one with a mistyped amount); an admin sees each entry with its source, line and
reason, opens one to read the input as received, fixes the mapping, reprocesses (the
three go into the index) and dismisses the last with a note. Screenshots go to
test-artifacts/test_quarantine_page (or under $METAREG_TEST_OUTPUT)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from metareg.connectors.mapping import load_profile
from metareg.oversight.keys import create_key
from metareg.simulator.serve_app import BackgroundServer
from metareg.sync.profile_ingest import ingest_with_profile
from metareg.web.app import create_app
from metareg.web.settings import ApiSettings
from tests.conftest import NO_REAL_DATA
from tests.connectors.test_quarantine_workflow import JCM, corrupted_copy, fixed_profile
from tests.e2e.test_dashboard import CHROMIUM, CHROMIUM_ARGS, shots  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not JCM.is_file(), reason=NO_REAL_DATA)]


@pytest.fixture
def served(engine: Engine, tmp_path: Path) -> Iterator[tuple[str, str, Path, dict]]:
    config = tmp_path / "config"
    config.mkdir()
    file = corrupted_copy(tmp_path)
    report = ingest_with_profile(engine, [file["path"]], load_profile("jcm-credits"), {})
    assert report.counts.quarantined == 4
    with engine.begin() as connection:
        admin = create_key(connection, "e2e admin", "admin")[1]
    server = BackgroundServer(create_app(engine, settings=ApiSettings(config=config))).start()
    try:
        yield server.url, admin, config, file
    finally:
        server.stop()


def test_quarantine_reviewed_in_the_browser(
    served: tuple[str, str, Path, dict],
    shots: Path,  # noqa: F811
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import expect, sync_playwright

    url, admin, config, file = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{url}/dashboard/quarantine")
            expect(page.locator("h1")).to_have_text("Log in")
            page.fill("#key", admin)
            page.click("form.login button")

            # Each entry with its source, line and every reason.
            expect(page.locator("h1")).to_have_text("Quarantine")
            rows = page.locator("table.quarantine tr[data-entry]")
            expect(rows).to_have_count(4)
            texts = rows.all_inner_texts()
            lines = sorted(t.split("\t")[4].strip() for t in texts)
            assert lines == sorted([*file["dashed_lines"], file["mistyped_line"]]), texts
            assert all(str(file["path"]) in t for t in texts)
            assert sum("matched nothing in 'Mongolia\u2013Japan JCM'" in t for t in texts) == 3
            assert sum("expected a number, got '12O5'" in t for t in texts) == 1
            page.screenshot(path=str(shots / "q1-list.png"), full_page=True)

            # One entry: the input as received.
            page.locator("table.quarantine tr[data-entry] a").first.click()
            expect(page.locator("h1")).to_contain_text("Quarantine entry")
            expect(page.locator("pre.raw")).to_contain_text("issued_amount")
            page.screenshot(path=str(shots / "q2-entry.png"), full_page=True)

            # The mapping fixed, reprocess everything: three rows go into the index.
            fixed_profile(config)
            page.goto(f"{url}/dashboard/quarantine")
            with page.expect_response(lambda r: r.request.method == "POST") as answered:
                page.click("button:has-text('Reprocess selected')")
            assert answered.value.status < 400
            expect(page.locator("p.done")).to_contain_text("3 now in the index")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text(file["mistyped_line"])
            page.screenshot(path=str(shots / "q3-reprocessed.png"), full_page=True)

            # The bad amount is the source's: dismissed with a note.
            rows.first.locator("input[type=checkbox]").check()
            page.fill("#dismiss-note", "amount mistyped at the source; asked the secretariat")
            with page.expect_response(lambda r: r.request.method == "POST") as answered:
                page.click("button:has-text('Dismiss selected')")
            assert answered.value.status < 400
            expect(page.locator("p.done")).to_contain_text("1 entry(ies) marked reviewed")
            expect(rows).to_have_count(0)
            page.goto(f"{url}/dashboard/quarantine?status=all")
            expect(rows).to_have_count(4)
            reviewed = page.locator("tr.q-reviewed")
            expect(reviewed).to_contain_text("asked the secretariat")
            expect(reviewed).to_contain_text("e2e admin")
            expect(page.locator("tr.q-reprocessed")).to_have_count(3)
            page.screenshot(path=str(shots / "q4-reviewed.png"), full_page=True)
        finally:
            browser.close()
    assert len(list(shots.glob("q*.png"))) == 4
