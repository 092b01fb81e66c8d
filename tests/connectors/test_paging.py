"""The one paginator: where a listing's pages come from and where it ends."""

from __future__ import annotations

from metareg.connectors.paging import Answer, paginate


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


def test_page_number_listing_resumes_mid_way_and_ends_on_an_empty_page() -> None:
    rows = {3: ["x"], 4: []}

    def fetch(page: int) -> Answer[int]:
        return Answer(rows[page], True, page + 1)  # the registry always claims more

    listed = list(paginate(fetch, 3))
    assert [(p.position, p.answer.items, p.last) for p in listed] == [
        (3, ["x"], False),
        (4, [], True),
    ]


def test_a_consumer_that_stops_fetches_nothing_more() -> None:
    asked: list[int] = []

    def fetch(page: int) -> Answer[int]:
        asked.append(page)
        return Answer([page], True, page + 1)

    for paged in paginate(fetch, 1):
        if paged.number == 2:
            break
    assert asked == [1, 2]
