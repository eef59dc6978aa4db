"""The Leerlingen API of the sandbox: students, registrations and voorinschrijvingen."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .. import data as seed_data
from ..state import API_PREFIXES, ApiError, State, json_body
from .common import authorize, instelling, listing, schooljaar_param

router = APIRouter(prefix=API_PREFIXES["leerlingen"])

PREREGISTRATION_REQUIRED = (
    "lastName", "firstName", "dateOfBirth", "countryOfBirthCode", "nationalityCode", "sex",
    "isHomeless", "migrating", "isIndicatorPupil", "preRegistrationId", "schoolyear",
    "institute", "structure", "locationId", "admgrpId", "startDate", "registrationStatus",
)  # fmt: skip
# once a voorinschrijving is accepted, these can no longer be changed by an update
FROZEN_WHEN_ACCEPTED = ("lastName", "firstName", "dateOfBirth", "institute", "schoolyear")


@router.get("/students")
async def students(request: Request, state: State):
    _, number = authorize(state, request, "leerlingen")
    year = schooljaar_param(state, request)
    records = instelling(state, number).students if year in state.group.schooljaren else []
    last = request.query_params.get("lastName")
    first = request.query_params.get("firstName")
    if last or first:
        records = [
            r
            for r in records
            if (not last or r["naam"] == last) and (not first or r["voornaam"] == first)
        ]
    if state.faults.bad_student_rows and records:
        records = _with_bad_rows(records, state.faults.bad_student_rows)
    return listing(state, request, "students", records, "pPersoon")


@router.get("/students/{person_id}")
async def student(request: Request, person_id: str, state: State):
    _, number = authorize(state, request, "leerlingen")
    schooljaar_param(state, request)
    for record in instelling(state, number).students:
        if record["persoonId"] == person_id:
            return seed_data.student_detail(record, state.seed)
    raise ApiError(404, "Unknown student", "STUDENT_UNKNOWN")


@router.get("/registrations")
async def registrations(request: Request, state: State):
    _, number = authorize(state, request, "leerlingen")
    year = schooljaar_param(state, request)
    records = [r for r in instelling(state, number).registrations if r["schooljaar"] == year]
    return listing(state, request, "registrations", records, "pInschrijving")


@router.get("/preregistrations")
async def preregistrations(request: Request, state: State):
    _, number = authorize(state, request, "leerlingen")
    year = schooljaar_param(state, request)
    records = [
        r for r in instelling(state, number).preregistrations.values() if r["schoolyear"] == year
    ]
    return listing(state, request, "preregistrations", records, "preRegistrationId")


@router.post("/preregistrations/save")
async def save_preregistration(request: Request, state: State):
    _, number = authorize(state, request, "leerlingen")
    body = await json_body(request)
    problems = _preregistration_problems(body, number)
    if problems:
        codes = [code for code, _ in problems]
        text = "; ".join(message for _, message in problems)
        raise ApiError(400, f"Invalid voorinschrijving: {text}", *codes)
    key = str(body["preRegistrationId"])
    with state.lock:
        existing = instelling(state, number).preregistrations.get(key)
        if existing is not None:
            if _same_preregistration(existing, body):
                state.stats["preregistrations_repeated"] += 1
                return {**existing, "created": False}
            raise ApiError(
                409,
                "A different voorinschrijving with this preRegistrationId exists",
                "PREREGISTRATION_CONFLICT",
            )
        record = {
            **body,
            "pVoorinschrijving": len(instelling(state, number).preregistrations) + 1,
            "status": "ontvangen",
            "createdAt": datetime.now().isoformat(timespec="seconds"),
        }
        instelling(state, number).preregistrations[key] = record
        state.stats["preregistrations_created"] += 1
    return JSONResponse({**record, "created": True}, status_code=200)


@router.post("/preregistrations/{pre_id}/update")
async def update_preregistration(request: Request, pre_id: str, state: State):
    _, number = authorize(state, request, "leerlingen")
    body = await json_body(request)
    with state.lock:
        existing = instelling(state, number).preregistrations.get(pre_id)
        if existing is None:
            raise ApiError(404, "Unknown voorinschrijving", "PREREGISTRATION_UNKNOWN")
        if existing.get("registrationStatus") == "accepted":
            frozen = [k for k in FROZEN_WHEN_ACCEPTED if k in body and body[k] != existing[k]]
            if frozen:
                raise ApiError(
                    409,
                    f"Fields frozen once accepted: {', '.join(frozen)}",
                    "PREREGISTRATION_FROZEN",
                )
        body.pop("preRegistrationId", None)
        existing.update(body)
        return existing


def _preregistration_problems(body: dict[str, Any], number: str) -> list[tuple[str, str]]:
    problems = [
        (f"FIELD_REQUIRED_{name.upper()}", f"{name} is required")
        for name in PREREGISTRATION_REQUIRED
        if body.get(name) in (None, "")
    ]
    relations = body.get("relations") or []
    if not any(r.get("lastName") and r.get("firstName") for r in relations if isinstance(r, dict)):
        problems.append(("RELATION_REQUIRED", "at least one relation with last and first name"))
    if body.get("sex") not in (None, "", "M", "V"):
        problems.append(("SEX_INVALID", "sex must be M or V"))
    if body.get("institute") not in (None, "") and str(body["institute"]) != number:
        problems.append(("INSTITUTE_MISMATCH", "institute differs from the InstituteNo header"))
    for name in ("dateOfBirth", "startDate"):
        if body.get(name):
            try:
                date.fromisoformat(str(body[name]))
            except ValueError:
                problems.append((f"DATE_INVALID_{name.upper()}", f"{name} is not a date"))
    return problems


def _same_preregistration(existing: dict[str, Any], body: dict[str, Any]) -> bool:
    return all(existing.get(k) == v for k, v in body.items())


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
