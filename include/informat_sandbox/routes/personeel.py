"""The Personeel API of the sandbox: staff and their assignments, answered as bare arrays, on
``Api-Version: 2`` as public code asks it."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..state import API_PREFIXES, ApiError, State
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


@router.get("/employees/assignments")
async def assignments(request: Request, state: State):
    _, number = authorize(state, request, "personeel")
    schooljaar_param(state, request)
    return listing(state, request, None, instelling(state, number).assignments, "id")


@router.get("/employees/{person_id}")
async def employee(request: Request, person_id: str, state: State):
    _, number = authorize(state, request, "personeel")
    _version_2(request)
    for record in instelling(state, number).employees:
        if record["personId"] == person_id:
            return record
    raise ApiError(404, "Geen personeelslid voor deze personId", "BR014")
