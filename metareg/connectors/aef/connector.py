"""AEF connector: a Party's Agreed Electronic Format tables 2-4, as an XLSX workbook in the
template layout or as CSV, from a path or URL (see `metareg.connectors.aef.reader`)."""

from __future__ import annotations

from metareg.connectors.aef.columns import AefContext
from metareg.connectors.aef.reader import AefReadError, read_aef
from metareg.connectors.base import Item
from metareg.connectors.errors import MalformedResponse
from metareg.connectors.files import FileSnapshotConnector
from metareg.records.canonical import dumps


class AefConnector(FileSnapshotConnector):
    kind = "aef"

    def items(self, content: bytes, name: str) -> list[Item]:
        year = self.config.option("reported_year")
        context = AefContext(self.config.party_id, int(year) if year else None)
        try:
            rows = read_aef(content, name, context)
        except AefReadError as error:
            raise MalformedResponse(str(error), url=name) from error
        return [
            Item(
                row.record if row.record is not None else row.cells,
                dumps({k: _text(v) for k, v in row.cells.items()}),
                row.location,
                row.problems,
            )
            for row in rows
        ]


def _text(value: object) -> object:
    return value if isinstance(value, str | int | float | type(None)) else str(value)
