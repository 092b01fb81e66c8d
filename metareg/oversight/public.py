"""What anyone may read without a key: the aggregates the Parties' registries publish
(units by first transferring Party, cooperative approach and vintage, by state) and
how many alerts are open per rule and severity. The same figures as the API's public
routes (`/v1/stats`, `/v1/alerts/counts`): no account, record or alert ids, no
evidence, no messages, no sync errors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from metareg.findings import CATALOGUE
from metareg.oversight.alerts import count_alerts
from metareg.oversight.totals import index_totals

# The only parts of the totals that leave for the public, by name.
PUBLIC_TOTALS = (
    "by_state",
    "by_party",
    "by_cooperative_approach",
    "by_vintage",
    "by_party_vintage",
)


def public_summary(connection: Connection) -> dict[str, Any]:
    totals = index_totals(connection)
    counts = count_alerts(connection, status="open")
    by_rule = {
        rule: statuses.get("open", 0) for rule, statuses in sorted(counts["by_rule"].items())
    }
    return {
        **{name: totals.get(name, []) for name in PUBLIC_TOTALS},
        "open_alerts_by_rule": by_rule,
        # Each rule's severity is RULES.md's, public as the rule itself.
        "rule_severity": {
            rule: CATALOGUE[rule].severity if rule in CATALOGUE else "" for rule in by_rule
        },
        "open_alerts_by_severity": dict(counts["by_severity"]),
        "open_alerts": int(counts["total"]),
    }
