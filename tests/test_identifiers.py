"""The ITMO identifier text form: parse, format, and errors that name the wrong part."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metareg.records.identifiers import (
    MAX_IDENTIFIER_LENGTH,
    MAX_SERIAL,
    IdentifierError,
    ITMOBlock,
    format_itmo,
    parse_itmo,
)

UNIT = ITMOBlock("CA0001", "IDN01", "IDN", 1001, 1001, 2023)
BLOCK = ITMOBlock("CA0001", "IDN01", "IDN", 1001, 2000, 2023)


def test_parse_block() -> None:
    block = parse_itmo("CA0001-IDN01-IDN-1001-2000-2023")
    assert block == BLOCK
    assert block.quantity == 1000
    assert not block.is_unit


def test_parse_unit() -> None:
    unit = parse_itmo("CA0001-IDN01-IDN-1001-2023")
    assert unit == UNIT
    assert unit.quantity == 1
    assert unit.is_unit


def test_format_uses_unit_form_for_one_itmo() -> None:
    assert format_itmo(UNIT) == "CA0001-IDN01-IDN-1001-2023"
    assert format_itmo(BLOCK) == "CA0001-IDN01-IDN-1001-2000-2023"
    assert BLOCK.text() == format_itmo(BLOCK)


def test_block_form_of_one_unit_is_read() -> None:
    assert parse_itmo("CA0001-IDN01-IDN-1001-1001-2023") == UNIT


def test_surrounding_whitespace_is_stripped() -> None:
    assert parse_itmo("  CA0001-IDN01-IDN-1001-2000-2023\t\n") == BLOCK


def test_largest_serial() -> None:
    text = f"CA9999-JPN99-JPN-1-{MAX_SERIAL}-2100"
    assert parse_itmo(text).quantity == MAX_SERIAL


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("CA001-IDN01-IDN-1001-2023", "cooperative approach"),
        ("ca0001-IDN01-IDN-1001-2023", "cooperative approach"),
        ("CB0001-IDN01-IDN-1001-2023", "cooperative approach"),
        ("CA0001-IDN1-IDN-1001-2023", "originating registry"),
        ("CA0001-idn01-IDN-1001-2023", "originating registry"),
        ("CA0001-ID01-IDN-1001-2023", "originating registry"),
        ("CA0001-IDN01-ID-1001-2023", "first transferring Party"),
        ("CA0001-IDN01-idn-1001-2023", "first transferring Party"),
        ("CA0001-IDN01-IDN1-1001-2023", "first transferring Party"),
        ("CA0001-IDN01-IDN-0-2023", "first serial"),
        ("CA0001-IDN01-IDN-01001-2023", "first serial"),
        ("CA0001-IDN01-IDN-+1001-2023", "first serial"),
        ("CA0001-IDN01-IDN-1_001-2023", "first serial"),
        ("CA0001-IDN01-IDN-١٠٠١-2023", "first serial"),
        ("CA0001-IDN01-IDN-1234567890123456789-2023", "first serial"),
        ("CA0001-IDN01-IDN-x-2000-2023", "first serial"),
        ("CA0001-IDN01-IDN-1001-x-2023", "last serial"),
        ("CA0001-IDN01-IDN-1001-02000-2023", "last serial"),
        ("CA0001-IDN01-IDN-2000-1001-2023", "serial range"),
        ("CA0001-IDN01-IDN-1001-1999", "vintage"),
        ("CA0001-IDN01-IDN-1001-2101", "vintage"),
        ("CA0001-IDN01-IDN-1001-23", "vintage"),
        ("CA0001-IDN01-IDN-1001-2000-20234", "vintage"),
        ("", "format"),
        ("   ", "format"),
        ("CA0001-IDN01-IDN-2023", "format"),
        ("CA0001-IDN01-IDN-1-2-3-2023", "format"),
        ("CA0001 IDN01 IDN 1001 2023", "format"),
        ("CA0001-IDN01-IDN-1001-2000-2023" + " " * MAX_IDENTIFIER_LENGTH, "format"),
    ],
)
def test_bad_text_names_the_part(text: str, part: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_itmo(text)
    assert caught.value.part == part
    assert part in str(caught.value)


def test_error_attributes_and_message() -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_itmo("CA0001-IDN01-IDN-1001-1999")
    error = caught.value
    assert (error.part, error.value) == ("vintage", "1999")
    assert "2000" in error.message
    assert str(error).startswith("Invalid vintage")
    assert isinstance(error, ValueError)


def test_error_pickles() -> None:
    error = IdentifierError("vintage", "1999", "too early")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.part, copy.value, copy.message) == ("vintage", "1999", "too early")
    assert str(copy) == str(error)


def test_long_value_is_shortened_in_message() -> None:
    error = IdentifierError("format", "x" * 500, "too long")
    assert len(str(error)) < 200


def test_non_text_is_a_format_error() -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_itmo(12345)  # type: ignore[arg-type]
    assert caught.value.part == "format"


@pytest.mark.parametrize(
    ("fields", "part"),
    [
        ({"cooperative_approach_id": "CA1"}, "cooperative approach"),
        ({"party_registry_id": "IDN"}, "originating registry"),
        ({"first_transferring_party_id": "Indonesia"}, "first transferring Party"),
        ({"first_id": 0}, "first serial"),
        ({"first_id": True}, "first serial"),
        ({"last_id": MAX_SERIAL + 1}, "last serial"),
        ({"last_id": 1000}, "serial range"),
        ({"vintage": 1999}, "vintage"),
        ({"vintage": "2023"}, "vintage"),
        ({"cooperative_approach_id": 1}, "cooperative approach"),
    ],
)
def test_constructor_validates(fields: dict[str, object], part: str) -> None:
    values: dict[str, object] = {
        "cooperative_approach_id": "CA0001",
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "first_id": 1001,
        "last_id": 2000,
        "vintage": 2023,
    }
    values.update(fields)
    with pytest.raises(IdentifierError) as caught:
        ITMOBlock(**values)  # type: ignore[arg-type]
    assert caught.value.part == part


def test_block_is_frozen_and_hashable() -> None:
    with pytest.raises(AttributeError):
        BLOCK.first_id = 5  # type: ignore[misc]
    assert len({BLOCK, parse_itmo(BLOCK.text())}) == 1


_UPPER = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@st.composite
def itmo_blocks(draw: st.DrawFn) -> ITMOBlock:
    party = "".join(draw(st.lists(_UPPER, min_size=3, max_size=3)))
    first = draw(st.integers(1, MAX_SERIAL))
    last = draw(st.one_of(st.just(first), st.integers(first, MAX_SERIAL)))
    return ITMOBlock(
        cooperative_approach_id=f"CA{draw(st.integers(0, 9999)):04d}",
        party_registry_id=f"{party}{draw(st.integers(0, 99)):02d}",
        first_transferring_party_id="".join(draw(st.lists(_UPPER, min_size=3, max_size=3))),
        first_id=first,
        last_id=last,
        vintage=draw(st.integers(2000, 2100)),
    )


@settings(max_examples=200)
@given(itmo_blocks())
def test_format_then_parse_round_trips(block: ITMOBlock) -> None:
    text = format_itmo(block)
    assert parse_itmo(text) == block
    assert len(text.split("-")) == (5 if block.is_unit else 6)


@settings(max_examples=300)
@given(st.text(max_size=250))
def test_arbitrary_text_raises_only_identifier_error(text: str) -> None:
    try:
        block = parse_itmo(text)
    except IdentifierError as error:
        assert error.part in {
            "cooperative approach",
            "originating registry",
            "first transferring Party",
            "first serial",
            "last serial",
            "serial range",
            "vintage",
            "format",
        }
        str(error)
    else:
        assert parse_itmo(format_itmo(block)) == block


@settings(max_examples=200)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\ACA[0-9]{4}\Z"),
            st.from_regex(r"\A[A-Z]{3}[0-9]{2}\Z"),
            st.from_regex(r"\A[A-Z]{3}\Z"),
            st.from_regex(r"\A[0-9]{1,20}\Z"),
            st.text(max_size=6),
        ),
        max_size=8,
    )
)
def test_near_miss_text_raises_only_identifier_error(parts: list[str]) -> None:
    # Pure st.text() almost never gets past the part count; this reaches every check.
    text = "-".join(parts)
    try:
        block = parse_itmo(text)
    except IdentifierError:
        return
    assert parse_itmo(format_itmo(block)) == block
