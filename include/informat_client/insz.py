"""INSZ / rijksregisternummer: normalising and check digits (no personal data is kept here)."""

from __future__ import annotations

import re
from datetime import date

_SEPARATORS = re.compile(r"[\s.\-/]")


def normalize(value: str | None) -> str | None:
    """Strip dots, dashes and spaces; return the 11 digits, or None when it is not 11 digits."""
    if value is None:
        return None
    if type(value) is str and len(value) == 11 and value.isdigit():  # most: no pattern needed
        return value
    digits = _SEPARATORS.sub("", str(value))
    return digits if len(digits) == 11 and digits.isdigit() else None


def check_digits(first_nine: str, born_2000_or_later: bool) -> int:
    base = int(("2" + first_nine) if born_2000_or_later else first_nine)
    return 97 - (base % 97)


def is_valid(value: str | None) -> bool:
    """True when ``value`` is an INSZ whose check digits are right (either century rule)."""
    digits = normalize(value)
    if digits is None:
        return False
    first, cc = digits[:9], int(digits[9:])
    return cc in (check_digits(first, False), check_digits(first, True))


def make(birth_date: date, sequence: int, *, bis: bool = False) -> str:
    """Build a synthetic INSZ with valid check digits (for the sandbox and tests only); ``bis``
    makes a bisnummer (month + 40: sex unknown at the time it was given)."""
    if not 1 <= sequence <= 998:
        raise ValueError("sequence must be 1..998")
    month = birth_date.month + (40 if bis else 0)
    first = f"{birth_date:%y}{month:02d}{birth_date:%d}{sequence:03d}"
    return first + f"{check_digits(first, birth_date.year >= 2000):02d}"


def format_dotted(digits: str) -> str:
    """``YYMMDDxxxcc`` as ``YY.MM.DD-xxx.cc``."""
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}-{digits[6:9]}.{digits[9:11]}"
