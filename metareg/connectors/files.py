"""Connectors over whole-file exports (AEF workbooks, CSV/XLSX downloads).

The file is fetched from a path or URL and re-read only when its content changes: a URL
is asked with `If-None-Match` (its ETag) and a 304 means nothing to do; otherwise the
content's SHA-256 is compared with the one the cursor remembers. A changed file is a
complete listing: its records are yielded in pages (`records` scope, then each holdings
snapshot), so what the new file no longer lists is withdrawn. The cursor
`{"v": sha256, "etag": ..., "row": n}` lets a killed sync resume mid-file.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from metareg.connectors.base import SCOPE_RECORDS, Connector, Item, Page, holdings_scope
from metareg.connectors.errors import ConfigurationError, ConnectorError, ErrorClass

DONE = -1


@dataclass
class Fetch:
    content: bytes | None  # None: unchanged since the cursor's ETag
    name: str
    etag: str | None


class FileSnapshotConnector(Connector):
    """Subclasses implement `items(content, name)`: every record the file lists."""

    def location(self) -> str:
        where = self.config.option("url") or self.config.option("path")
        if not where:
            raise ConfigurationError(f"{self.config.registry_id}: set 'url' or 'path'")
        return str(where)

    def fetch(self, etag: str | None) -> Fetch:
        where = self.location()
        if "://" in where:
            headers = {"If-None-Match": etag} if etag else {}
            fetched = self.http.get(where, headers=headers, ok_statuses=frozenset({200, 304}))
            if fetched.status == 304:
                return Fetch(None, where, etag)
            return Fetch(fetched.content, where, fetched.headers.get("etag"))
        path = Path(where)
        try:
            size = path.stat().st_size
            if size > self.config.http.max_response_bytes:
                raise ConnectorError(
                    ErrorClass.TOO_LARGE,
                    f"{path} is {size} bytes (limit {self.config.http.max_response_bytes})",
                )
            return Fetch(path.read_bytes(), path.name, None)
        except OSError as error:
            raise ConfigurationError(f"cannot read {path}: {error}") from error

    @abstractmethod
    def items(self, content: bytes, name: str) -> list[Item]:
        """Every record (and unreadable row, with its problems) the file lists."""

    def pages(self, cursor: str | None) -> Iterator[Page]:
        state: dict[str, Any] = orjson.loads(cursor) if cursor else {}
        fetched = self.fetch(state.get("etag"))
        if fetched.content is None:
            return
        version = hashlib.sha256(fetched.content).hexdigest()
        start = 0
        if state.get("v") == version:
            if state.get("row") == DONE:
                return
            start = int(state.get("row", 0))
        sections = _sections(self.items(fetched.content, fetched.name))
        size = max(1, int(self.config.option("page_size", 500)))
        offset = 0
        for scope, items in sections:
            section_end = offset + len(items)
            if section_end < start or (section_end == start and items):
                offset = section_end
                continue
            first = max(start, offset)
            position = first
            while True:
                chunk = items[position - offset : position - offset + size]
                end = position + len(chunk)
                last_section = scope == sections[-1][0]
                row = DONE if (end == section_end and last_section) else end
                yield Page(
                    chunk,
                    orjson.dumps({"v": version, "etag": fetched.etag, "row": row}).decode(),
                    scope=scope,
                    pass_start=position == offset,
                    pass_end=end == section_end,
                )
                position = end
                if position >= section_end:
                    break
            offset = section_end


def _sections(items: list[Item]) -> list[tuple[str, list[Item]]]:
    """Records first (always, so an emptied file withdraws them), then each snapshot."""
    records: list[Item] = []
    holdings: dict[str, list[Item]] = {}
    for item in items:
        value = item.value if isinstance(item.value, dict) else {}
        if value.get("record_type") == "holding" and isinstance(value.get("as_of"), str):
            holdings.setdefault(value["as_of"], []).append(item)
        else:
            records.append(item)
    return [(SCOPE_RECORDS, records)] + [
        (holdings_scope(as_of), rows) for as_of, rows in sorted(holdings.items())
    ]
