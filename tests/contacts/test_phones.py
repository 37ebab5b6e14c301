"""The E.164 fast path (contacts/phones.py) against the full phonenumbers parse."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from kairos.contacts.fields import normalize_phone
from kairos.contacts.phones import is_valid_e164
from kairos.errors import InvalidInput

_TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]


def full(text: str) -> str | None:
    """The library's answer: the E.164 form of a valid number, None for an invalid one."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def example_numbers() -> list[str]:
    out = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in _TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                out.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            out.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return sorted(out)


def random_numbers(per_code: int, seed: int) -> list[str]:
    """Digit strings after every calling code, most of them invalid, some valid by chance,
    plus valid examples with their last digits changed (valid far more often)."""
    rng = random.Random(seed)
    out = []
    for code in sorted(COUNTRY_CODE_TO_REGION_CODE):
        for _ in range(per_code):
            length = rng.randint(1, 16)
            out.append(f"+{code}{rng.randrange(10**length):0{length}d}")
    for example in example_numbers():
        for _ in range(10):
            tail = rng.randint(1, 5)
            out.append(example[:-tail] + f"{rng.randrange(10**tail):0{tail}d}")
    return out


def test_every_example_number_of_every_region_and_type_agrees() -> None:
    examples = example_numbers()
    assert len(examples) > 900
    fast = 0
    for text in examples:
        if is_valid_e164(text):
            fast += 1
            assert full(text) == text, text
    # the fast path is not a no-op: it answers for nearly every valid number by itself
    assert fast > 0.9 * sum(1 for t in examples if full(t) == t)


def test_random_digits_after_every_calling_code_agree() -> None:
    sample = random_numbers(per_code=150, seed=17)
    answered = 0
    for text in sample:
        expected = full(text)
        if is_valid_e164(text):
            answered += 1
            assert expected == text, text
        # and through the function every import and ingest uses, valid or not
        try:
            got: str | None = normalize_phone(text, None)
        except InvalidInput:
            got = None
        assert got == expected, text
    assert answered > 5000


@pytest.mark.parametrize(
    "text",
    [
        "+1 650 253 0000",  # spaces: not E.164, the full parse normalises it
        "+16502530000x12",
        "0044 20 7946 0958",
        "+4420 7946 0958",
        "+44 (0)20 7946 0958",
        "+0123456789",
        "+999123456789",  # no such calling code
        "+1",
        "16502530000",
    ],
)
def test_other_spellings_are_left_to_the_full_parse(text: str) -> None:
    assert not is_valid_e164(text)


def test_numbers_the_region_could_rewrite_are_left_to_the_full_parse() -> None:
    # +1 followed by the NANP national prefix 1: parse might strip it
    assert not is_valid_e164("+116502530000")
    assert not is_valid_e164("+4402079460958")  # GB national prefix 0


def test_common_numbers_take_the_fast_path() -> None:
    for text in ["+16502530000", "+442079460958", "+4915112345678", "+33612345678", "+919876543210"]:
        assert is_valid_e164(text), text
        assert normalize_phone(text, None) == text
