"""compose.yaml's services, run as the compose file runs them but as local processes
(this machine cannot build images): the same commands, environment and start order,
with the container paths, addresses and ports mapped to a temporary folder and free
loopback ports, against the test's database. `migrate` upgrades the schema, the
`simulator` writes the registries.toml its healthcheck waits for, the `worker` syncs
the demo world and opens alerts, and the `api` passes its healthcheck and lists the
registries."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
DEADLINE = 180.0  # seconds for a service to reach what the next one waits for


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Compose:
    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
        self.services: dict[str, Any] = self.document["services"]
        self.config = tmp_path / "config"
        self.db_url = db_url
        self.api_port = _free_port()
        self.cwd = tmp_path
        self.running: list[subprocess.Popen[str]] = []

    def _mapped(self, value: str) -> str:
        """A container's word as this machine says it."""
        value = value.replace("/config", str(self.config))
        value = value.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{self.api_port}")
        return {
            "0.0.0.0": "127.0.0.1",
            "simulator": "127.0.0.1",
            "9100": "0",  # any free ports
            "8000": str(self.api_port),
        }.get(value, value)

    def env(self, name: str) -> dict[str, str]:
        declared = {k: str(v) for k, v in (self.services[name].get("environment") or {}).items()}
        assert declared["METAREG_DATABASE_URL"].startswith("postgresql://")
        declared["METAREG_DATABASE_URL"] = self.db_url
        declared["METAREG_CONFIG_DIR"] = self._mapped(declared["METAREG_CONFIG_DIR"])
        base = {k: v for k, v in os.environ.items() if not k.startswith("METAREG_")}
        return {**base, **declared}

    def argv(self, name: str) -> list[str]:
        command = [self._mapped(str(word)) for word in self.services[name]["command"]]
        return [sys.executable, "-m", "metareg.cli", *command]

    def run(self, name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(name),
            env=self.env(name),
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )

    def start(self, name: str) -> subprocess.Popen[str]:
        log = (self.cwd / f"{name}.log").open("w")
        process = subprocess.Popen(
            self.argv(name), env=self.env(name), cwd=self.cwd, stdout=log, stderr=log, text=True
        )
        self.running.append(process)
        return process

    def healthy(self, name: str) -> bool:
        test = self.services[name]["healthcheck"]["test"]
        assert test[0] == "CMD"
        argv = [self._mapped(str(word)) for word in test[1:]]
        if argv[0] == "python":
            argv[0] = sys.executable
        return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0

    def wait_until(self, what: str, ready: Any) -> None:
        deadline = time.monotonic() + DEADLINE
        while not ready():
            for process in self.running:
                assert process.poll() is None, f"{process.args} exited while waiting for {what}"
            assert time.monotonic() < deadline, f"{what} not reached in {DEADLINE:.0f} s"
            time.sleep(0.5)

    def stop(self) -> None:
        for process in self.running:
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def compose(tmp_path: Path, db_url: str) -> Iterator[Compose]:
    running = Compose(tmp_path, db_url)
    yield running
    running.stop()


def _cli(compose: Compose, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "metareg.cli", *args, "--format", "json"],
        env=compose.env("worker"),
        cwd=compose.cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compose_services_bring_up_the_demo_world(compose: Compose) -> None:
    services = compose.services
    assert services["worker"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "simulator": {"condition": "service_healthy"},
    }
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["db"]["image"].startswith("postgres:")

    migrated = compose.run("migrate")
    assert migrated.returncode == 0, migrated.stderr

    compose.start("simulator")
    compose.wait_until("the simulator's healthcheck", lambda: compose.healthy("simulator"))
    configured = (compose.config / "registries.toml").read_text()
    assert configured.count("[[registries]]") >= 5 and "http://127.0.0.1:" in configured

    compose.start("worker")

    def synced_and_alerting() -> bool:
        registries = _cli(compose, "status")
        alerts = _cli(compose, "alerts", "--status", "open")
        return (
            bool(registries)
            and all(r["health"] == "ok" and r["connector"] == "exchange" for r in registries)
            and any(a["rule"].startswith("DC") for a in alerts)
        )

    compose.wait_until("every registry synced and an alert open", synced_and_alerting)

    compose.start("api")
    compose.wait_until("the api's healthcheck", lambda: compose.healthy("api"))
    import httpx

    listed = httpx.get(f"http://127.0.0.1:{compose.api_port}/v1/registries", timeout=10).json()
    assert {r["id"] for r in listed} >= {r["id"] for r in _cli(compose, "status")}
    assert httpx.get(f"http://127.0.0.1:{compose.api_port}/docs", timeout=10).status_code == 200
