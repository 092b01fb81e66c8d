"""A sync that stops inside a multi-page transaction, for the kill test:
`python -m tests.sync.sync_midgroup DB URL ID PAGE`.

Pages are committed three at a time (groups of 15 items, pages of 5). After applying
page PAGE (not the last of its group) it prints "mid-group" and sleeps, with the
transaction open, so the test's SIGKILL lands between two pages of one transaction.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from metareg import log
from metareg.db.engine import make_engine
from metareg.sync import engine as sync_engine
from metareg.sync.engine import SyncEngine
from metareg.sync.prefetch import PagePrefetcher
from tests.sync.feeds import exchange_registry

PAGE_SIZE = 5
GROUP_ITEMS = 15  # three pages a transaction


def main() -> int:
    log.configure()
    db_url, base_url, registry_id, stop_after = sys.argv[1:5]
    sync_engine.GROUP_ITEMS = GROUP_ITEMS
    # Always take the next page into the open group (as if it had already arrived).
    PagePrefetcher.ready = lambda self: True  # type: ignore[method-assign]
    applied = 0
    apply_page = SyncEngine._apply_page

    def pausing(self: SyncEngine, *args: Any) -> Any:
        nonlocal applied
        counts = apply_page(self, *args)
        applied += 1
        if applied == int(stop_after):
            print("mid-group", flush=True)
            time.sleep(120)
        return counts

    SyncEngine._apply_page = pausing  # type: ignore[method-assign]
    engine = make_engine(db_url)
    registry = exchange_registry(registry_id, base_url, page_size=PAGE_SIZE)
    print("ready", flush=True)
    result = SyncEngine(engine).sync(registry)
    print("ok" if result.ok else f"failed: {result.error}", flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
