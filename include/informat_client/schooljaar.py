"""Schooljaar arithmetic: a schooljaar is written ``2024-25`` and runs 1 September - 31 August."""

from __future__ import annotations

import re
from datetime import date

_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def schooljaar_for(day: date) -> str:
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def is_valid(value: str) -> bool:
    match = _PATTERN.match(value or "")
    return match is not None and (int(match.group(1)) + 1) % 100 == int(match.group(2))


def start_year(schooljaar: str) -> int:
    if not is_valid(schooljaar):
        raise ValueError(f"schooljaar {schooljaar!r} is not of the form 2024-25")
    return int(schooljaar[:4])


def shift(schooljaar: str, years: int) -> str:
    start = start_year(schooljaar) + years
    return f"{start}-{(start + 1) % 100:02d}"


def first_day(schooljaar: str) -> date:
    return date(start_year(schooljaar), 9, 1)
