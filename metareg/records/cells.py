"""Table cells as canonical values: the one reading of an integer, a number and a list
written as text, shared by the canonical CSV files and the connectors' tables.

A cell that does not read as what its field expects is returned as the text itself,
so validation refuses the record naming the field, instead of the reader guessing.
"""

from __future__ import annotations

import re

LIST_SEPARATOR = ";"

# A plain ASCII integer, optionally written with a zero fraction as spreadsheets export
# whole numbers ("12.0"). Python's int() also takes "1_000", full-width and other Unicode
# digits; float() rounds past 2**53. Neither is used: the digits are read as written.
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_PLAIN_INTEGER = re.compile(r"[+-]?([0-9]+)(?:\.0+)?", re.ASCII)


def cell_integer(text: str) -> int | str:
    """The integer a cell writes in plain ASCII digits (a sign, digits, and optionally a
    fraction of zeros only: "12.0" reads 12, exactly, never through a float). Anything
    else ("1_000", full-width digits, "1e3", "12.5", "１２") is returned as text, so the
    schema refuses the record naming the field."""
    found = _PLAIN_INTEGER.fullmatch(text)
    if found is None:
        return text
    digits = text[: found.start(1)] + found.group(1)
    return int(digits)


def cell_number(text: str, *, grouping: str = "") -> int | float | str:
    """An integer or a decimal number; `grouping` is a thousands separator dropped
    before a decimal number is read (the AEF workbooks write "1,000.5")."""
    whole = cell_integer(text)
    if isinstance(whole, int):
        return whole
    plain = text.replace(grouping, "") if grouping else text
    if _PLAIN_DECIMAL.fullmatch(plain) is None:
        return text
    return float(plain)


def cell_list(text: str) -> list[str]:
    """The items of a ';'-separated list, trimmed, empty items left out."""
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
