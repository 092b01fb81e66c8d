"""A full check asks for no transparent huge pages for numpy's arrays while it runs
(`metareg.detection.pages`), and leaves numpy's setting as it found it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from metareg.checks.runner import run_checks
from metareg.detection import pages
from metareg.detection.passes import full

needs_switch = pytest.mark.skipif(
    pages._set_madvise_hugepage is None, reason="this numpy has no huge-page switch"
)


def _advice() -> bool:
    assert pages._set_madvise_hugepage is not None
    before = pages._set_madvise_hugepage(True)
    pages._set_madvise_hugepage(before)
    return before


@needs_switch
@pytest.mark.parametrize("setting", [True, False])
def test_the_setting_is_off_inside_and_restored_after_even_on_error(setting: bool) -> None:
    assert pages._set_madvise_hugepage is not None
    previous = pages._set_madvise_hugepage(setting)
    try:
        with pages.ordinary_pages():
            assert _advice() is False
        assert _advice() is setting
        with pytest.raises(RuntimeError), pages.ordinary_pages():
            raise RuntimeError("a failed check")
        assert _advice() is setting
    finally:
        pages._set_madvise_hugepage(previous)


@needs_switch
def test_a_full_check_screens_without_huge_pages(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    screen = full._findings

    def findings(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(_advice())
        return screen(*args, **kwargs)

    monkeypatch.setattr(full, "_findings", findings)
    assert pages._set_madvise_hugepage is not None
    previous = pages._set_madvise_hugepage(True)
    try:
        run_checks(engine, full=True, as_of=date(2025, 6, 30))
        assert _advice() is True
    finally:
        pages._set_madvise_hugepage(previous)
    assert seen == [False]
