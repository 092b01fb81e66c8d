"""The lying-registry harness (issue 16): every connector that speaks HTTP (the exchange
API, a CAD Trust node, an AEF workbook download) synced from `liar.Registry` over real
HTTP on loopback, each misbehaviour asserted against a clean run of the same registry:
no record lost, none doubled, no worker stuck, the right operational alert. On SQLite
and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from metareg.checks.runner import run_checks
from metareg.connectors import build_connector
from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.db.tables.alerts import Alert
from metareg.db.tables.index import Quarantine
from metareg.oversight import withdrawals
from metareg.registries import RegistryConfig
from metareg.sync.engine import SyncEngine, SyncResult
from tests.reliability.liar import POISONED, REGISTRY, Registry, lying_registry
from tests.sync.index_state import current, history

KINDS = ("exchange", "cadt", "aef")


def registry_config(kind: str, url: str, **connector: Any) -> RegistryConfig:
    base: dict[str, Any] = {
        "exchange": {"type": "exchange", "url": url, "page_size": 5},
        "cadt": {"type": "cadt", "url": url, "limit": 5, "holdings": False},
        "aef": {"type": "aef", "url": f"{url}/aef.xlsx"},
    }[kind]
    return RegistryConfig(
        REGISTRY,
        "a lying registry",
        "IDN",
        {
            "connector": {
                **base,
                "timeout_seconds": 2,
                "max_attempts": 2,
                "backoff_base_seconds": 0,
                **connector,
            },
            "allow_private_network": True,
        },
    )


def sync(engine: Engine, kind: str, url: str, **connector: Any) -> SyncResult:
    registry = registry_config(kind, url, **connector)
    client = build_connector(registry, sleep=lambda _: None)
    try:
        return SyncEngine(engine).sync(registry, client)
    finally:
        client.close()


def open_alerts(engine: Engine) -> set[str]:
    table = Alert
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.rule).where(table.c.status == "open"))
        return {rule for (rule,) in rows}


def untraced_ranges(engine: Engine) -> list[tuple[int, int]]:
    table = Alert
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c.first_id, table.c.last_id).where(
                table.c.status == "open", table.c.rule == "DC17"
            )
        )
        return [(int(first), int(last)) for first, last in rows]


def quarantined(engine: Engine) -> int:
    table = Quarantine
    with engine.connect() as connection:
        return len(connection.execute(select(table.c.id)).all())


@pytest.fixture(scope="module")
def clean_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Per connector kind: the index a clean sync of the honest registry leaves."""
    runs: dict[str, Any] = {}
    for kind in KINDS:
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp(kind) / 'clean.db'}")
        migrate.upgrade(engine)
        with lying_registry(Registry()) as url:
            assert sync(engine, kind, url).ok
        runs[kind] = (current(engine), history(engine))
        engine.dispose()
    return runs


@pytest.fixture
def liar() -> Iterator[tuple[Registry, str]]:
    registry = Registry()
    with lying_registry(registry) as url:
        yield registry, url


def same_as_clean(engine: Engine, clean: Any) -> None:
    assert current(engine) == clean[0]  # none lost
    assert history(engine) == clean[1]  # none doubled


# -- lies that a sync must see through: the index ends as a clean run's ----------------

THROUGH = [
    ("exchange", "holes"),
    ("exchange", "reorder"),
    ("exchange", "repeat"),
    ("cadt", "holes"),
    ("cadt", "reorder"),
    ("cadt", "repeat"),
    ("aef", "reorder"),
]


@pytest.mark.parametrize(("kind", "lie"), THROUGH, ids=[f"{k}-{lie}" for k, lie in THROUGH])
def test_a_lie_the_sync_sees_through_ends_as_a_clean_run(
    kind: str, lie: str, engine: Engine, liar: tuple[Registry, str], clean_runs: Any
) -> None:
    registry, url = liar
    setattr(registry.lies, lie, True)
    result = sync(engine, kind, url)
    assert result.ok, result.error
    same_as_clean(engine, clean_runs[kind])
    run_checks(engine)
    assert open_alerts(engine) == set()


# -- a poisoned value costs its record only --------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_poisoned_value_quarantines_its_record_and_the_page_arrives(
    kind: str, engine: Engine, liar: tuple[Registry, str], clean_runs: Any
) -> None:
    registry, url = liar
    registry.lies.poison = True
    result = sync(engine, kind, url)
    assert result.ok, result.error
    poisoned = f"IDN-A-{POISONED + 1}"
    expected = {row for row in clean_runs[kind][0] if row[2] != poisoned}
    assert current(engine) == expected and len(expected) == len(clean_runs[kind][0]) - 1
    assert quarantined(engine) == 1
    run_checks(engine)
    # SY03 counts the quarantined record. Where the registry also holds the poisoned
    # issuance's block (the exchange face lists holdings), that holding is now one that
    # no issuance in the index covers: DC17 names exactly that block, and nothing else.
    held = kind == "exchange" and registry.holdings > POISONED
    assert open_alerts(engine) == ({"SY03", "DC17"} if held else {"SY03"})
    if held:
        poisoned_block = (100 * (POISONED + 1) + 1, 100 * (POISONED + 1) + 100)
        assert untraced_ranges(engine) == [poisoned_block]
    if kind == "exchange":
        return  # a change feed brings the corrected record as a new change
    # The registry corrects the value: the next complete listing brings the record.
    registry.lies.poison = False
    assert sync(engine, kind, url).ok
    assert current(engine) == clean_runs[kind][0]


# -- a registry that stalls holds no worker ----------------------------------------------


@pytest.mark.parametrize("kind", ["exchange", "cadt"])
def test_a_cursor_loop_fails_the_sync_then_the_next_poll_completes(
    kind: str, engine: Engine, liar: tuple[Registry, str], clean_runs: Any
) -> None:
    registry, url = liar
    registry.lies.loop = True
    result = sync(engine, kind, url)
    assert not result.ok and result.error_kind == "malformed"
    assert "does not advance" in str(result.error)
    assert registry.requests < 20  # stopped, not looping
    registry.lies.loop = False
    assert sync(engine, kind, url).ok
    same_as_clean(engine, clean_runs[kind])


def test_a_holdings_listing_that_never_ends_fails_after_the_records_arrive(
    engine: Engine, liar: tuple[Registry, str], clean_runs: Any
) -> None:
    registry, url = liar
    registry.lies.loop_holdings = True
    result = sync(engine, "exchange", url)
    assert not result.ok and "does not advance" in str(result.error)
    assert registry.requests < 20
    actions = {row for row in clean_runs["exchange"][0] if row[1] == "action"}
    assert current(engine) == actions  # the change feed's pages were committed
    registry.lies.loop_holdings = False
    assert sync(engine, "exchange", url).ok
    same_as_clean(engine, clean_runs["exchange"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_trickling_body_fails_within_the_deadline_then_the_next_poll_completes(
    kind: str, engine: Engine, liar: tuple[Registry, str], clean_runs: Any
) -> None:
    registry, url = liar
    registry.lies.slow = 0.05  # a page of ~1 kB would take a minute
    started = time.monotonic()
    result = sync(engine, kind, url, timeout_seconds=0.3)
    elapsed = time.monotonic() - started
    assert not result.ok and result.error_kind == "transient"
    assert elapsed < 5  # two attempts of 0.3 s each, and the lease never held long
    registry.lies.slow = 0
    assert sync(engine, kind, url).ok
    same_as_clean(engine, clean_runs[kind])


# -- an empty complete listing is held back, never applied silently --------------------


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_complete_listing_is_held_until_repeated(
    kind: str, engine: Engine, liar: tuple[Registry, str], clean_runs: Any
) -> None:
    registry, url = liar
    assert sync(engine, kind, url).ok
    registry.lies.empty = registry.lies.expire = True  # a cursor reset, then nothing
    held = sync(engine, kind, url)
    assert held.ok and held.held > 0
    same_as_clean(engine, clean_runs[kind])  # nothing withdrawn
    run_checks(engine)
    assert "SY04" in open_alerts(engine)
    # The registry lists the same on the next poll: it means it.
    repeated = sync(engine, kind, url)
    assert repeated.ok and repeated.counts.withdrawn == len(clean_runs[kind][0])
    assert current(engine) == set()
    run_checks(engine)
    assert "SY04" not in open_alerts(engine)


@pytest.mark.parametrize("kind", ["exchange", "cadt"])
def test_held_withdrawals_clear_when_the_registry_lists_everything_again(
    kind: str, engine: Engine, liar: tuple[Registry, str], clean_runs: Any
) -> None:
    registry, url = liar
    assert sync(engine, kind, url).ok
    registry.lies.empty = registry.lies.expire = True
    assert sync(engine, kind, url).held > 0
    run_checks(engine)
    assert "SY04" in open_alerts(engine)
    registry.lies.empty = registry.lies.expire = False
    again = sync(engine, kind, url, page_size=5)
    assert again.ok and again.held == 0
    same_as_clean(engine, clean_runs[kind])
    run_checks(engine)
    assert "SY04" not in open_alerts(engine)
    with engine.connect() as connection:
        assert withdrawals.held(connection) == []


def test_an_admin_confirms_held_withdrawals(
    engine: Engine, liar: tuple[Registry, str], clean_runs: Any
) -> None:
    registry, url = liar
    assert sync(engine, "exchange", url).ok
    registry.lies.empty = registry.lies.expire = True
    assert sync(engine, "exchange", url).held > 0
    with engine.connect() as connection:
        scopes = sorted(h["scope"] for h in withdrawals.held(connection))
    assert scopes == ["holdings:2024-12-31", "records"]
    done = withdrawals.confirm(engine, REGISTRY, by="test")
    assert done["withdrawn"] == len(clean_runs["exchange"][0])
    assert current(engine) == set()
    assert "SY04" not in open_alerts(engine)
    with pytest.raises(withdrawals.NothingHeld):
        withdrawals.confirm(engine, REGISTRY, by="test")


def test_the_api_and_the_cli_list_and_confirm_held_withdrawals(
    engine: Engine, db_url: str, liar: tuple[Registry, str], tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from metareg.cli import app as cli
    from tests.api.conftest import make_api

    registry, url = liar
    assert sync(engine, "cadt", url).ok
    registry.lies.empty = True
    assert sync(engine, "cadt", url).held == 23
    api = next(make_api(engine, tmp_path))
    held = api.client.get("/v1/withdrawals/held", headers=api.oversight)
    assert held.status_code == 200
    assert [(h["registry_id"], h["withdraw_count"]) for h in held.json()] == [(REGISTRY, 23)]
    path = f"/v1/registries/{REGISTRY}/withdrawals/confirm"
    assert api.client.post(path, headers=api.oversight).status_code == 403
    listed = CliRunner().invoke(cli, ["--db", db_url, "withdrawals", "list"])
    assert listed.exit_code == 0 and REGISTRY in listed.output
    confirmed = api.client.post(path, headers=api.admin)
    assert confirmed.status_code == 200 and confirmed.json()["withdrawn"] == 23
    assert current(engine) == set()
    assert api.client.post(path, headers=api.admin).status_code == 404
    again = CliRunner().invoke(cli, ["--db", db_url, "withdrawals", "confirm", REGISTRY])
    assert again.exit_code != 0 and "no withdrawals held" in again.output
