"""`metareg run` applies config/webhooks.toml and delivers alert events on its schedule."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from metareg.alerts.operational import raise_operational
from metareg.alerts.webhooks.delivery import verify_signature
from metareg.db.engine import make_engine
from tests.alerts.test_webhooks import SECRET, Receiver


def test_run_delivers_configured_webhooks(db_url: str, tmp_path: Path) -> None:
    receiver = Receiver(failures=0)
    try:
        (tmp_path / "registries.toml").write_text('[[registries]]\nid = "JPN01"\n')
        (tmp_path / "webhooks.toml").write_text(
            f'[[webhooks]]\nname = "oversight"\nurl = "{receiver.url}"\n'
            'secret_env = "HOOK_SECRET"\nallow_private = true\n'
        )
        env = {**os.environ, "HOOK_SECRET": SECRET}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "metareg.cli",
                "--db",
                db_url,
                "--config",
                str(tmp_path),
                "run",
                "--webhook-seconds",
                "0.5",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            assert process.stdout is not None
            started = process.stdout.readline() + process.stdout.readline()
            assert b"worker" in started, started
            # A subscription receives the events raised after it exists.
            engine = make_engine(db_url)
            with engine.begin() as connection:
                raise_operational(connection, "SY01", "JPN01", "no successful sync for 3 hours")
            engine.dispose()
            deadline = time.monotonic() + 30
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=30)[0].decode()
        assert process.returncode == 0, output
        assert receiver.requests, output
        request = receiver.requests[0]
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert verify_signature(SECRET, request["body"], headers["x-metareg-signature"])
        assert b'"rule":"SY01"' in request["body"].replace(b" ", b"")
    finally:
        receiver.close()
