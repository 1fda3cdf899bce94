"""Certificate numbers: format, check digit and typo help."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iris.certificates import numbering
from iris.certificates.numbering import InvalidNumber


def test_format():
    number = numbering.format_number("PL", 2025, 42)
    assert number == "IRIS-PL-2025-0000423"
    assert numbering.parse_number(number) == ("PL", 2025, 42)


def test_damm_reference_value():
    # The worked example of Damm's algorithm: 572 -> check digit 4.
    assert numbering.damm("572") == 4
    assert numbering.damm("5724") == 0


@given(
    country=st.sampled_from(["PL", "UA", "DE", "PH"]),
    year=st.integers(2000, 2099),
    sequence=st.integers(1, numbering.MAX_SEQUENCE),
)
def test_every_single_digit_typo_and_adjacent_swap_is_caught(country, year, sequence):
    number = numbering.format_number(country, year, sequence)
    digits = number[8:12] + number[13:]
    for i, d in itertools.product(range(len(digits)), "0123456789"):
        if d != digits[i]:
            typo = digits[:i] + d + digits[i + 1 :]
            assert not numbering.is_valid(f"IRIS-{country}-{typo[:4]}-{typo[4:]}")
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
            assert not numbering.is_valid(f"IRIS-{country}-{swapped[:4]}-{swapped[4:]}")


@pytest.mark.parametrize(
    "typed",
    [
        "iris-pl-2025-0000423",
        " IRIS PL 2025 0000423 ",
        "IRIS–PL–2025–0000423",
        "PL-2025-0000423",
        "IRISPL20250000423",
        "IRIS-PL-2025-OOOO423",
    ],
)
def test_people_may_type_it_loosely(typed):
    assert numbering.normalise(typed) == "IRIS-PL-2025-0000423"
    assert numbering.is_valid(typed)


def test_errors_say_what_is_wrong():
    with pytest.raises(InvalidNumber) as err:
        numbering.parse_number("hello")
    assert err.value.reason == "format"
    assert "IRIS-PL-2025-0000423" in str(err.value)
    with pytest.raises(InvalidNumber) as err:
        numbering.parse_number("IRIS-PL-2025-0000424")
    assert err.value.reason == "check_digit"
    assert "mistyped" in str(err.value)


def test_typo_candidates_include_the_intended_number():
    intended = numbering.format_number("PL", 2025, 42)
    typo = intended[:-3] + "5" + intended[-2:]  # one digit of the sequence changed
    assert not numbering.is_valid(typo)
    candidates = numbering.typo_candidates(typo)
    assert intended in candidates
    assert all(numbering.is_valid(c) for c in candidates)
    assert len(candidates) < 25


def test_format_refuses_out_of_range():
    with pytest.raises(ValueError):
        numbering.format_number("PL", 2025, 1_000_000)
    with pytest.raises(ValueError):
        numbering.format_number("pl", 2025, 1)
