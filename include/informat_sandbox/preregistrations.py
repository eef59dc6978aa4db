"""How Informat validates a voorinschrijving (``POST 1/preregistrations/save``), as far as its
public error codes tell: one table of rules, each answering a ``BR…`` code (whose Dutch message
is in ``informat_client.codes``)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, cast

from informat_client import insz

BODY_KEYS = frozenset(
    {
        "preRegistrationId", "schoolyear", "institute", "structure", "locationId", "admgrpId",
        "admgrpDetail", "preRegistrationDate", "startDate", "registrationStatus", "lastName",
        "firstName", "additionalNames", "dateOfBirth", "countryOfBirthCode", "nationalityCode",
        "placeOfBirth", "placeOfBirthCode", "sex", "insz", "eIdNo", "eIdPhoto", "mobilePhone",
        "email", "nameOfDoctor", "phoneOfDoctor", "firstLanguage", "isHomeless", "migrating",
        "isIndicatorPupil", "religion", "priorityGroup", "reasonForRefusal", "remark",
        "assignedViaRegistrationSystem", "Relationships",
    }
)  # fmt: skip
RELATION_KEYS = frozenset(
    {"type", "lastName", "firstName", "phone", "mobilePhone", "email", "insz", "Address"}
)
ADDRESS_KEYS = frozenset(
    {
        "streetName", "houseNo", "houseBusNo", "postalCode", "city", "countryCode",
        "isDomicileAddress", "isWritingAddress", "isResidenceAddress",
    }
)  # fmt: skip
RELATION_TYPES = frozenset({0, 13, 14, 5, 6, 2, 9, 10, 7, 8})
# what may not change once Informat knows the person (modelled: MNA005)
PERSONAL_KEYS = ("insz", "dateOfBirth")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Check = Callable[[Mapping[str, Any]], bool]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _missing(key: str) -> Check:
    return lambda body: body.get(key) in (None, "")


def _longer(key: str, limit: int) -> Check:
    return lambda body: len(_text(body.get(key))) > limit


def _length_not(key: str, length: int) -> Check:
    return lambda body: body.get(key) not in (None, "") and len(_text(body.get(key))) != length


def _date(value: Any, with_time: bool = False) -> date | None:
    try:
        if with_time:
            return datetime.strptime(_text(value), "%Y-%m-%dT%H:%M").date()
        return date.fromisoformat(_text(value))
    except ValueError:
        return None


def _bad_email(key: str) -> Check:
    return lambda body: body.get(key) not in (None, "") and not _EMAIL.match(_text(body[key]))


def _bad_insz(key: str) -> Check:
    return lambda body: body.get(key) not in (None, "") and not insz.is_valid(_text(body[key]))


def _not_int_in(key: str, allowed: frozenset[int] | tuple[int, ...]) -> Check:
    return lambda body: not (isinstance(body.get(key), int) and body[key] in allowed)


def _start_outside_schooljaar(body: Mapping[str, Any]) -> bool:
    start, year = _date(body.get("startDate")), _text(body.get("schoolyear"))
    if start is None or not re.fullmatch(r"\d{4}-\d{2}", year):
        return start is None and body.get("startDate") not in (None, "")
    first = date(int(year[:4]), 9, 1)
    if not first <= start <= date(int(year[:4]) + 1, 8, 31):
        return True
    return start.weekday() >= 5 and start != first  # no lessons start on a weekend


def _pre_date_not_before_start(body: Mapping[str, Any]) -> bool:
    pre, start = _date(body.get("preRegistrationDate"), True), _date(body.get("startDate"))
    return pre is not None and start is not None and pre > start


def _bad_guid(body: Mapping[str, Any]) -> bool:
    try:
        uuid.UUID(_text(body.get("preRegistrationId")))
    except ValueError:
        return True
    return False


def _bad_type(body: Mapping[str, Any]) -> bool:
    flags = ("isHomeless", "migrating", "isIndicatorPupil", "assignedViaRegistrationSystem")
    ints = ("sex", "registrationStatus", "religion", "priorityGroup", "reasonForRefusal")
    return (
        any(k in body and not isinstance(body[k], bool) for k in flags)
        or any(body.get(k) is not None and type(body[k]) is not int for k in ints)
        or not isinstance(body.get("Relationships", []), list)
    )


# (code, check) for the pupil's own keys, in Informat's order
RULES: tuple[tuple[str, Check], ...] = (
    ("BR000", _bad_type),
    ("BR001A", _missing("lastName")),
    ("BR001B", _longer("lastName", 50)),
    ("BR002A", _missing("firstName")),
    ("BR002B", _longer("firstName", 50)),
    ("BR003", _longer("additionalNames", 160)),
    ("BR004A", lambda b: _date(b.get("dateOfBirth")) is None),
    ("BR005A", _missing("countryOfBirthCode")),
    ("BR005B", _length_not("countryOfBirthCode", 5)),
    ("BR006A", _longer("placeOfBirthCode", 10)),
    ("BR007A", _longer("placeOfBirth", 50)),
    ("BR008A", _missing("nationalityCode")),
    ("BR008B", _length_not("nationalityCode", 5)),
    ("BR009", _not_int_in("sex", (1, 2))),
    ("BR010A", _bad_insz("insz")),
    ("BR011", _longer("eIdNo", 12)),
    ("BR012", _longer("mobilePhone", 20)),
    ("BR013", _bad_email("email")),
    ("BR014", _longer("nameOfDoctor", 100)),
    ("BR015", _longer("phoneOfDoctor", 20)),
    ("BR016", _longer("firstLanguage", 100)),
    ("BR020A", lambda b: len(b.get("Relationships") or []) > 2),
    ("BR033", _bad_guid),
    ("BR034A", _missing("schoolyear")),
    ("BR034B", lambda b: bool(b.get("schoolyear")) and not re.fullmatch(
        r"\d{4}-\d{2}", _text(b["schoolyear"]))),
    ("BR035A", _missing("institute")),
    ("BR035B", _length_not("institute", 6)),
    ("BR036A", _missing("structure")),
    ("BR036B", _length_not("structure", 3)),
    ("BR037A", _missing("locationId")),
    ("BR037B", _length_not("locationId", 3)),
    ("BR038A", _missing("admgrpId")),
    ("BR038B", _length_not("admgrpId", 6)),
    ("BR039", _longer("admgrpDetail", 200)),
    ("BR040A", lambda b: _date(b.get("preRegistrationDate"), True) is None),
    ("BR040B", _pre_date_not_before_start),
    ("BR041A", _missing("startDate")),
    ("BR041B", _start_outside_schooljaar),
    ("BR042", _not_int_in("registrationStatus", (0, 1))),
)  # fmt: skip
RELATION_RULES: tuple[tuple[str, Check], ...] = (
    ("BR021", _not_int_in("type", RELATION_TYPES)),
    ("BR022A", _missing("lastName")),
    ("BR022B", _longer("lastName", 50)),
    ("BR023A", _missing("firstName")),
    ("BR023B", _longer("firstName", 30)),
    ("BR030", _longer("phone", 20)),
    ("BR031", _longer("mobilePhone", 20)),
    ("BR032", _bad_email("email")),
    ("BR043A", _bad_insz("insz")),
)
ADDRESS_RULES: tuple[tuple[str, Check], ...] = (
    ("BR024A", _missing("streetName")),
    ("BR024B", _longer("streetName", 50)),
    ("BR025A", _missing("houseNo")),
    ("BR025B", _longer("houseNo", 10)),
    ("BR026", _longer("houseBusNo", 6)),
    ("BR027A", _missing("postalCode")),
    ("BR027B", _longer("postalCode", 8)),
    ("BR028A", _missing("city")),
    ("BR028B", _longer("city", 30)),
    ("BR029A", _missing("countryCode")),
    ("BR029B", _length_not("countryCode", 5)),
)


def problems(body: Mapping[str, Any]) -> list[str]:
    """The codes of every rule ``body`` breaks, in Informat's order (empty: valid)."""
    found = [code for code, check in RULES if check(body)]
    relations = cast(
        list[Any], body.get("Relationships") if isinstance(body.get("Relationships"), list) else []
    )
    for relation in relations:
        if not isinstance(relation, Mapping):
            found.append("BR000")
            continue
        found += [code for code, check in RELATION_RULES if check(relation)]
        address = relation.get("Address")
        if isinstance(address, Mapping):
            found += [code for code, check in ADDRESS_RULES if check(address)]
    return list(dict.fromkeys(found))


def unknown_keys(body: Mapping[str, Any]) -> Iterator[str]:
    """Every key of ``body`` (and its relations and addresses) that the contract does not know."""
    yield from (k for k in body if k not in BODY_KEYS)
    for relation in body.get("Relationships") or []:
        if isinstance(relation, Mapping):
            yield from (f"Relationships.{k}" for k in relation if k not in RELATION_KEYS)
            address = relation.get("Address")
            if isinstance(address, Mapping):
                yield from (f"Relationships.Address.{k}" for k in address if k not in ADDRESS_KEYS)
