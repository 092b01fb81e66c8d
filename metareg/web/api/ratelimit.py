"""A token bucket per caller, for the public (keyless) role.

Public callers have no key, so the bucket is keyed by the client address (the socket
peer; forwarded headers count only from the proxies in `ApiSettings.trusted_proxies`,
see `metareg.web.serving`). The limiter is in-process: one API process serves a
deployment; several processes would each allow the rate (documented in docs,
acceptable for a courtesy limit). Memory is bounded: beyond `MAX_BUCKETS` callers the
least recently seen one is forgotten (its bucket has refilled unless a flood of other
addresses came within its refill time), never all of them at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`per_minute` requests a minute on average, bursts up to `burst`."""

    MAX_BUCKETS = 100_000  # beyond this, forget the least recently seen caller

    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(per_minute, 1))
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recent first
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float | None:
        """Take one token for `key`; None when allowed, else seconds until a token is back."""
        if self.rate <= 0:
            return None  # a rate of 0 means: no limit
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                while len(self._buckets) >= self.MAX_BUCKETS:
                    self._buckets.popitem(last=False)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            else:
                self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)
