"""Serving an ASGI app on loopback from a background thread (tests, embedding)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn


class BackgroundServer:
    """uvicorn on 127.0.0.1 (port 0: any free one) in a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host = host
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])),
            name="metareg-background-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.sock.getsockname()[1]}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if self.server.started:
                return self
            deadline.wait(0.02)
        raise RuntimeError("the server did not start in time")

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)
        self.sock.close()
