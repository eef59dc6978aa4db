"""The Personeel API of the sandbox: staff and their assignments."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..state import API_PREFIXES, ApiError, State
from .common import authorize, instelling, listing

router = APIRouter(prefix=API_PREFIXES["personeel"])


@router.get("/employees")
async def employees(request: Request, state: State):
    _, number = authorize(state, request, "personeel")
    return listing(state, request, "employees", instelling(state, number).employees, "pPersoon")


@router.get("/employees/assignments")
async def assignments(request: Request, state: State):
    _, number = authorize(state, request, "personeel")
    return listing(
        state, request, "assignments", instelling(state, number).assignments, "pOpdracht"
    )


@router.get("/employees/{employee_id}")
async def employee(request: Request, employee_id: str, state: State):
    _, number = authorize(state, request, "personeel")
    for record in instelling(state, number).employees:
        if record["persoonId"] == employee_id or str(record["pPersoon"]) == employee_id:
            return record
    raise ApiError(404, "Unknown employee", "EMPLOYEE_UNKNOWN")
