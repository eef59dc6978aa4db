"""Validating the rows of a dropped file and turning each valid one into the body of a
voorinschrijving, in the keys and codes of the contract (``Relationships``, ``sex`` 1/2,
5-character country codes, ``structure`` 211/311, ``locationId`` 001, ``registrationStatus``
0/1, ``preRegistrationDate``). The words a school writes become codes through ``codes``.

The ``preRegistrationId`` of a row is derived from the row's identity (instelling, schooljaar
and INSZ, or name and birth date without one), so a retry, a rerun or the same file dropped
twice never creates a second voorinschrijving, and a corrected row (same pupil) changes the
voorinschrijving it made before."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from informat_client import insz
from informat_client.schooljaar import is_valid as is_schooljaar

from . import codes
from .csvfile import COLUMNS, Row, parse_date, parse_moment

MIN_ID_KEY_BYTES = 32


def pre_registration_id(identity: str, key: bytes) -> str:
    """The same pupil at the same instelling always gets the same id, keyed with the school
    group's secret (an HMAC): with a public namespace anyone who knows a child's INSZ could
    compute its id and recognise it in a report or a ledger."""
    if len(key) < MIN_ID_KEY_BYTES:
        raise ValueError(f"the key of preRegistrationIds must be at least {MIN_ID_KEY_BYTES} bytes")
    digest = hmac.new(key, identity.encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))  # Informat takes a UUID


FLAGS = {"thuisloos": "isHomeless", "trekkende_bevolking": "migrating",
         "indicatorleerling": "isIndicatorPupil"}  # fmt: skip
ADDRESS = ("straat", "huisnummer", "postcode", "gemeente")


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


class _Fields:
    """Reads one row's cells into typed values, collecting a Dutch problem per bad cell. A
    problem names the column, never the cell's value."""

    def __init__(self, values: Mapping[str, str], country_codes: Mapping[str, str]) -> None:
        self.v = values
        self.country_codes = country_codes
        self.problems: list[str] = []

    def cell(self, column: str) -> str:
        return (self.v.get(column) or "").strip()

    def required(self, column: str) -> str:
        value = self.cell(column)
        if not value:
            self.problems.append(f"{column} ontbreekt")
        return value

    def name(self, column: str, limit: int, required: bool = True) -> str | None:
        value = self.required(column) if required else self.cell(column)
        problem = codes.name_problem(value, limit) if value else None
        if problem:
            self.problems.append(f"{column} {problem}")
        return value or None

    def coded(self, column: str, convert, hint: str, required: bool = True) -> Any:
        value = self.required(column) if required else self.cell(column)
        if not value:
            return None
        coded = convert(value)
        if coded is None:
            self.problems.append(f"{column}: {hint}")
        return coded

    def country(self, column: str, required: bool = True) -> str | None:
        value = self.required(column) if required else self.cell(column)
        if not value:
            return None
        coded = codes.country(value, self.country_codes)
        if coded is None:  # unknown, ambiguous or stateless: each has its own reason
            self.problems.append(f"{column}: {codes.country_problem(value)}")
        return coded

    def day(self, column: str, required: bool = True) -> date | None:
        return self.coded(column, parse_date, "geen geldige datum (dd/mm/jjjj)", required)

    def short(self, column: str, limit: int) -> str | None:
        value = self.cell(column)
        if len(value) > limit:
            self.problems.append(f"{column} is langer dan {limit} tekens")
        return value or None

    def email(self, column: str) -> str | None:
        value = self.cell(column)
        if value and ("@" not in value or " " in value or "." not in value.split("@")[-1]):
            self.problems.append(f"{column} is geen geldig e-mailadres")
        return value or None

    def insz(self, column: str) -> str | None:
        value = self.cell(column)
        if value and not insz.is_valid(value):
            self.problems.append(f"{column} is ongeldig (controlegetal klopt niet)")
        return insz.normalize(value) if value else None


def _parent(f: _Fields, n: int) -> dict[str, Any] | None:
    """Parent ``n`` as an item of ``Relationships``; None when the row names no such parent."""
    prefix = f"ouder{n}_"
    if n == 2 and not any(f.cell(c) for c in COLUMNS if c.startswith(prefix)):
        return None
    parent = {
        "type": f.coded(prefix + "relatie", codes.relationship, "onbekende relatie (vader, "
                        "moeder, plusvader, plusmoeder, voogd, grootvader, grootmoeder, "
                        "pleegvader, pleegmoeder)"),
        "lastName": f.name(prefix + "naam", 50),
        "firstName": f.name(prefix + "voornaam", 30),
        "phone": f.short(prefix + "telefoon", 20),
        "mobilePhone": f.short(prefix + "gsm", 20),
        "email": f.email(prefix + "email"),
        "insz": f.insz(prefix + "rijksregisternummer"),
    }  # fmt: skip
    if any(f.cell(prefix + c) for c in (*ADDRESS, "bus", "land")):
        parent["Address"] = {
            "streetName": f.required(prefix + "straat") or None,
            "houseNo": f.required(prefix + "huisnummer") or None,
            "houseBusNo": f.short(prefix + "bus", 6),
            "postalCode": f.required(prefix + "postcode") or None,
            "city": f.required(prefix + "gemeente") or None,
            "countryCode": f.country(prefix + "land", required=False) or "00150",
            "isDomicileAddress": True,
            "isWritingAddress": True,
            "isResidenceAddress": True,
        }
        for column, limit in (
            ("straat", 50),
            ("huisnummer", 10),
            ("postcode", 8),
            ("gemeente", 30),
        ):
            f.short(prefix + column, limit)
    return parent


def build(
    values: Mapping[str, str],
    allowed: set[str],
    country_codes: Mapping[str, str],
    now: datetime,
) -> tuple[dict[str, Any] | None, list[str]]:
    """The body of the voorinschrijving of one row, or None with the row's problems."""
    f = _Fields(values, country_codes)
    number = f.coded("instellingsnummer", lambda v: codes.padded(v, 6), "moet 6 cijfers zijn")
    if number and number not in allowed:
        f.problems.append(f"instellingsnummer {number} valt buiten de toegang van deze koppeling")
    year = f.required("schooljaar")
    if year and not is_schooljaar(year):
        f.problems.append("schooljaar moet de vorm 2026-27 hebben")
    born = f.day("geboortedatum")
    if born and not date(1990, 1, 1) <= born <= now.date():
        f.problems.append("geboortedatum ligt niet in een mogelijke periode")
    start = f.day("startdatum")
    flags = {}
    for column, key in FLAGS.items():
        flags[key] = codes.flag(f.cell(column))
        if flags[key] is None:
            f.problems.append(f"{column} moet ja of nee zijn")
    moment = f.coded("datum_voorinschrijving", parse_moment, "geen geldige datum", False)
    body = {
        "schoolyear": year,
        "institute": number,
        "structure": f.coded("structuur", codes.structure, "gebruik basis, secundair of de "
                             "code van 3 cijfers (211, 311)"),
        "locationId": f.coded("vestiging", lambda v: codes.padded(v, 3), "gebruik het "
                              "vestigingsnummer (1 of 001)"),
        "admgrpId": f.coded("administratieve_groep", lambda v: codes.padded(v, 6), "moet het "
                            "officiële nummer van 6 cijfers zijn"),
        "startDate": start.isoformat() if start else None,
        "registrationStatus": f.coded("status", codes.status, "gebruik gerealiseerd of niet "
                                      "gerealiseerd"),
        "lastName": f.name("naam", 50),
        "firstName": f.name("voornaam", 50),
        "additionalNames": f.name("bijkomende_voornamen", 160, required=False),
        "dateOfBirth": born.isoformat() if born else None,
        "countryOfBirthCode": f.country("geboorteland"),
        "placeOfBirth": f.short("geboorteplaats", 50),
        "nationalityCode": f.country("nationaliteit"),
        "sex": f.coded("geslacht", codes.sex, "gebruik M of V"),
        "insz": f.insz("rijksregisternummer"),
        "email": f.email("email"),
        "mobilePhone": f.short("gsm", 20),
        "remark": f.short("opmerking", 500),
        **flags,
    }  # fmt: skip
    parents = [p for p in (_parent(f, 1), _parent(f, 2)) if p is not None]
    if f.problems:
        return None, f.problems
    # the moment of the pre-registration: the file's, else now; never after the start date
    when = moment or now.replace(tzinfo=None)
    body["preRegistrationDate"] = min(when, datetime.combine(start, time())).strftime(
        "%Y-%m-%dT%H:%M"
    )
    body["Relationships"] = [_without_nulls(p) for p in parents]
    return _without_nulls(body), []


def _without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    """The keys that have a value (nested objects too): an absent key is what Informat gets."""
    return {
        k: _without_nulls(v) if isinstance(v, dict) else v
        for k, v in value.items()
        if v is not None
    }


def validate(
    rows: Iterable[Row],
    instellingsnummers: Iterable[str],
    *,
    id_key: bytes,
    country_codes: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> list[Checked]:
    allowed = set(instellingsnummers)
    now = now or datetime.now()
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        checked = Checked(row.number)
        if row.extra_cells:
            checked.problems = ["de rij heeft meer cellen dan de kopregel kolommen heeft"]
            out.append(checked)
            continue
        body, checked.problems = build(row.values, allowed, country_codes or {}, now)
        if body is None:
            out.append(checked)
            continue
        number = body["institute"]
        born = date.fromisoformat(body["dateOfBirth"])
        pre_id = pre_registration_id(_identity(row.values, number, born), id_key)
        if pre_id in seen:
            checked.problems.append(
                f"dubbel in het bestand: dezelfde leerling als rij {seen[pre_id]}"
            )
        else:
            seen[pre_id] = row.number
            checked.pre_registration_id = pre_id
            checked.instellingsnummer = number
            checked.body = {"preRegistrationId": pre_id, **body}
        out.append(checked)
    return out
