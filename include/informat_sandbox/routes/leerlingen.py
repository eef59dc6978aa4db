"""The Leerlingen API of the sandbox: students, registrations and voorinschrijvingen."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import preregistrations as rules
from ..state import API_PREFIXES, ApiError, State, json_body
from .common import authorize, instelling, listing, schooljaar_param

router = APIRouter(prefix=API_PREFIXES["leerlingen"])


def _changed_since(state, since: str | None, inst, kind: str, key: str, records: list[dict]):
    """Only the records changed since ``since`` (delta reads); all without it."""
    if not since:
        return records
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise ApiError(400, "changedSince is not an ISO-8601 date", "BR000") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    with state.lock:
        return [r for r in records if inst.changed.get(f"{kind}:{r[key]}", moment) >= moment]


@router.get("/students")
async def students(request: Request, state: State):
    _, number = authorize(state, request, "leerlingen")
    year = schooljaar_param(state, request)
    inst = instelling(state, number)
    records = inst.students if year in state.group.schooljaren else []
    since = request.query_params.get("changedSince")
    records = _changed_since(state, since, inst, "students", "pPersoon", records)
    if state.faults.bad_student_rows and records:
        records = _with_bad_rows(records, state.faults.bad_student_rows)
    return listing(state, request, "students", records, "pPersoon")


@router.get("/students/{person_id}")
async def student(request: Request, person_id: str, state: State):
    _, number = authorize(state, request, "leerlingen")
    schooljaar_param(state, request)
    for record in instelling(state, number).students:
        if record["persoonId"] == person_id:
            return {"student": record}
    raise ApiError(404, "Unknown student", "DNF001")


@router.get("/registrations")
async def registrations(request: Request, state: State):
    _, number = authorize(state, request, "leerlingen")
    year = schooljaar_param(state, request)
    inst = instelling(state, number)
    records = inst.registrations if year == state.schooljaar else []
    since = request.query_params.get("changedSince")  # a date here (public code), not a moment
    since = f"{since[:10]}T00:00:00+00:00" if since else None
    records = _changed_since(state, since, inst, "registrations", "inschrijvingsId", records)
    return listing(state, request, "registrations", records, "pInschr")


@router.post("/preregistrations/save")
async def save_preregistration(request: Request, state: State):
    _, number = authorize(state, request, "voorinschrijvingen")
    body = await json_body(request)
    unknown = sorted(set(rules.unknown_keys(body)))
    codes = rules.problems(body)
    if not codes and str(body.get("institute")) != number:
        codes = ["BR035B"]  # not the instelling of the InstituteNo header
    with state.lock:
        state.stats["preregistration_unknown_keys"] += len(unknown)
        if codes:
            state.stats["preregistration_contract_errors"] += 1
    if codes:
        raise ApiError(400, "De voorinschrijving is ongeldig.", *codes)
    key = str(body["preRegistrationId"])
    with state.lock:
        store = instelling(state, number).preregistrations
        existing = store.get(key)
        if existing is None:
            store[key] = {"body": body, "status": "open", "saves": 1}
            state.stats["preregistrations_created"] += 1
        elif existing["status"] != "open":
            raise ApiError(400, "Wijzigen kan niet meer.", _changed_code(existing["status"]))
        elif existing["body"] == body:
            state.stats["preregistrations_repeated"] += 1
        elif any(existing["body"].get(k) != body.get(k) for k in rules.PERSONAL_KEYS):
            raise ApiError(400, "Wijzigen kan niet.", "MNA005")
        else:
            existing.update(body=body, saves=existing["saves"] + 1)
            state.stats["preregistrations_changed"] += 1
        status = store[key]["status"]
    return {"preRegistrationStatus": {"preRegistrationId": key, "status": status}}


@router.get("/preregistrations/{pre_id}/status")
async def preregistration_status(request: Request, pre_id: str, state: State):
    _, number = authorize(state, request, "voorinschrijvingen")
    existing = instelling(state, number).preregistrations.get(pre_id)
    if existing is None:
        raise ApiError(404, "Geen inschrijving gevonden.", "DNF001")
    return {"preRegistrationStatus": {"preRegistrationId": pre_id, "status": existing["status"]}}


@router.delete("/preregistrations/{pre_id}")
async def delete_preregistration(request: Request, pre_id: str, state: State):
    _, number = authorize(state, request, "voorinschrijvingen")
    with state.lock:
        store = instelling(state, number).preregistrations
        existing = store.get(pre_id)
        if existing is None:
            raise ApiError(404, "Geen inschrijving gevonden.", "DNF001")
        if existing["status"] != "open":
            code = "MNA003" if existing["status"] == "geaccepteerd" else "MNA004"
            raise ApiError(400, "Verwijderen kan niet meer.", code)
        del store[pre_id]
    return Response(status_code=204)


def _changed_code(status: str) -> str:
    return "MNA001" if status == "geaccepteerd" else "MNA002"


def _with_bad_rows(records: list[dict], count: int) -> list[dict]:
    """Seeded bad data: wrong INSZ check digits, an unknown sex code, and a duplicated person."""
    out = [dict(r) for r in records]
    for index in range(min(count, len(out))):
        bad = out[index]
        number = bad.get("rijksregisternr")
        if number:
            bad["rijksregisternr"] = number[:9] + f"{(int(number[9:]) + 1) % 100:02d}"
        bad["geslacht"] = "X"
    duplicate = dict(out[-1])
    duplicate["pPersoon"] = out[-1]["pPersoon"] + 10_000_000
    out.append(duplicate)  # same persoonId twice
    return out
