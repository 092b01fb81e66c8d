"""The one paginator: every listing a connector reads page by page goes through `paginate`.

A registry lists in pages and says how to ask for the next one: a cursor (the exchange
API), a page number (CAD Trust's `page`/`limit`), or a link. A connector gives
`paginate` where the listing starts and a `fetch` that asks for the page at a position
and answers what the registry said (`Answer`): its items, whether it says more follow,
and the position of the next page. `paginate` yields each page with where it stands in
the listing (`Paged`) and decides, in this one place, where a listing ends: after a
page that says nothing follows, or that is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Position = TypeVar("Position")  # a cursor, a page number, a URL: whatever `fetch` takes


@dataclass(frozen=True, slots=True)
class Answer(Generic[Position]):
    """One page as the registry answered it."""

    items: list[Any]
    has_more: bool  # the registry says more pages follow
    following: Position  # where the next page is asked for
    body: Any = None  # the decoded answer, for what a connector reads besides the items


@dataclass(frozen=True, slots=True)
class Paged(Generic[Position]):
    """A page and where it stands in the listing."""

    answer: Answer[Position]
    position: Position  # where this page was asked for
    number: int  # 1 for the listing's first page
    last: bool  # no page is asked for after this one

    @property
    def first(self) -> bool:
        return self.number == 1


def paginate(
    fetch: Callable[[Position], Answer[Position]], start: Position
) -> Iterator[Paged[Position]]:
    """The pages of a listing from `start`, each fetched when the previous one has been
    taken (a consumer that stops early fetches nothing more)."""
    position = start
    number = 0
    while True:
        answer = fetch(position)
        number += 1
        last = not answer.has_more or not answer.items
        yield Paged(answer, position, number, last)
        if last:
            return
        position = answer.following
