"""Mistakes in a profile are found when it is loaded, before any record is touched, each
named with the profile file and the line it is on."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from metareg.cli import app
from metareg.connectors.mapping import ProfileError, load_profile, profile_paths
from tests.connectors.mapping.conftest import Write

GOOD = """
[profile]
name = "test-source"

[input]
format = "csv"

[maps.kind]
"Issuance" = ["ISS"]

[derived]
when = { column = "Date", as = "date" }

[[skip]]
when = { column = "n", empty = true }
reason = "empty"

[[records]]
type = "action"

[records.fields]
action_id = "A-{id}"
action_date = { value = "when" }
action_type = { column = "t", map = "kind" }
"""


def line_of(body: str, marker: str) -> int:
    lines = textwrap.dedent(body).lstrip().splitlines()
    return 1 + next(n for n, line in enumerate(lines) if marker in line)


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        ("[derived]", "[derivd]", "[derivd]", "unknown key(s) ['derivd']"),
        ('as = "date" }', 'as = "date", regx = "x" }', "regx", "unknown key(s) ['regx']"),
        ('as = "date" }', 'as = "dates" }', 'as = "dates"', "as is one of text, integer"),
        (
            '{ column = "Date", as = "date" }',
            "{ column = \"Date\", regex = '([0-9' }",
            "regex",
            "does not compile",
        ),
        ('map = "kind"', 'map = "knd"', 'map = "knd"', "no map 'knd'"),
        (
            'action_id = "A-{id}"',
            'action_dat = "A-{id}"',
            "action_dat",
            "unknown key(s) ['action_dat']",
        ),
        ('type = "action"', 'type = "actions"', 'type = "actions"', "one of authorization, action"),
        ('"A-{id}"', '"A-{id"', '"A-{id"', "unbalanced '{'"),
        ('reason = "empty"', "", "[[skip]]", "needs 'when' and a 'reason'"),
        (
            '"Issuance" = ["ISS"]',
            '"Issuance" = ["ISS"]\n"Use" = ["iss"]',
            '"Use"',
            "'iss' means both",
        ),
        (
            'when = { column = "n", empty = true }',
            'when = { column = "n", empty = "yes" }',
            'empty = "yes"',
            "empty = true or false",
        ),
        ('name = "test-source"', 'name = "other"', 'name = "other"', "must be the file's name"),
        ('format = "csv"', 'format = "xls"', 'format = "xls"', "must be one of csv, xlsx, json"),
    ],
)
def test_mistakes_are_named_with_file_and_line(
    write_profile: Write, old: str, new: str, marker: str, message: str
) -> None:
    assert old in GOOD
    body = GOOD.replace(old, new, 1)
    with pytest.raises(ProfileError) as raised:
        write_profile(body)
    text = str(raised.value)
    assert f"test-source.toml:{line_of(body, marker)}:" in text, text
    assert message in text


def test_the_good_profile_loads(write_profile: Write) -> None:
    assert write_profile(GOOD).name == "test-source"


def test_a_cycle_of_derived_values(write_profile: Write) -> None:
    body = GOOD.replace(
        'when = { column = "Date", as = "date" }',
        'when = { value = "other", as = "date" }\nother = "{when}"',
    )
    with pytest.raises(
        ProfileError, match=r"test-source\.toml:\d+: derived\.\w+: refers to itself"
    ):
        write_profile(body)


def test_toml_syntax_errors_name_the_file(write_profile: Write) -> None:
    with pytest.raises(ProfileError, match=r"test-source\.toml: not valid TOML: .*line 3"):
        write_profile('[profile]\nname = "test-source"\nformat = \n')


def test_unknown_profile_names_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match=r"no source profile 'jcm'.*jcm-credits"):
        load_profile("jcm")


def test_every_shipped_profile_loads_and_is_listed() -> None:
    shipped = profile_paths()
    assert {"jcm-credits", "article6-siq", "cadt", "aef-undp"} <= set(shipped)
    result = CliRunner().invoke(app, ["sources", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {entry["name"]: entry for entry in json.loads(result.output)}
    assert set(listed) == set(shipped)
    assert listed["cadt"]["records"] == ["action", "authorization", "holding"]
    assert [t["endpoint"] for t in listed["cadt"]["tables"]] == [
        "/v2/aef-t2-authorizations",
        "/v2/aef-t3-actions",
        "/v2/aef-t4-holdings",
        "/v1/units",
    ]
    assert listed["jcm-credits"]["skips"] == [
        "notified, not issued yet (no issued amount)",
        "nothing issued to this country (issued amount 0)",
    ]
    table = CliRunner().invoke(app, ["sources"])
    assert table.exit_code == 0 and "aef-undp" in table.output
