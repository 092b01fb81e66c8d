"""The one paginator: where a listing's pages come from and where it ends."""

from __future__ import annotations

from typing import Any

import pytest

from metareg.connectors.paging import Answer, CursorStalled, paginate


def test_cursor_listing_follows_each_next_cursor_until_the_registry_says_no_more() -> None:
    pages = {None: (["a", "b"], True, "c1"), "c1": (["c"], True, "c2"), "c2": (["d"], False, None)}
    asked: list[str | None] = []

    def fetch(cursor: str | None) -> Answer[str | None]:
        asked.append(cursor)
        items, more, following = pages[cursor]
        return Answer(items, more, following)

    listed = list(paginate(fetch, None))
    assert asked == [None, "c1", "c2"]
    assert [p.answer.items for p in listed] == [["a", "b"], ["c"], ["d"]]
    assert [(p.position, p.number, p.first, p.last) for p in listed] == [
        (None, 1, True, False),
        ("c1", 2, False, False),
        ("c2", 3, False, True),
    ]


def test_page_number_listing_resumes_mid_way_and_goes_past_an_empty_page() -> None:
    """An empty page that says more follow does not end the listing (issue 16: ending
    there made a complete listing look shorter, and withdrew the rest)."""
    rows: dict[int, tuple[list[str], bool]] = {3: (["x"], True), 4: ([], True), 5: (["y"], False)}

    def fetch(page: int) -> Answer[int]:
        items, more = rows[page]
        return Answer(items, more, page + 1)

    listed = list(paginate(fetch, 3))
    assert [(p.position, p.answer.items, p.last) for p in listed] == [
        (3, ["x"], False),
        (4, [], False),
        (5, ["y"], True),
    ]


def test_a_registry_claiming_more_forever_with_empty_pages_is_stopped() -> None:
    asked: list[int] = []

    def fetch(page: int) -> Answer[int]:
        asked.append(page)
        return Answer([], True, page + 1)

    with pytest.raises(CursorStalled, match="empty pages in a row"):
        list(paginate(fetch, 1, max_empty=5))
    assert len(asked) == 6


@pytest.mark.parametrize(
    "next_of",
    [
        pytest.param(lambda c: c, id="same-cursor"),
        pytest.param(lambda c: None, id="no-cursor"),
        pytest.param(lambda c: "c1" if c == "c2" else "c2", id="cursor-loop"),
    ],
)
def test_a_cursor_that_does_not_advance_is_asked_again_then_fails(next_of: Any) -> None:
    asked: list[str | None] = []

    def fetch(cursor: str | None) -> Answer[str | None]:
        asked.append(cursor)
        following = "c1" if cursor is None else next_of(cursor)
        return Answer([cursor], True, following)

    with pytest.raises(CursorStalled, match="does not advance"):
        list(paginate(fetch, None, stall_retries=2))
    assert len(asked) < 10


def test_a_stale_page_served_once_is_asked_again_and_the_listing_goes_on() -> None:
    served: list[str | None] = []
    stale = {"c2": 1}  # the registry answers c2 with the page of c1 once

    def fetch(cursor: str | None) -> Answer[str | None]:
        served.append(cursor)
        if stale.get(str(cursor)):
            stale[str(cursor)] -= 1
            return Answer(["a"], True, "c2")  # c1's page again: next is c2, not c3
        pages = {None: (["a0"], "c1"), "c1": (["a"], "c2"), "c2": (["b"], "c3")}
        if cursor == "c3":
            return Answer(["c"], False, None)
        items, following = pages[cursor]
        return Answer(items, True, following)

    listed = [p.answer.items for p in paginate(fetch, None)]
    assert listed == [["a0"], ["a"], ["b"], ["c"]]
    assert served == [None, "c1", "c2", "c2", "c3"]


def test_a_consumer_that_stops_fetches_nothing_more() -> None:
    asked: list[int] = []

    def fetch(page: int) -> Answer[int]:
        asked.append(page)
        return Answer([page], True, page + 1)

    for paged in paginate(fetch, 1):
        if paged.number == 2:
            break
    assert asked == [1, 2]
