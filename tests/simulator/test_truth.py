"""Scoring alerts against the planted truth: it must be able to say no."""

from __future__ import annotations

from metareg.simulator.truth import score

USE_A = {"registry": "JPN01", "record_type": "action", "record_id": "USE-1"}
USE_B = {"registry": "JPN01", "record_type": "action", "record_id": "USE-2"}
AUTH = {"registry": "IDN01", "record_type": "authorization", "record_id": "A-1#v1"}
PLANTED = [{"rule": "DC05", "evidence": [USE_A, USE_B]}, {"rule": "DC07", "evidence": [USE_A]}]


def test_exact_alerts_score_one_and_may_add_the_authorization() -> None:
    alerts = [
        {"rule": "DC05", "evidence": [USE_B, USE_A]},
        {"rule": "DC07", "evidence": [USE_A, AUTH]},
        {"rule": "SY01", "evidence": []},  # operational alerts are not scored
    ]
    result = score(PLANTED, alerts)
    assert (result.precision, result.recall) == (1.0, 1.0)


def test_missing_extra_and_wrong_rule_alerts_are_counted() -> None:
    alerts = [
        {"rule": "DC05", "evidence": [USE_A]},  # lacks one record: no match
        {"rule": "DC06", "evidence": [USE_A, USE_B]},  # wrong rule
        {"rule": "DC07", "evidence": [USE_A]},
        {"rule": "DC07", "evidence": [USE_A]},  # a duplicate matches nothing more
    ]
    result = score(PLANTED, alerts)
    assert result.recall == 0.5
    assert result.precision == 0.25
    assert [c["rule"] for c in result.missed] == ["DC05"]
    assert "missed DC05" in result.report()
