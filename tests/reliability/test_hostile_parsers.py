"""Property: the file readers take any bytes and fail only with their documented error.

(The identifier grammar and the serial parsers have their own properties, round trip and
"only the documented error", in tests/test_identifiers.py and tests/test_serials.py.)
"""

from __future__ import annotations

import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metareg.connectors.aef.columns import ACTIONS
from metareg.connectors.aef.reader import AefReadError, read_aef

LABELS = ",".join(ACTIONS.labels()).encode()


def _only_documented_error(content: bytes, name: str) -> None:
    try:
        rows = read_aef(content, name)
    except AefReadError as error:
        assert str(error)
        return
    for row in rows:  # a row is either a record or an unreadable row with reasons
        assert (row.record is None) == bool(row.problems), row


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2000), name=st.sampled_from(["a.csv", "a.xlsx", "a"]))
def test_arbitrary_bytes(body: bytes, name: str) -> None:
    _only_documented_error(body, name)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.text(max_size=40).map(lambda t: t.replace('"', "")), max_size=40),
        max_size=8,
    )
)
def test_arbitrary_rows_under_a_real_header(rows: list[list[str]]) -> None:
    lines = [LABELS] + [",".join(f'"{cell}"' for cell in row).encode() for row in rows]
    _only_documented_error(b"\n".join(lines), "a.csv")


@settings(max_examples=60, deadline=None)
@given(
    members=st.dictionaries(
        st.sampled_from(
            [
                "[Content_Types].xml",
                "xl/workbook.xml",
                "xl/worksheets/sheet1.xml",
                "xl/_rels/workbook.xml.rels",
                "_rels/.rels",
                "xl/sharedStrings.xml",
            ]
        ),
        st.binary(max_size=300),
    )
)
def test_arbitrary_zip_members_named_xlsx(members: dict[str, bytes]) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _only_documented_error(out.getvalue(), "a.xlsx")
