"""The two kinds of mapping error: a profile that is wrong (found when it is loaded, before
any record is touched) and a row the profile cannot map (found when it is evaluated: the
row is quarantined with the rule that failed, nothing else is lost)."""

from __future__ import annotations


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and line."""


class RowError(ValueError):
    """One row the profile cannot map: which rule (`derived.host`, with its profile line)
    and why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(rule, message)
        self.rule = rule
        self.message = message

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class SourceError(ValueError):
    """The input as a whole cannot be read with the profile (not a CSV, no such sheet, a
    columnar array of the wrong length): nothing of it is loaded."""
