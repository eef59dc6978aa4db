"""Validating the rows of a dropped file and turning each valid one into the body of a
voorinschrijving. The ``preRegistrationId`` of a row is derived from the row's identity
(instelling, schooljaar and INSZ, or name and birth date without one), so a retry, a rerun or
the same file dropped twice never creates a second voorinschrijving."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from informat_client import insz
from informat_client.schooljaar import is_valid as is_schooljaar

from .csvfile import COLUMNS, Row, parse_date

# a fixed namespace: the same row always gets the same preRegistrationId
ID_NAMESPACE = uuid.UUID("6f4b1e7a-5b0c-4f8e-9a35-2d3c1b7e9f10")
YES = {"ja", "j", "yes", "y", "1", "true", "waar", "x"}
NO = {"nee", "n", "no", "0", "false", "onwaar", ""}
SEX = {"m": "M", "man": "M", "jongen": "M", "v": "V", "vrouw": "V", "meisje": "V", "f": "V"}


@dataclass
class Checked:
    row: int
    pre_registration_id: str | None = None
    instellingsnummer: str | None = None
    body: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


def _identity(values: Mapping[str, str], number: str | None, born: date | None) -> str:
    digits = insz.normalize(values.get("rijksregisternummer"))
    if digits:
        who = f"insz:{digits}"
    else:
        name = f"{values.get('naam', '')}|{values.get('voornaam', '')}".casefold()
        who = f"naam:{unicodedata.normalize('NFC', ' '.join(name.split()))}|{born}"
    return f"{number}|{values.get('schooljaar', '').strip()}|{who}"


def validate(rows: Iterable[Row], instellingsnummers: Iterable[str]) -> list[Checked]:
    allowed = set(instellingsnummers)
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        v = row.values
        checked = Checked(row.number)
        problems = checked.problems
        for column, (_, required) in COLUMNS.items():
            if (
                required
                and column not in ("thuisloos", "trekkende_bevolking", "indicatorleerling")
                and not v.get(column)
            ):
                problems.append(f"{column} ontbreekt")
        number = v.get("instellingsnummer", "").strip()
        if number and number not in allowed:
            problems.append(f"instellingsnummer {number} valt buiten de toegang van deze koppeling")
        year = v.get("schooljaar", "")
        if year and not is_schooljaar(year):
            problems.append("schooljaar moet de vorm 2026-27 hebben")
        born = parse_date(v.get("geboortedatum", "")) if v.get("geboortedatum") else None
        if v.get("geboortedatum") and born is None:
            problems.append("geboortedatum is geen geldige datum (dd/mm/jjjj)")
        start = parse_date(v.get("startdatum", "")) if v.get("startdatum") else None
        if v.get("startdatum") and start is None:
            problems.append("startdatum is geen geldige datum (dd/mm/jjjj)")
        if born and not date(1990, 1, 1) <= born <= date.today():
            problems.append("geboortedatum ligt niet in een mogelijke periode")
        sex = SEX.get(v.get("geslacht", "").strip().lower())
        if v.get("geslacht") and sex is None:
            problems.append("geslacht moet M of V zijn")
        number_insz = v.get("rijksregisternummer", "")
        if number_insz and not insz.is_valid(number_insz):
            problems.append("rijksregisternummer is ongeldig (controlegetal klopt niet)")
        flags = {}
        for column in ("thuisloos", "trekkende_bevolking", "indicatorleerling"):
            raw = v.get(column, "").strip().lower()
            if raw in YES:
                flags[column] = True
            elif raw in NO:
                flags[column] = False
            else:
                problems.append(f"{column} moet ja of nee zijn")
        identity = _identity(v, number, born)
        pre_id = str(uuid.uuid5(ID_NAMESPACE, identity))
        if not problems and pre_id in seen:
            problems.append(f"dubbel in het bestand: dezelfde leerling als rij {seen[pre_id]}")
        if not problems:
            seen[pre_id] = row.number
            checked.pre_registration_id = pre_id
            checked.instellingsnummer = number
            checked.body = {
                "preRegistrationId": pre_id,
                "institute": number,
                "schoolyear": year,
                "lastName": v["naam"],
                "firstName": v["voornaam"],
                "dateOfBirth": born.isoformat(),
                "sex": sex,
                "nationalRegistrationNo": insz.normalize(number_insz),
                "countryOfBirthCode": v["geboorteland"].upper(),
                "nationalityCode": v["nationaliteit"].upper(),
                "isHomeless": flags["thuisloos"],
                "migrating": flags["trekkende_bevolking"],
                "isIndicatorPupil": flags["indicatorleerling"],
                "structure": v["structuur"],
                "locationId": v["vestiging"],
                "admgrpId": v["administratieve_groep"],
                "startDate": start.isoformat(),
                "registrationStatus": v["status"],
                "relations": [
                    {
                        "lastName": v["ouder_naam"],
                        "firstName": v["ouder_voornaam"],
                        "type": v.get("ouder_relatie") or None,
                    }
                ],
            }
        out.append(checked)
    return out
