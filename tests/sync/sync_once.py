"""A sync in its own process, for the kill test: `python -m tests.sync.sync_once DB URL ID`.

Prints "ready" once imported and connected, so the test can time its SIGKILL to land
inside the sync rather than in the interpreter's start-up.
"""

from __future__ import annotations

import sys

from metareg import log
from metareg.db.engine import make_engine
from metareg.sync.engine import sync_registry
from tests.sync.feeds import exchange_registry


def main() -> int:
    log.configure()  # logs to stderr; stdout carries only the protocol lines
    db_url, base_url, registry_id = sys.argv[1:4]
    engine = make_engine(db_url)
    with engine.connect():
        pass
    registry = exchange_registry(registry_id, base_url, page_size=5)
    print("ready", flush=True)
    result = sync_registry(engine, registry)
    print("ok" if result.ok else f"failed: {result.error}", flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
