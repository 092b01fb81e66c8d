"""The mapping language, one feature at a time, each with the near miss it must refuse."""

from __future__ import annotations

import io
import json

import pytest

from metareg.connectors.mapping import ProfileError
from tests.connectors.mapping.conftest import Write, records, run

HEAD = """
[profile]
name = "test-source"

[input]
format = "csv"
"""


def action_profile(fields: str, derived: str = "", extra: str = "") -> str:
    return f"""{HEAD}
{extra}
[derived]
{derived}

[[records]]
type = "action"

[records.fields]
{fields}
"""


def test_columns_templates_and_composite_ids(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'action_id = "JCM-{Project ID}-{when:%Y%m%d}"\n'
            'action_type = "Issuance"\n'
            'action_date = { value = "when" }\n'
            'first_id = { template = "{project:03d}{n:07d}", as = "integer" }\n'
            'terms_like = "{{literal}}"',
            derived='when = { column = "Date", as = "date" }\nproject = { column = "Project ID", '
            'regex = \'([0-9]+)$\', as = "integer" }\nn = { column = "N", as = "integer" }',
        ).replace('terms_like = "{{literal}}"', 'action_subtype = "{{x}}-{N}"')
    )
    found = records(run(profile, "Project ID,Date,N\nMN006,2026-01-30,42\n"))
    assert found == [
        {
            "record_type": "action",
            "action_id": "JCM-MN006-20260130",
            "action_type": "Issuance",
            "action_date": "2026-01-30",
            "first_id": 60000042,  # "006" then "0000042"
            "action_subtype": "{x}-42",
        }
    ]


def test_a_template_with_an_empty_part_is_empty(write_profile: Write) -> None:
    profile = write_profile(action_profile('action_id = "A-{a}-{b}"\naction_type = "Issuance"'))
    assert records(run(profile, "a,b\n1,\n1,2\n")) == [
        {"record_type": "action", "action_type": "Issuance"},
        {"record_type": "action", "action_id": "A-1-2", "action_type": "Issuance"},
    ]


def test_a_missing_column_quarantines_each_row_naming_the_rule_and_line(
    write_profile: Write,
) -> None:
    body = action_profile('action_id = { column = "Transaction ID" }')
    profile = write_profile(body)
    line = 1 + body.lstrip().splitlines().index('action_id = { column = "Transaction ID" }')
    outcomes = run(profile, "Txn ID\nT-1\nT-2\n")
    (problem,) = outcomes[0].problems
    assert outcomes[0].row.location == "line 2" and not outcomes[0].records
    assert outcomes[1].row.location == "line 3" and outcomes[1].problems
    assert problem.path == f"test-source.toml:{line} records[0].fields.action_id"
    assert "no column 'Transaction ID'" in problem.message and "txn id" in problem.message


def test_headers_match_ignoring_case_blanks_and_nbsp(write_profile: Write) -> None:
    profile = write_profile(
        action_profile('quantity_tco2e = { column = "Quantity (t CO2 eq)", as = "number" }')
    )
    assert records(run(profile, "quantity (t\xa0CO2  eq)*\n12\n"))[0]["quantity_tco2e"] == 12


def test_value_maps_fold_case_and_know_synonyms(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'action_type = { column = "type", map = "action_type" }\n'
            'action_subtype = { column = "ftd", map = "first_transfer_definition" }'
        )
    )
    found = records(
        run(profile, "type,ftd\nFirst Transfer,Authorisation\nfirst  TRANSFER,authorization\n")
    )
    assert [(r["action_type"], r["action_subtype"]) for r in found] == [
        ("First transfer", "Authorization"),
        ("First transfer", "Authorization"),
    ]
    # Near miss: a spelling that is in no vocabulary is an error naming the map.
    (outcome,) = run(profile, "type,ftd\nFirst Transfers,Issuance\n")
    assert "'First Transfers' is not in map action_type" in outcome.problems[0].message


def test_inline_maps_and_keeping_unmapped_values(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'action_type = { column = "t", map = { "Issuance" = ["ISS", "issue"] } }\n'
            'underlying_registry_id = { column = "p", map = "programme", unmapped = "keep" }'
        )
    )
    found = records(run(profile, "t,p\niss,Verra\nIssue,T-VER\n"))
    assert [(r["action_type"], r["underlying_registry_id"]) for r in found] == [
        ("Issuance", "VCS"),
        ("Issuance", "T-VER"),
    ]


def test_countries_from_names_codes_and_aliases(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'first_transferring_party_id = { column = "c", country = true }',
            extra='[countries]\n"Lao PDR" = "LAO"\n',
        )
    )
    found = records(run(profile, "c\nMongolia\nMN\nmng\nLao PDR\nViet Nam\n"))
    assert [r["first_transferring_party_id"] for r in found] == ["MNG", "MNG", "MNG", "LAO", "VNM"]
    (outcome,) = run(profile, "c\nMongolie\n")
    assert "'Mongolie' is not a country pycountry knows" in outcome.problems[0].message


def test_an_alias_pycountry_already_knows_is_refused_at_load(write_profile: Write) -> None:
    body = action_profile(
        'first_transferring_party_id = { column = "c", country = true }',
        extra='[countries]\n"Mongolia" = "MNG"\n',
    )
    with pytest.raises(ProfileError, match=r"test-source\.toml:\d+: countries: alias 'Mongolia'"):
        write_profile(body)
    with pytest.raises(ProfileError, match="'XXX' is not an ISO 3166 alpha-3"):
        write_profile(body.replace('"Mongolia" = "MNG"', '"Lao PDR" = "XXX"'))


def test_regex_extraction_groups_and_no_match(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'first_id = { value = "block.first", as = "integer" }\n'
            'last_id = { value = "block.last", as = "integer" }\n'
            'action_id = { column = "serial", regex = \'^([A-Z]+)-\', no_match = "empty" }',
            derived='block = { column = "serial", '
            "regex = '-(?P<first>[0-9]+)-(?P<last>[0-9]+)$' }",
        )
    )
    found = records(run(profile, "serial\nABC-1001-2000\n"))
    assert found[0] | {} == {
        "record_type": "action",
        "first_id": 1001,
        "last_id": 2000,
        "action_id": "ABC",
    }
    (outcome,) = run(profile, "serial\nABC-1001\n")
    assert "matched nothing in 'ABC-1001'" in outcome.problems[0].message
    assert outcome.problems[0].path.endswith("derived.block")


def test_serial_parsers_give_block_and_fields(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'first_id = { value = "unit.first" }\nlast_id = { value = "unit.last" }\n'
            'vintage = { value = "unit.parts.5", as = "year" }\nfirst_unit_id = "{unit}"',
            derived='unit = { column = "sn", serial = "GS" }',
        )
    )
    serial = "GS1-1-TZ-GS11732-16-2022-25700-1-100"
    assert records(run(profile, f"sn\n{serial}\n")) == [
        {
            "record_type": "action",
            "first_id": 1,
            "last_id": 100,
            "vintage": 2022,
            "first_unit_id": serial,
        }
    ]
    (outcome,) = run(profile, "sn\nGS1-1-TZ-GS11732-16-2022-25700-100\n")
    assert "Not a valid Gold Standard serial" in outcome.problems[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456789012345678.0", 123456789012345678),
        ("123456789012345678", 123456789012345678),
        ("+42", 42),
        ("7.000", 7),
    ],
)
def test_integers_are_exact(write_profile: Write, text: str, expected: int) -> None:
    profile = write_profile(action_profile('first_id = { column = "n", as = "integer" }'))
    assert records(run(profile, f"n\n{text}\n"))[0]["first_id"] == expected


@pytest.mark.parametrize("text", ["1.5", "1e3", "12,000", "0x10", "١٢"])
def test_not_whole_numbers_are_refused(write_profile: Write, text: str) -> None:
    profile = write_profile(action_profile('first_id = { column = "n", as = "integer" }'))
    (outcome,) = run(profile, f'n\n"{text}"\n')
    assert "expected a whole number" in outcome.problems[0].message


def test_thousands_separators_only_when_declared(write_profile: Write) -> None:
    body = action_profile('quantity_tco2e = { column = "n", as = "number" }')
    assert run(write_profile(body), 'n\n"1,454,054"\n')[0].problems
    declared = write_profile(body.replace('format = "csv"', 'format = "csv"\nthousands = true'))
    assert records(run(declared, 'n\n"1,454,054"\n'))[0]["quantity_tco2e"] == 1454054


def test_dates_iso_declared_formats_epoch_and_the_horizon(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'action_date = { column = "d", as = "date", format = ["%d %b %y", "epoch_ms"] }',
            extra="",
        ).replace('format = "csv"', 'format = "csv"\ndates = { latest = "2030-12-31" }')
    )
    found = records(run(profile, "d\n2026-01-30T00:00:00Z\n30 Jan 26\n1769731200000\n2030-12-31\n"))
    assert [r["action_date"] for r in found] == ["2026-01-30"] * 3 + ["2030-12-31"]
    (late,) = run(profile, "d\n2031-01-01\n")
    assert "outside the plausible window 1990-01-01..2030-12-31" in late.problems[0].message
    (wrong,) = run(profile, "d\n30/01/2026\n")
    assert "expected a date (YYYY-MM-DD, %d %b %y, epoch_ms)" in wrong.problems[0].message


def test_skips_with_reasons_and_their_near_miss(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'action_id = "{id}"',
            extra=(
                '[[skip]]\nwhen = { column = "issued", empty = true }\nreason = "pending"\n'
                '[[skip]]\nwhen = { column = "issued", as = "number", equals = 0 }\n'
                'reason = "zero"\n'
            ),
        )
    )
    outcomes = run(profile, "id,issued\na,\nb,0.0\nc,0.5\nd,\n")
    assert [o.skipped for o in outcomes] == ["pending", "zero", None, "pending"]
    assert records(outcomes) == [{"record_type": "action", "action_id": "c"}]


def test_one_row_several_records(write_profile: Write) -> None:
    profile = write_profile(f"""{HEAD}
[[records]]
type = "action"
[records.fields]
action_id = "{{id}}"

[[records]]
type = "authorization"
when = {{ column = "auth", empty = false }}
[records.fields]
authorization_id = {{ column = "auth" }}
""")
    outcomes = run(profile, "id,auth\nA1,AUTH-1\nA2,\n")
    assert [[m.record["record_type"] for m in o.records] for o in outcomes] == [
        ["action", "authorization"],
        ["action"],
    ]


def test_columnar_coded_json(write_profile: Write) -> None:
    profile = write_profile(
        """
[profile]
name = "test-source"
[input]
format = "json"
columnar = { arrays = "$.c", lookups = "$.d", none = -1, codes = { cty = "cty", url = "url" } }
[[records]]
type = "action"
[records.fields]
action_id = "{sn}"
first_transferring_party_id = { column = "cty", country = true }
terms = { column = "url" }
""".replace("terms", "action_subtype")
    )
    document = {
        "d": {"cty": ["Rwanda", "Lao"], "url": ["https://x"]},
        "c": {"sn": ["a", "b", "c"], "cty": [0, 1, 5], "url": [0, -1, -1]},
    }
    outcomes = run(profile, json.dumps(document))
    assert records(outcomes[:2]) == [
        {
            "record_type": "action",
            "action_id": "a",
            "first_transferring_party_id": "RWA",
            "action_subtype": "https://x",
        },
        {"record_type": "action", "action_id": "b", "first_transferring_party_id": "LAO"},
    ]
    assert outcomes[2].row.location == "$.c.*[2]"
    assert outcomes[2].problems[0].message == "$.c.cty[2] = 5 is not a code of cty"


def test_columnar_arrays_of_different_lengths_are_refused_whole(write_profile: Write) -> None:
    from metareg.connectors.mapping import SourceError

    profile = write_profile("""
[profile]
name = "test-source"
[input]
format = "json"
columnar = { arrays = "$.c" }
[[records]]
type = "action"
[records.fields]
action_id = "{sn}"
""")
    with pytest.raises(SourceError, match="differ in length"):
        run(profile, json.dumps({"c": {"sn": ["a", "b"], "n": [1]}}))


def test_json_record_lists_single_objects_and_table_dispatch(write_profile: Write) -> None:
    profile = write_profile("""
[profile]
name = "test-source"
[input]
format = "json"
rows = ["$.data", "$"]
[[tables]]
name = "issuances"
when = { column = "serial", empty = false }
[[records]]
type = "action"
[records.fields]
action_id = "{id}"
first_unit_id = "{serial}"
""")
    assert records(run(profile, '{"data": [{"id": "a", "serial": "S1"}]}'))[0]["action_id"] == "a"
    assert records(run(profile, '{"id": "b", "serial": "S2"}'))[0]["first_unit_id"] == "S2"
    (other,) = run(profile, '[{"id": "c"}]')
    assert "matches no table (issuances)" in other.problems[0].message
    (scalar,) = run(profile, "[7]")
    assert scalar.problems[0].message == "the row is not a JSON object"


def test_provisional_approaches_and_folds(write_profile: Write, tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = action_profile(
        'cooperative_approach_id = { approach = "{ca}", provisional = "CAP-{host} {deal}", '
        'name = "{deal} of {host}" }'
    )
    profile = write_profile(body)
    outcomes = run(profile, "ca,host,deal\nCA0009,RWA,x\nNA,RWA,Solar deal\n")
    assert [r["cooperative_approach_id"] for r in records(outcomes)] == [
        "CA0009",
        "CAP-RWA-SOLAR-DEAL",
    ]
    assert outcomes[0].notes == [] and outcomes[1].notes[0].name == "Solar deal of RWA"
    config = tmp_path / "config"
    config.mkdir()
    (config / "cooperative_approaches.toml").write_text('[fold]\n"CAP-RWA-SOLAR-DEAL" = "CA0052"\n')
    folded = write_profile(body, config=config)
    (outcome,) = run(folded, "ca,host,deal\nNA,RWA,Solar deal\n")
    assert outcome.records[0].record["cooperative_approach_id"] == "CA0052"
    assert outcome.notes[0].folded_into == "CA0052"


def test_xlsx_header_rows_merged_labels_and_cells(write_profile: Write) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Actions"
    sheet["B2"] = "IDN"
    sheet["A4"] = "Record ID"  # merged down over the group row: blank in the label row
    sheet["B5"] = "Vintage"
    sheet.append(["R-1", 2023])
    sheet.append([None, None])
    sheet.append(["R-2", 2024.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    profile = write_profile("""
[profile]
name = "test-source"
[input]
format = "xlsx"
[[tables]]
name = "actions"
sheet = "Actions"
header_row = 5
header_rows = 2
cells = { heading_party = "B2" }
[[records]]
type = "action"
[records.fields]
action_id = "{Record ID}"
vintage = { column = "Vintage", as = "year" }
first_transferring_party_id = "{heading_party}"
""")
    outcomes = run(profile, buffer.getvalue())
    assert [o.row.location for o in outcomes] == ["Actions!R6", "Actions!R8"]
    assert [
        (r["action_id"], r["vintage"], r["first_transferring_party_id"]) for r in records(outcomes)
    ] == [
        ("R-1", 2023, "IDN"),
        ("R-2", 2024, "IDN"),
    ]


def test_required_values_and_defaults(write_profile: Write) -> None:
    profile = write_profile(
        action_profile(
            'action_id = { column = "id", required = true }\n'
            'metric = { column = "m", default = "GHG" }'
        )
    )
    outcomes = run(profile, "id,m\nA,\n,GHG\n")
    assert records(outcomes[:1]) == [{"record_type": "action", "action_id": "A", "metric": "GHG"}]
    assert "column 'id' is empty or absent (required)" in outcomes[1].problems[0].message


def test_parameters(write_profile: Write) -> None:
    from metareg.connectors.mapping import ParameterError

    profile = write_profile(
        action_profile(
            'action_id = "{prefix}-{id}"',
            extra='[params]\nprefix = { default = "", required = true, help = "the id prefix" }\n',
        )
    )
    assert records(run(profile, "id\n1\n", prefix="X"))[0]["action_id"] == "X-1"
    with pytest.raises(ParameterError, match="prefix: the id prefix"):
        profile.bind({})
    with pytest.raises(ParameterError, match="no parameter"):
        profile.bind({"prefix": "X", "prefx": "Y"})
