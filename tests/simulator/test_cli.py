"""The commands as a person types them: `metareg simulate` and `metareg demo`, as real
processes, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import orjson
import pytest

from metareg.simulator.scenario import load_scenario

METAREG = str(Path(sys.executable).parent / "metareg")
ROOT = Path(__file__).resolve().parents[2]


def _start(*args: str, cwd: Path = ROOT) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [METAREG, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        start_new_session=True,  # its own process group, as a terminal would give it
    )


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float = 60) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never printed; got:\n" + "\n".join(lines))


def _interrupt(process: subprocess.Popen[str]) -> int:
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("Ctrl-C did not stop it within 20 s") from None


def test_simulate_serves_writes_truth_and_config_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    truth, registries = tmp_path / "truth.json", tmp_path / "registries.toml"
    process = _start(
        "simulate",
        "--scenario",
        "config/scenarios/all-rules.toml",
        "--at",
        "2025-03-31",
        "--truth",
        str(truth),
        "--registries-out",
        str(registries),
    )
    try:
        _read_until(process, "Ctrl-C stops")
        planted = orjson.loads(truth.read_bytes())
        injected = load_scenario(Path("config/scenarios/all-rules.toml")).injections
        assert planted["as_of"] == "2025-03-31"
        assert len(planted["conflicts"]) == sum(i.count for i in injected) > 0
        for entry in tomllib.loads(registries.read_text())["registries"]:
            info = httpx.get(entry["connector"]["url"] + "/exchange/v1/info").json()
            assert info["registry_id"] == entry["id"]
            assert info["simulated_date"] == "2025-03-31"
    finally:
        assert _interrupt(process) in (0, 130)


def test_simulate_refuses_a_bad_scenario_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[world]\nstart = 2024-01-01\nend = 2023-01-01\n")
    result = subprocess.run(
        [METAREG, "simulate", "--scenario", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2
    assert "end must be after start" in result.stderr


@pytest.mark.slow
def test_demo_shows_alerts_within_a_minute_and_stops_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    process = _start("demo", "--dir", str(folder), "--port", "0")
    try:
        lines = _read_until(process, "Ctrl-C stops everything")
        text = "\n".join(lines)
        url = next(line.split()[-1] for line in lines if "dashboard:" in line)
        oversight = next(line.split()[-1] for line in lines if "oversight API key" in line)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/dashboard")
        assert "admin API key" in text
        api = url.removesuffix("/dashboard")
        deadline = time.monotonic() + 60
        alerts: list[dict] = []  # type: ignore[type-arg]
        while time.monotonic() < deadline and not alerts:
            time.sleep(1)
            answer = httpx.get(f"{api}/v1/alerts", headers={"X-API-Key": oversight})
            if answer.status_code == 200:
                alerts = answer.json()["items"]
        assert alerts, "no alert within a minute"
        planted = orjson.loads((folder / "planted-truth.json").read_bytes())
        assert {a["rule"] for a in alerts} <= {c["rule"] for c in planted["conflicts"]}
        login = httpx.get(url, follow_redirects=False)
        assert login.status_code == 303 and "/dashboard/login" in login.headers["location"]
        page = httpx.get(url, cookies={"metareg_key": oversight})
        assert page.status_code == 200 and "Registry health" in page.text
    finally:
        code = _interrupt(process)
    assert code in (0, 130)
    assert (folder / "metareg.db").exists()
