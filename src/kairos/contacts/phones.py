"""A fast check for phone numbers already in E.164 form (``+`` and digits only).

``phonenumbers.parse`` + ``is_valid_number`` cost ~80 µs per number (half of a contacts
import). For a number written ``+<country code><national number>`` the library's work
reduces to: split off the country code (the first 1 to 3 digits that are a calling code),
pick the region (the only one for the code, or for shared codes like +1 and +7 the first
whose ``leading_digits`` match or whose patterns accept the number), and match the national
number against that region's general pattern and its type patterns (fixed line, mobile, toll
free, …), each guarded by its possible lengths. This module compiles those checks once per
region from phonenumbers' own metadata and runs them directly.

It answers only "valid, and the E.164 form is the input itself". Everything else — other
spellings, an unknown calling code, a national number that the region's national prefix
rule (``national_prefix_for_parsing``) could rewrite, or a number the patterns reject —
returns False and goes through the full parse, which also words the error. So for valid
numbers the result is identical to the library's by construction;
``tests/contacts/test_phones.py`` compares the two over every region's example numbers and
random digit strings for every calling code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

_E164 = re.compile(r"\+[1-9][0-9]{2,19}")
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN / _MAX_LENGTH_FOR_NSN

_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@dataclass(frozen=True, slots=True)
class _Region:
    general_lengths: frozenset[int] | None
    general: re.Pattern[str] | None  # None: the region accepts no number
    types: tuple[tuple[frozenset[int] | None, re.Pattern[str]], ...]
    leading_digits: re.Pattern[str] | None

    def accepts(self, nsn: str) -> bool:
        """phonenumbers' ``_number_type_helper(nsn, metadata) != UNKNOWN``."""
        n = len(nsn)
        if self.general is None:
            return False
        if self.general_lengths is not None and n not in self.general_lengths:
            return False
        if not self.general.fullmatch(nsn):
            return False
        for lengths, pattern in self.types:
            if (lengths is None or n in lengths) and pattern.fullmatch(nsn):
                return True
        return False


def _desc(desc: object) -> tuple[frozenset[int] | None, re.Pattern[str]] | None:
    pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
    if not pattern:
        return None  # matches nothing (phonenumbers' _match_national_number returns False)
    lengths = getattr(desc, "possible_length", None)
    return (frozenset(lengths) if lengths else None), re.compile(pattern)


@cache
def _region(country_code: int, region_code: str) -> _Region | None:
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region_code)
    if metadata is None:
        return None
    general = _desc(metadata.general_desc) or (None, None)
    types = tuple(d for d in (_desc(getattr(metadata, name)) for name in _TYPES) if d is not None)
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
    return _Region(general[0], general[1], types, leading)


@cache
def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The main region's ``national_prefix_for_parsing``: parse strips it even after a +."""
    regions = COUNTRY_CODE_TO_REGION_CODE[country_code]
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
    prefix = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(prefix) if prefix else None


def _split(digits: str) -> tuple[int, str] | None:
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code, digits[size:]
    return None


def is_valid_e164(text: str) -> bool:
    """True when ``text`` is a valid number already written in E.164 (so it is its own
    normalised form); False means "not known here", not "invalid": use the full parser."""
    if not _E164.fullmatch(text):
        return False
    split = _split(text[1:])
    if split is None:
        return False
    code, nsn = split
    if not _MIN_NSN <= len(nsn) <= _MAX_NSN:
        return False
    prefix = _national_prefix(code)
    if prefix is not None and prefix.match(nsn):
        return False  # parse might strip a national prefix or carrier code: leave it to it
    regions = COUNTRY_CODE_TO_REGION_CODE[code]
    if len(regions) == 1:
        region = _region(code, regions[0])
        return region is not None and region.accepts(nsn)
    # Shared calling code: phonenumbers' region_code_for_number, then validity there.
    for region_code in regions:
        region = _region(code, region_code)
        if region is None:
            continue
        if region.leading_digits is not None:
            if region.leading_digits.match(nsn):
                return region.accepts(nsn)
        elif region.accepts(nsn):
            return True
    return False
