"""The Personeel API of the sandbox: staff, their assignments, interruptions and own fields,
answered as bare arrays. ``employees`` and ``employees/{personId}`` ask ``Api-Version: 2``."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..people import schooljaar_bounds
from ..state import API_PREFIXES, ApiError, SandboxState, State
from .common import authorize, instelling, listing, schooljaar_param

router = APIRouter(prefix=API_PREFIXES["personeel"])


def _version_2(request: Request) -> None:
    if request.headers.get("Api-Version") != "2":
        raise ApiError(400, "This call needs the header Api-Version: 2", "API_VERSION")


@router.get("/employees")
async def employees(request: Request, state: State):
    _, number = authorize(state, request, "personeel")
    _version_2(request)
    schooljaar_param(state, request)
    return listing(state, request, None, instelling(state, number).employees, "pPersoon")


def _assignments(state: SandboxState, request: Request, number: str) -> Response:
    return listing(state, request, None, instelling(state, number).assignments, "id")


def _interruptions(state: SandboxState, request: Request, number: str) -> Response:
    """Those that overlap the schooljaar asked: they end on or after its first day and begin on
    or before its last (the PHP client's description of the filter)."""
    start, _ = schooljaar_bounds(schooljaar_param(state, request))
    first, last = start.isoformat(), date(start.year + 1, 8, 31).isoformat()
    records = [
        r
        for r in instelling(state, number).interruptions
        if r["einddatum"][:10] >= first and r["begindatum"][:10] <= last
    ]
    return listing(state, request, None, records, "doId")


def _own_fields(state: SandboxState, request: Request, number: str) -> Response:
    return listing(state, request, None, instelling(state, number).own_fields, "vvId")


# the listings below employees/, by their name in lower case: public code spells own fields
# "OwnFields" (the PHP client) and "ownfields" (MySchool), so the name is matched in any case
LISTINGS = {
    "assignments": _assignments,
    "interruptions": _interruptions,
    "ownfields": _own_fields,
}


@router.get("/employees/{name}")
async def employee_or_listing(request: Request, name: str, state: State):
    """A listing of employees/ by name, else one employee by personId (BR014 when unknown)."""
    _, number = authorize(state, request, "personeel")
    serve = LISTINGS.get(name.lower())
    if serve is not None:
        schooljaar_param(state, request)
        return serve(state, request, number)
    _version_2(request)
    for record in instelling(state, number).employees:
        if record["personId"] == name:
            return record
    raise ApiError(404, "Geen personeelslid voor deze personId", "BR014")
