"""Serving a simulated world: each registry on its own loopback port, in one thread.

`SimulatorServer(world, clock).start()` binds one socket per registry (port 0: the
system picks; or consecutive ports from `base_port`), serves the exchange API of each
(behind its scenario faults) with uvicorn in one background event loop, and knows the
`[[registries]]` configuration that points a meta-registry at them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any

import uvicorn

from metareg.exchange.server import create_exchange_app
from metareg.registries import PARTY, PROGRAMME, RegistryConfig
from metareg.simulator.clock import SimClock
from metareg.simulator.faces import add_faces
from metareg.simulator.faults import FaultInjector, with_faults
from metareg.simulator.source import SimulatedRegistry
from metareg.simulator.world import World

LOOPBACK = "127.0.0.1"


class SimulatorServer:
    def __init__(
        self,
        world: World,
        clock: SimClock,
        host: str = LOOPBACK,
        base_port: int = 0,
        advertise: str | None = None,
    ) -> None:
        self.world = world
        self.clock = clock
        self.host = host
        # The host name a meta-registry reaches them by (a container's service name);
        # default: the address they listen on.
        self.advertise = advertise or host
        self.sources = {r: SimulatedRegistry(world, r, clock) for r in world.registry_ids}
        self.apps: dict[str, Any] = {}
        self.sockets: dict[str, socket.socket] = {}
        for number, registry in enumerate(world.registry_ids):
            app: Any = create_exchange_app(self.sources[registry])
            add_faces(app, world, registry, self.sources[registry])
            faults = [f for f in world.scenario.faults if f.registry == registry]
            self.apps[registry] = with_faults(app, faults, world.scenario.seed)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, base_port + number if base_port else 0))
            # Listening from here on: a client that connects before the servers accept
            # (`metareg simulate` has printed their URLs already) waits in the backlog
            # instead of being refused.
            sock.listen(socket.SOMAXCONN)
            self.sockets[registry] = sock
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # -- where they are ----------------------------------------------------------------

    def url(self, registry: str) -> str:
        port = self.sockets[registry].getsockname()[1]
        return f"http://{self.advertise}:{port}"

    @property
    def urls(self) -> dict[str, str]:
        return {r: self.url(r) for r in self.sockets}

    def fault_injector(self, registry: str) -> FaultInjector | None:
        app = self.apps[registry]
        return app if isinstance(app, FaultInjector) else None

    def registry_configs(self, interval_seconds: float | None = None) -> list[RegistryConfig]:
        """The meta-registry's view of the world: one exchange connector per registry."""
        configs = []
        scenario = self.world.scenario
        for spec in (*scenario.registries, *scenario.programmes):
            settings: dict[str, Any] = {
                "connector": {"type": "exchange", "url": self.url(spec.id)},
                "allow_private_network": True,
            }
            if interval_seconds:
                settings["schedule"] = {"interval_seconds": interval_seconds}
            kind = PROGRAMME if spec.programme else PARTY
            configs.append(RegistryConfig(spec.id, spec.name, spec.party, settings, (), kind))
        return configs

    def registries_toml(self, interval_seconds: float | None = None) -> str:
        """The same, as a `config/registries.toml` text (docs/connectors.md)."""
        lines = [
            "# Simulated registries of scenario "
            f"{self.world.scenario.name!r} (seed {self.world.scenario.seed})."
        ]
        for config in self.registry_configs(interval_seconds):
            table = "programmes" if config.kind == PROGRAMME else "registries"
            lines += ["", f"[[{table}]]", f'id = "{config.id}"', f'name = "{config.name}"']
            lines.append("allow_private_network = true")
            if interval_seconds:
                lines.append(f"schedule = {{ interval_seconds = {interval_seconds:g} }}")
            lines += [
                f"[{table}.connector]",
                'type = "exchange"',
                f'url = "{self.url(config.id)}"',
            ]
        return "\n".join(lines) + "\n"

    # -- serving -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> SimulatorServer:
        """Serve in a background thread; returns once every registry accepts connections."""
        self._thread = threading.Thread(target=self._run, name="metareg-simulator", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError("the simulated registries did not start in time")
        return self

    def _run(self) -> None:
        asyncio.run(self.serve())

    async def serve(self) -> None:
        """Serve every registry until `stop()` (or forever, in the foreground)."""
        for app in self.apps.values():
            config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
            server = uvicorn.Server(config)
            self._servers.append(server)
        tasks = [
            asyncio.create_task(server.serve(sockets=[self.sockets[registry]]))
            for server, registry in zip(self._servers, self.apps, strict=True)
        ]
        while not all(server.started for server in self._servers):
            if any(task.done() for task in tasks):
                break
            await asyncio.sleep(0.02)
        self._started.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self, timeout: float = 10.0) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        for sock in self.sockets.values():
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
