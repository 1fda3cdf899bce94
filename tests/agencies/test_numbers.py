"""Check digits of registration numbers, against published examples and generated ones."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iris.agencies import numbers


@pytest.mark.parametrize("nip", ["1234563218", "123-456-32-18", "PL 526-104-08-28"])
def test_known_valid_nips(nip):
    assert numbers.nip_valid(nip)


@pytest.mark.parametrize("nip", ["1234563219", "123456321", "12345632180", "abcdefghij"])
def test_invalid_nips(nip):
    assert not numbers.nip_valid(nip)


def test_regon_nine_and_fourteen_digits():
    assert numbers.regon_valid("123456785")
    assert numbers.regon_valid("12345678512347")
    assert not numbers.regon_valid("123456784")
    assert not numbers.regon_valid("12345678512348")
    assert not numbers.regon_valid("12345678412347")  # the nine-digit stem is invalid


@pytest.mark.parametrize("code", ["14360570", "00032129", "00032112", "21560766", "30991664"])
def test_known_edrpou_codes(code):
    # PrivatBank, Oschadbank, Ukreximbank and others, as published in the register.
    assert numbers.edrpou_valid(code)


def test_krs_is_padded_to_ten_digits():
    assert numbers.krs_normalise("KRS 123456") == "0000123456"
    assert numbers.krs_valid("0000123456")
    assert not numbers.krs_valid("0000000000")


@given(st.integers(min_value=0, max_value=2**32))
def test_generated_numbers_are_valid(seed):
    rng = random.Random(seed)
    assert numbers.nip_valid(numbers.make_nip(rng))
    assert numbers.regon_valid(numbers.make_regon(rng))
    assert numbers.edrpou_valid(numbers.make_edrpou(rng))
    assert numbers.krs_valid(numbers.make_krs(rng))


@given(
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_wrong_digit_in_a_nip_is_caught(seed, position, delta):
    nip = numbers.make_nip(random.Random(seed))
    wrong = nip[:position] + str((int(nip[position]) + delta) % 10) + nip[position + 1 :]
    assert not numbers.nip_valid(wrong)
