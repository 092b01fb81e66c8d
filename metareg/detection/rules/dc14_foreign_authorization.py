"""DC14 foreign-authorization (high). Kind: versions. Alert scope: authorization.

RULES.md: "a registry that does not act for the `authorizing_party_id` (RECORDS.md,
"Who may state an authorization") reports an authorization that the authoritative
registry does not report, or reports with other content for the same `version`".

Decisions: a foreign version is one whose reporting registry does not act for the
`authorizing_party_id` it states (`rules.versions.authoritative`). It is compared with
the authoritative versions of the same authorization (cooperative approach,
authorization id) stating the same authorizing Party and the same `version`: when
one of them has the same content (the content hash of RECORDS.md's normal form:
every field, `terms` and `authorization_date` included) the foreign registry only
repeats it and nothing is raised; otherwise (none reports that version, or each
reports other content) one alert per foreign version. Its evidence is the foreign
record, plus the authoritative versions of that number it contradicts (none when the
authoritative registry does not report that version: a later authoritative version
would otherwise change the alert's identity). The alert has the cooperative approach
but no range: an authorization names no serials. A foreign version never judges an
action (RECORDS.md), so it changes no DC07-DC09 or DC13 alert.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from metareg.detection.rules.kinds import VersionsRule, authorization_scope
from metareg.detection.rules.terms import AuthorizationVersion, make_finding
from metareg.detection.rules.versions import authoritative
from metareg.findings import Finding

CODE = "DC14"
# The fields a message names when the contents differ (the hash decides).
COMPARED = (
    "authorization_date",
    "authorized_quantity",
    "purposes",
    "authorized_party_ids",
    "authorized_entity_ids",
    "timeframe_start",
    "timeframe_end",
    "status",
)


def contradicted(
    foreign: AuthorizationVersion, versions: Sequence[AuthorizationVersion]
) -> list[AuthorizationVersion] | None:
    """The authoritative versions the foreign one contradicts (empty: the authoritative
    registry does not report that version), or None when one states the same content."""
    same = [
        v
        for v in versions
        if authoritative(v)
        and v.authorizing_party_id == foreign.authorizing_party_id
        and v.version == foreign.version
    ]
    if any(v.content_hash == foreign.content_hash for v in same):
        return None
    return sorted(same, key=lambda v: v.identity)


def _differences(foreign: AuthorizationVersion, other: AuthorizationVersion) -> str:
    named = [
        f"{name} {getattr(foreign, name)!r} against {getattr(other, name)!r}"
        for name in COMPARED
        if getattr(foreign, name) != getattr(other, name)
    ]
    return "; ".join(named) or "other content"


def check(versions: Sequence[AuthorizationVersion]) -> Iterator[Finding]:
    for foreign in sorted(versions, key=lambda v: v.identity):
        if authoritative(foreign):
            continue
        against = contradicted(foreign, versions)
        if against is None:
            continue
        party = foreign.authorizing_party_id
        if against:
            why = (
                f"{', '.join(v.registry_id for v in against)}, acting for {party}, "
                f"report{'s' if len(against) == 1 else ''} version {foreign.version} with "
                f"other content ({_differences(foreign, against[0])})"
            )
        else:
            why = f"no registry acting for {party} reports version {foreign.version}"
        yield make_finding(
            CODE,
            f"{foreign.registry_id} reports authorization {foreign.authorization_id} version "
            f"{foreign.version} of Party {party}, for which it does not act: {why}",
            (foreign.identity, *(v.identity for v in against)),
            scope=authorization_scope(foreign.authorization_id),
            cooperative_approach_id=foreign.cooperative_approach_id,
        )


RULE = VersionsRule(code=CODE, check=check)
