"""The one paginator: every listing a connector reads page by page goes through `paginate`.

A registry lists in pages and says how to ask for the next one: a cursor (the exchange
API), a page number (CAD Trust's `page`/`limit`), or a link. A connector gives
`paginate` where the listing starts and a `fetch` that asks for the page at a position
and answers what the registry said (`Answer`): its items, whether it says more follow,
and the position of the next page. `paginate` yields each page with where it stands in
the listing (`Paged`) and decides, in this one place, where a listing ends: after a
page that says nothing follows. An empty page that says more follow does not end it
(a registry may well answer an empty page mid-listing; ending there would make a
complete listing look shorter than it is, and withdraw the rest).

A registry that lies about its pages is stopped here, for every connector:

- a next position that does not advance (the same cursor again, none while more are
  said to follow, or one already read: a cursor loop), or a page with exactly the
  items of the page before (a page-numbered registry that ignores the page asked
  for, or served a stale page) is asked again up to
  `stall_retries` times (a registry that served a stale page once answers right the
  next time); then the listing fails (`CursorStalled`, malformed) with the pages before
  it committed, and the next poll resumes there;
- more than `max_empty` empty pages in a row that all claim more fails it too.

With the HTTP client's total deadline per response, no listing can hold a worker
forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from metareg.connectors.errors import MalformedResponse

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


STALL_RETRIES = 3  # a non-advancing page is asked again this often before failing
MAX_EMPTY = 100  # empty pages in a row that all claim more


class CursorStalled(MalformedResponse):
    """The registry's listing does not move on (a cursor loop, or endless empty pages)."""


def paginate(
    fetch: Callable[[Position], Answer[Position]],
    start: Position,
    *,
    stall_retries: int = STALL_RETRIES,
    max_empty: int = MAX_EMPTY,
) -> Iterator[Paged[Position]]:
    """The pages of a listing from `start`, each fetched when the previous one has been
    taken (a consumer that stops early fetches nothing more)."""
    position = start
    visited = {_key(start)}
    number = 0
    empty_run = 0
    stalls = 0
    previous: list[Any] = []
    while True:
        answer = fetch(position)
        last = not answer.has_more
        repeated = bool(answer.items) and answer.items == previous
        if repeated or (
            not last and (answer.following is None or _key(answer.following) in visited)
        ):
            stalls += 1
            if stalls > stall_retries:
                raise CursorStalled(
                    f"the listing does not advance: page {number + 1} (at {position!r}) "
                    + (
                        "repeats the page before"
                        if repeated
                        else f"says more follow at {answer.following!r}, a position already read"
                    )
                    + f"; asked {stalls} times"
                )
            continue  # a stale page: ask for this position again
        stalls = 0
        previous = answer.items
        number += 1
        empty_run = 0 if answer.items or last else empty_run + 1
        if empty_run > max_empty:
            raise CursorStalled(
                f"{empty_run} empty pages in a row each say more follow (up to {position!r})"
            )
        yield Paged(answer, position, number, last)
        if last:
            return
        position = answer.following
        visited.add(_key(position))


def _key(position: Any) -> Any:
    """A position as a set member (positions are cursors, page numbers or tuples)."""
    try:
        hash(position)
    except TypeError:
        return repr(position)
    return position
