"""The planted ground truth: writing it, reading it, and scoring alerts against it.

The file is JSON: the scenario, its seed, the date to check "as of" (the world's end)
and, per planted conflict, its rule, the registry it was planted in, the day it appears
and the evidence identities (registry, record_type, record_id) its alert must carry.

An alert matches a planted conflict when it has the same rule and carries every one of
its evidence identities (an alert may add the authorization a record names). Precision
is the share of double-counting alerts that match a planted conflict; recall the share
of planted conflicts some alert matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from metareg.simulator.world import World

RULE_PREFIX = "DC"


def truth_document(world: World) -> dict[str, Any]:
    scenario = world.scenario
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "as_of": scenario.end.isoformat(),
        "grace_days": scenario.grace_days,
        "conflicts": [
            {
                "rule": c.rule,
                "registry": c.registry,
                "day": c.day.isoformat(),
                "evidence": [e.as_dict() for e in c.evidence],
            }
            for c in world.conflicts
        ],
    }


def write_truth(world: World, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(truth_document(world), option=orjson.OPT_INDENT_2) + b"\n")


def read_truth(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(path.read_bytes())
    return document


@dataclass
class Score:
    matched: list[tuple[dict[str, Any], dict[str, Any]]]  # (planted, alert)
    missed: list[dict[str, Any]]  # planted conflicts no alert carries
    unexpected: list[dict[str, Any]]  # alerts matching no planted conflict

    @property
    def precision(self) -> float:
        found = len(self.matched) + len(self.unexpected)
        return len(self.matched) / found if found else 1.0

    @property
    def recall(self) -> float:
        planted = len(self.matched) + len(self.missed)
        return len(self.matched) / planted if planted else 1.0

    def report(self) -> str:
        lines = [f"precision {self.precision:.3f}, recall {self.recall:.3f}"]
        lines += [f"missed {c['rule']}: {c['evidence']}" for c in self.missed]
        lines += [
            f"unexpected {a['rule']}: {a.get('evidence')} {a.get('message', '')}"
            for a in self.unexpected
        ]
        return "\n".join(lines)


def _identities(evidence: Iterable[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(e["registry"], e["record_type"], str(e["record_id"])) for e in evidence}


def score(conflicts: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> Score:
    """Match alerts (RULES.md alert objects; only DC rules count) to planted conflicts,
    one to one."""
    pool = [a for a in alerts if str(a.get("rule", "")).startswith(RULE_PREFIX)]
    used: set[int] = set()
    matched, missed = [], []
    for conflict in conflicts:
        wanted = _identities(conflict["evidence"])
        found = next(
            (
                n
                for n, alert in enumerate(pool)
                if n not in used
                and alert["rule"] == conflict["rule"]
                and wanted <= _identities(alert.get("evidence", []))
            ),
            None,
        )
        if found is None:
            missed.append(conflict)
        else:
            used.add(found)
            matched.append((conflict, pool[found]))
    unexpected = [alert for n, alert in enumerate(pool) if n not in used]
    return Score(matched, missed, unexpected)
