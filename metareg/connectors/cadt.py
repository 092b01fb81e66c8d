"""CADT connector: a Climate Action Data Trust node's REST API, read through the `cadt`
source profile (`metareg/connectors/profiles/cadt.toml`, or the profile named by
`source`).

Reads the v2 AEF tables (`/v2/aef-t2-authorizations`, `/v2/aef-t3-actions`, and with
`holdings = true` (default) `/v2/aef-t4-holdings`) and, with `units = true`, the v1 units
(`/v1/units`), each with `page`/`limit` pagination; each table's endpoint and mapping
are the profile's. A table the node does not serve (404: a v1-only node has no v2
tables, a v2-only node no v1 units) is passed over; a node that serves none of them is
a configuration error. CADT has no change feed, so every sync is a complete listing:
records CADT no longer lists are withdrawn. Cursor: `{"t": table, "p": page}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from metareg.connectors.base import SCOPE_RECORDS, Connector, Item, Page, holdings_scope
from metareg.connectors.body import fetch_json
from metareg.connectors.errors import ConfigurationError, MalformedResponse
from metareg.connectors.mapping import Profile
from metareg.connectors.paging import Answer, paginate
from metareg.connectors.profiled import connector_params, connector_profile, outcome_items

DEFAULT_LIMIT = 100
HOLDINGS_TABLE = "t4"


class CadtConnector(Connector):
    kind = "cadt"
    reads_in_child = True  # a paged API: a cursor resumes it at its table and page

    def _tables(self, profile: Profile) -> list[tuple[str, str]]:
        """(table, endpoint) in reading order: records first, holdings last."""
        wanted = ["t2", "t3"]
        if self.config.option("units", False):
            wanted.append("units")
        if self.config.option("holdings", True):
            wanted.append(HOLDINGS_TABLE)
        missing = [name for name in wanted if name not in profile.tables]
        if missing or not all(profile.tables[name].endpoint for name in wanted):
            raise ConfigurationError(
                f"{self.config.registry_id}: profile {profile.name} has no endpoint for {missing}"
            )
        return [(name, str(profile.tables[name].endpoint)) for name in wanted]

    def pages(self, cursor: str | None) -> Iterator[Page]:
        profile = connector_profile(self.config, "cadt")
        params = connector_params(self.config, profile)
        state = orjson.loads(cursor) if cursor else {"t": 0, "p": 1}
        tables = self._tables(profile)
        if any(name == HOLDINGS_TABLE for name, _ in tables) and not (
            params.get("reported_year") or params.get("holdings_as_of")
        ):
            raise ConfigurationError(
                f"{self.config.registry_id}: T4 holdings need reported_year or holdings_as_of"
            )
        records_last = max(i for i, (name, _) in enumerate(tables) if name != HOLDINGS_TABLE)
        base = str(self.config.require("url")).rstrip("/")
        limit = int(self.config.option("limit", DEFAULT_LIMIT))

        def fetch(path: str, page: int) -> Any:
            url = f"{base}{path}"
            return fetch_json(self.http, url, {"page": page, "limit": limit}, missing_ok=True)

        first_pages = self._probe(tables, fetch) if cursor is None else {}
        for index in range(int(state["t"]), len(tables)):
            name, path = tables[index]
            url = f"{base}{path}"

            def answer(
                page: int, index: int = index, path: str = path, url: str = url
            ) -> Answer[int]:
                body = (
                    first_pages.pop(index)
                    if page == 1 and index in first_pages
                    else fetch(path, page)
                )
                # A 404 on a first page: the node does not serve this table (a 404 later
                # is an error like any other).
                rows, page_count = ([], 1) if body is None and page == 1 else _page_rows(body, url)
                return Answer(rows, page < page_count, page + 1)

            start = int(state["p"]) if index == int(state["t"]) else 1
            for paged in paginate(answer, start):
                page = paged.position
                items = [
                    item
                    for n, row in enumerate(paged.answer.items, start=1)
                    for item in self._items(
                        profile, params, name, row, f"{path} page {page} row {n}"
                    )
                ]
                if name == HOLDINGS_TABLE:
                    scope = holdings_scope(self._as_of(params))
                    pass_start, pass_end = page == 1, paged.last
                else:
                    scope = SCOPE_RECORDS
                    pass_start = index == 0 and page == 1
                    pass_end = paged.last and index == records_last
                following = {"t": index + 1, "p": 1} if paged.last else {"t": index, "p": page + 1}
                done = paged.last and index == len(tables) - 1
                yield Page(
                    items,
                    None if done else orjson.dumps(following).decode(),
                    scope=scope,
                    pass_start=pass_start,
                    pass_end=pass_end,
                )

    def _probe(self, tables: list[tuple[str, str]], fetch: Any) -> dict[int, Any]:
        """First pages, from the start, up to the first table the node serves. A node that
        serves none of them (a wrong URL) must fail before any page is committed: an
        empty complete listing would withdraw everything the registry reported."""
        found: dict[int, Any] = {}
        for index, (_, path) in enumerate(tables):
            found[index] = fetch(path, 1)
            if found[index] is not None:
                return found
        raise ConfigurationError(
            f"{self.config.registry_id}: the node serves none of "
            f"{', '.join(path for _, path in tables)} (404): is the URL a CADT node?"
        )

    @staticmethod
    def _as_of(params: dict[str, Any]) -> str:
        return str(params.get("holdings_as_of") or f"{int(params['reported_year'])}-12-31")

    @staticmethod
    def _items(
        profile: Profile, params: dict[str, Any], table: str, row: Any, location: str
    ) -> list[Item]:
        outcome = profile.evaluate(profile.json_row(row, location), params, table)
        return outcome_items(outcome, profile, params, table)


def _page_rows(body: Any, url: str) -> tuple[list[Any], int]:
    """CADT answers a bare list (one page) or `{"page", "pageCount", "data"}`."""
    if isinstance(body, list):
        return body, 1
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        count = body.get("pageCount", 1)
        if not isinstance(count, int) or count < 0:
            raise MalformedResponse("'pageCount' must be a non-negative integer", url=url)
        return body["data"], count
    raise MalformedResponse("expected a list or an object with 'data'", url=url)
