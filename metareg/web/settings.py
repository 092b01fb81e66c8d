"""Settings of the API process (defaults suit a single-node deployment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from metareg.settings import config_dir


@dataclass(frozen=True)
class ApiSettings:
    config: Path = field(default_factory=lambda: config_dir())  # registries.toml lives here
    public_requests_per_minute: int = 120  # 0 = no limit
    public_burst: int | None = None  # default: one minute's worth
    # Addresses (or networks) of the reverse proxies whose X-Forwarded-For/-Proto are
    # believed; none by default, so the rate limit keys on the connecting address.
    trusted_proxies: tuple[str, ...] = ()
    feed_poll_seconds: float = 2.0  # how often the server-sent-event stream looks for news
    feed_heartbeat_seconds: float = 15.0  # an idle stream's keep-alive comment
    base_url: str = "http://localhost:8000"  # for absolute links in the Atom feed
    max_page_size: int = 500
    # How long a request waits for a database connection before a 503 (fail fast).
    overload_wait_seconds: float = 1.0
    # Whether the hottest reads (`GET /v1/itmos/{id}`, the authorization check) run on
    # the event loop when a read slot is free, instead of hopping to a worker thread and
    # back: their statements take well under a millisecond on SQLite, less than the hop.
    # None: on SQLite only (a PostgreSQL round trip is better waited for in a thread).
    inline_reads: bool | None = None
