"""Simulated time: which day of the world the registries have reached.

Served live, the world is visible up to the scenario's clock start at once, then moves
`days_per_second` simulated days per wall-clock second, stopping at the world's end. A
frozen clock (tests, `--at`) always answers the same day, so a served world is exactly
reproducible.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta


class SimClock:
    def __init__(
        self,
        start: date,
        end: date,
        days_per_second: float = 1.0,
        frozen: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.start = start
        self.end = end
        self.days_per_second = days_per_second
        self.frozen = frozen
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._held = start

    def live_today(self) -> date:
        """Where the running clock is, even while a frozen view holds a day."""
        elapsed_days = int((self._monotonic() - self._t0) * self.days_per_second)
        return min(self.end, self.start + timedelta(days=elapsed_days))

    def hold(self, day: date) -> None:
        """Freeze the view at `day` (the demo steps the world one sync round at a time,
        so every registry of a round shows the same day)."""
        self.frozen = True
        self._held = min(self.end, day)

    @classmethod
    def frozen_at(cls, day: date) -> SimClock:
        return cls(day, day, frozen=True)

    def today(self) -> date:
        if self.frozen:
            return self._held
        return self.live_today()

    def finished(self) -> bool:
        return self.today() >= self.end
