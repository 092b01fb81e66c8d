"""Write N canonical action records as JSON Lines (a quick ingest load)."""

from __future__ import annotations

import json
import sys

n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    first = i * 1000 + 1
    out.write(json.dumps({
        "record_type": "action", "action_id": f"ISS-{i}", "action_date": "2024-02-01",
        "action_type": "Issuance", "cooperative_approach_id": f"CA{i % 20:04d}",
        "party_registry_id": "IDN01", "first_transferring_party_id": "IDN",
        "first_id": first, "last_id": first + 999, "vintage": 2023,
    }) + "\n")
