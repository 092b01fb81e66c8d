"""An incremental check of many changes hands the blocks of the last touched pairs to
a reading process already waiting (`checks.changed_reads`), and judges the others
and the authorization rules meanwhile.

What a user would notice: the alerts are those of a full check, whether those pairs
were judged in that process or, when it ended before answering, by the check itself;
a job that fails fails the check, which then changes nothing; a check of a few
changes, or with no reading process waiting, judges everything itself (it never
starts a process for this). The test worlds are small: `split` makes every change
count as many and a reading process as waiting.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from bench.generator import Manifest, increment
from metareg.checks import changed_reads
from metareg.checks.runner import run_checks
from metareg.db.tables.alerts import DetectionState
from metareg.detection.passes import incremental
from tests.checks import reading_jobs
from tests.checks.generated import (
    AS_OF,
    NOW,
    SIZE,
    assert_a_full_check_changes_nothing,
    load,
    open_alerts,
)


@pytest.fixture(scope="module")
def changes(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """A registry's day of records: new issuances, and first transfers into ranges
    the world holds (they open alerts)."""
    return increment(tmp_path_factory.mktemp("changes"), SIZE, 300, "many")


@pytest.fixture(scope="module")
def few(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return increment(tmp_path_factory.mktemp("few"), SIZE, 10, "few")


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every change counts as many, and a reading process as waiting."""
    monkeypatch.setattr(incremental, "SPLIT_FROM_INTERVALS", 0)
    monkeypatch.setattr(changed_reads, "child_waiting", lambda: True)


def _checked_then_changed(engine: Engine, world: Manifest, changes: Manifest) -> None:
    load(engine, world)
    run_checks(engine, full=True, as_of=AS_OF, now=NOW)
    load(engine, changes)


@pytest.fixture
def changed(engine: Engine, world: Manifest, changes: Manifest) -> Engine:
    """The world checked in full, then the changes loaded: the next check is
    incremental."""
    _checked_then_changed(engine, world, changes)
    return engine


def _incremental_opens_alerts(engine: Engine) -> dict[str, str]:
    summary = run_checks(engine, as_of=AS_OF, now=NOW)
    assert not summary.full
    assert sum(summary.opened.values()) > 0  # the changes opened alerts
    return open_alerts(engine)


def test_pairs_judged_in_the_reading_process_give_a_full_checks_alerts(
    changed: Engine, split: None
) -> None:
    judged_in_two = _incremental_opens_alerts(changed)
    assert {"DC01", "DC07"} <= set(judged_in_two.values())
    assert_a_full_check_changes_nothing(changed)
    assert open_alerts(changed) == judged_in_two


def test_a_reading_process_that_ends_before_answering_leaves_the_check_whole(
    changed: Engine, split: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(changed_reads, "changed_blocks", reading_jobs.dies)
        judged_here = _incremental_opens_alerts(changed)
    assert_a_full_check_changes_nothing(changed)
    assert open_alerts(changed) == judged_here


def test_a_failing_reading_process_fails_the_check_and_changes_nothing(
    changed: Engine, split: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = open_alerts(changed)
    watermark = select(DetectionState.c.watermark)
    with changed.connect() as connection:
        judged = connection.execute(watermark).scalar()
    with monkeypatch.context() as patched:
        patched.setattr(changed_reads, "changed_blocks", reading_jobs.fails)
        with pytest.raises(RuntimeError, match="could not read the index"):
            run_checks(changed, as_of=AS_OF, now=NOW)
    assert open_alerts(changed) == before
    with changed.connect() as connection:
        assert connection.execute(watermark).scalar() == judged
    after = _incremental_opens_alerts(changed)
    assert_a_full_check_changes_nothing(changed)
    assert open_alerts(changed) == after


@pytest.mark.parametrize("case", ["few changes", "no process waiting"])
def test_the_check_judges_everything_itself_without_many_changes_and_a_waiting_process(
    engine: Engine,
    world: Manifest,
    changes: Manifest,
    few: Manifest,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    # A reading process would fail this check: it must not be handed anything.
    monkeypatch.setattr(changed_reads, "changed_blocks", reading_jobs.fails)
    if case == "few changes":
        monkeypatch.setattr(changed_reads, "child_waiting", lambda: True)
        _checked_then_changed(engine, world, few)
    else:
        monkeypatch.setattr(incremental, "SPLIT_FROM_INTERVALS", 0)
        monkeypatch.setattr(changed_reads, "child_waiting", lambda: False)
        _checked_then_changed(engine, world, changes)
    summary = run_checks(engine, as_of=AS_OF, now=NOW)
    assert not summary.full
    after = open_alerts(engine)
    assert_a_full_check_changes_nothing(engine)
    assert open_alerts(engine) == after
