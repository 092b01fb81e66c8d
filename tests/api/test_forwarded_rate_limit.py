"""The public rate limit cannot be dodged: a caller who sends its own X-Forwarded-For
(a new address per request) stays in its one bucket unless it connects through a
configured proxy, and a flood of new addresses forgets the least recently seen callers,
never every bucket at once.

The server is the real one (`metareg.web.serving.uvicorn_config`, what `metareg serve`,
`metareg run --api` and `metareg demo` start) on loopback: uvicorn's own default believes
forwarded headers from 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import Engine

from metareg.web.api.ratelimit import RateLimiter
from metareg.web.app import create_app
from metareg.web.serving import uvicorn_config
from metareg.web.settings import ApiSettings


@contextmanager
def served(engine: Engine, settings: ApiSettings) -> Iterator[str]:
    app = create_app(engine, settings=settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn_config(app, settings, log_level="warning", access_log=False))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    started = threading.Event()
    while not server.started and thread.is_alive():
        started.wait(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _statuses(url: str, count: int) -> list[int]:
    with httpx.Client(base_url=url) as client:
        return [
            client.get("/v1/stats", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(count)
        ]


def test_a_forged_forwarded_for_does_not_reset_the_public_limit(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = ApiSettings(config=tmp_path, public_requests_per_minute=3, public_burst=3)
    with served(sqlite_engine, settings) as url:
        assert _statuses(url, 6) == [200, 200, 200, 429, 429, 429]


def test_behind_a_configured_proxy_each_forwarded_client_has_its_own_bucket(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = ApiSettings(
        config=tmp_path,
        public_requests_per_minute=3,
        public_burst=3,
        trusted_proxies=("127.0.0.1",),
    )
    with served(sqlite_engine, settings) as url:
        assert _statuses(url, 6) == [200] * 6
        with httpx.Client(base_url=url) as client:
            same = {"X-Forwarded-For": "203.0.113.9"}
            assert [client.get("/v1/stats", headers=same).status_code for _ in range(4)] == [
                200,
                200,
                200,
                429,
            ]


def test_a_flood_of_new_addresses_evicts_the_least_recent_not_every_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=1, burst=1, clock=lambda: now[0])
    limiter.MAX_BUCKETS = 10
    for n in range(9):
        assert limiter.retry_after(f"old-{n}") is None
    now[0] = 120.0  # the old callers' buckets have long refilled
    assert limiter.retry_after("abuser") is None
    assert limiter.retry_after("abuser") is not None
    for n in range(50):  # a flood of new addresses
        limiter.retry_after(f"new-{n}")
        assert len(limiter) <= 10  # memory stays bounded
        assert limiter.retry_after("abuser") is not None  # and the abuser stays limited
