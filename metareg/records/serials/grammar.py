"""The grammar every programme's serial parser is written in.

A programme parser states its shapes as regular expressions and a sentence naming the
expected shape; `Grammar` does the rest the same way for all of them: claim a serial by
its start, clean and upper-case it, match it whole or refuse it naming the shape, read
the block numbers, and check a prefix before writing a block back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from metareg.records.serials._base import (
    SerialError,
    UnitRange,
    ascii_upper,
    clean,
    make_range,
    require_prefix,
)


@dataclass(frozen=True)
class Grammar:
    """One programme's serials. `serial` names its block numbers `first` and (when a
    single unit may stand alone, optionally) `last`, and its batch prefix `prefix`."""

    name: str
    claim: re.Pattern[str]  # matched at the start: the serials this programme claims
    serial: re.Pattern[str]  # a whole serial (or one end of a block)
    shape: str  # the expected shape, said when a claimed serial does not match
    prefix: re.Pattern[str] | None = None  # a prefix this programme can write back
    written: str = ""  # how a block is written: "{prefix}", "{first}", "{last}" filled in

    def claims(self, text: str) -> bool:
        return self.claim.match(text) is not None

    def text(self, serial: object) -> str:
        """The serial trimmed, whitespace collapsed and upper-cased (serials are ASCII)."""
        return ascii_upper(clean(serial, self.name), self.name)

    def fullmatch(self, text: str, piece: str | None = None) -> re.Match[str]:
        """`piece` (default: the whole `text`) matched whole, or the error naming the shape."""
        found = self.serial.fullmatch(text if piece is None else piece)
        if found is None:
            raise SerialError(self.name, text, f"expected {self.shape}")
        return found

    def block(self, text: str, match: re.Match[str], prefix: str | None = None) -> UnitRange:
        """The block `match` reads: `first` to `last` (one unit when `last` is absent),
        under `prefix` (default: the match's `prefix` group)."""
        first = match["first"]
        last = match.groupdict().get("last") or first
        return make_range(self.name, text, prefix or match["prefix"], first, last)

    def parse(self, serial: object) -> UnitRange:
        text = self.text(serial)
        return self.block(text, self.fullmatch(text))

    def format(self, unit_range: UnitRange) -> str:
        """The block written as the programme writes it (`written`)."""
        self.prefix_parts(unit_range)
        return self.written.format(
            prefix=unit_range.prefix, first=unit_range.first, last=unit_range.last
        )

    def prefix_parts(self, unit_range: UnitRange) -> list[str]:
        """The range's prefix split on '-', once it is checked to have this shape."""
        assert self.prefix is not None, f"{self.name} writes no prefix of its own"
        return require_prefix(self.name, unit_range, self.prefix)


def split_ends(fmt: str, text: str, separator: re.Pattern[str]) -> tuple[str, str | None]:
    """A block written as two ends around `separator`: (start, end), or (serial, None)
    when there is no separator."""
    pieces = separator.split(text)
    if len(pieces) == 1:
        return pieces[0], None
    if len(pieces) != 2:
        raise SerialError(fmt, text, "more than one range separator")
    return pieces[0], pieces[1]
