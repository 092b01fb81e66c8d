"""Table cells as canonical values: the one reading of an integer, a number and a list
written as text, shared by the canonical CSV files and the connectors' tables.

A cell that does not read as what its field expects is returned as the text itself,
so validation refuses the record naming the field, instead of the reader guessing.
"""

from __future__ import annotations

LIST_SEPARATOR = ";"


def cell_integer(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else text


def cell_number(text: str, *, grouping: str = "") -> int | float | str:
    """An integer or a decimal number; `grouping` is a thousands separator dropped
    before a decimal number is read (the AEF workbooks write "1,000.5")."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text.replace(grouping, "") if grouping else text)
        except ValueError:
            return text


def cell_list(text: str) -> list[str]:
    """The items of a ';'-separated list, trimmed, empty items left out."""
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
