"""Servers a figure runs in a child process on loopback, so load is real HTTP.

`python -m bench.serve api URL PORT`: the oversight API (`create_app`) over the index.
`python -m bench.serve exchange MANIFEST PORT`: every registry of a generated world as
the reference exchange registry (`InMemoryFeedSource`), mounted at /<registry id>.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(kind: str, target: str, ready_path: str, timeout: float = 600.0) -> Iterator[str]:
    """Start a server child, wait until `ready_path` answers, yield its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", kind, target, str(port)],
        cwd=Path(__file__).resolve().parents[1],
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


def _api_app(url: str) -> Any:
    from metareg.api.app import create_app
    from metareg.db.engine import make_engine

    return create_app(make_engine(url))


def _exchange_app(manifest_path: str) -> Any:
    import orjson
    from fastapi import FastAPI

    from metareg.exchange.memory import InMemoryFeedSource
    from metareg.exchange.server import create_exchange_app

    manifest = orjson.loads(Path(manifest_path).read_bytes())
    app = FastAPI()
    for registry, path in manifest["files"].items():
        source = InMemoryFeedSource(registry)
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
    app = _api_app(target) if kind == "api" else _exchange_app(target)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
