"""Servers a figure runs in a child process on loopback, so load is real HTTP.

`python -m bench.serve api URL PORT`: the oversight API (`create_app`) over the index,
in `API_WORKERS` uvicorn processes (env `METAREG_BENCH_API_WORKERS` overrides).
`python -m bench.serve exchange MANIFEST PORT`: every registry of a generated world as
the reference exchange registry (`InMemoryFeedSource`), mounted at /<registry id>.
Both run in a child of a target (its revision of metareg, see bench.harness.Target).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.adapter import Missing, locate
from bench.harness import Target, quiet_logs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(
    target: Target, kind: str, argument: str, ready_path: str, timeout: float = 600.0
) -> Iterator[str]:
    """Start a server child of `target`, wait until `ready_path` answers, yield its
    base URL."""
    port = free_port()
    process = subprocess.Popen(
        [target.python, "-m", "bench.serve", kind, argument, str(port)],
        cwd=target.root,
        env=target.env(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bench {kind} server exited with {process.returncode}")
            try:
                if httpx.get(base + ready_path, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench {kind} server not ready after {timeout:g} s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# One process by default. Two (`METAREG_BENCH_API_WORKERS=2`) let a second request's
# Python run while one holds the GIL, but on this 2-core machine they also compete with
# the load generator for the cores: measured on 100k blocks under load, one worker gave
# 393-460 req/s (4 callers) and two 286-348, at more CPU per request. Worth trying again
# on a quiet machine; SQLite in WAL mode lets both read the same file at once.
API_WORKERS = 1


def _api_app(url: str) -> Any:
    return locate("create_app")(locate("make_engine")(url))


def _api_options(options: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's options as `metareg serve` sets them (its HTTP protocol) where the
    target has them."""
    try:
        return {**options, "http": locate("http_protocol")()}
    except Missing:
        return options


def _listening_socket(port: int) -> socket.socket:
    """One listening socket for every worker. Made here, not by uvicorn's `workers=`:
    uvicorn opens it without `IPPROTO_TCP`, so asyncio leaves Nagle on for accepted
    connections, and every answer waited ~40 ms for a delayed ACK (measured: 77 req/s
    with 2 workers against 228 with 1)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


def _serve_api(url: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """`workers` processes accepting on one socket; the children end with the parent."""
    import signal

    import uvicorn

    sock = _listening_socket(port)
    children = []
    for _ in range(workers - 1):
        pid = os.fork()  # before any database connection: each process opens its own
        if pid == 0:
            if sys.platform.startswith("linux"):
                import ctypes

                ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            break
        children.append(pid)
    server = uvicorn.Server(uvicorn.Config(_api_app(url), **_api_options(options)))
    try:
        server.run(sockets=[sock])
    finally:
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        for pid in children:
            os.waitpid(pid, 0)


def _exchange_app(manifest_path: str) -> Any:
    import orjson
    from fastapi import FastAPI

    feed_source, create_exchange_app = locate("feed_source"), locate("exchange_app")
    manifest = orjson.loads(Path(manifest_path).read_bytes())
    app = FastAPI()
    for registry, path in manifest["files"].items():
        source = feed_source(registry)
        snapshots: dict[str, list[dict[str, Any]]] = {}
        with open(path, "rb") as stream:
            for line in stream:
                record = orjson.loads(line)
                if record["record_type"] == "holding":
                    snapshots.setdefault(record["as_of"], []).append(record)
                else:
                    source.upsert(record)
        for as_of, rows in snapshots.items():
            source.set_holdings(as_of, rows)
        app.mount(f"/{registry}", create_exchange_app(source))

    @app.get("/ready")
    def ready() -> dict[str, bool]:
        return {"ready": True}

    return app


def main(argv: list[str]) -> None:
    import uvicorn

    kind, target, port = argv[:3]
    quiet_logs()
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": int(port),
        "log_level": "warning",
        "access_log": False,
    }
    workers = int(os.environ.get("METAREG_BENCH_API_WORKERS", API_WORKERS))
    if kind == "api" and workers > 1:
        _serve_api(target, int(port), workers, {"log_level": "warning", "access_log": False})
        return
    if kind == "api":
        uvicorn.run(_api_app(target), **_api_options(options))
    else:
        uvicorn.run(_exchange_app(target), **options)


if __name__ == "__main__":
    main(sys.argv[1:])
