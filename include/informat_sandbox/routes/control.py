"""The sandbox's control plane (``/_sandbox/...``): faults, reset, statistics, counts and
changes a school's administrator would make in Informat. No authentication: the sandbox binds
127.0.0.1 only."""

from __future__ import annotations

import asyncio
import random
from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from .. import data as seed_data
from ..faults import Faults
from ..state import State, error, json_body

router = APIRouter(prefix="/_sandbox")


@router.get("/health")
async def health(state: State):
    return {"status": "ok", "schooljaar": state.schooljaar}


@router.get("/faults")
async def get_faults(state: State):
    return state.faults.as_dict()


@router.put("/faults")
async def put_faults(request: Request, state: State):
    """Replace the faults in force (fields left out are switched off)."""
    body = await json_body(request)
    try:
        faults = Faults.from_dict(body)
    except (TypeError, ValueError) as exc:
        return error(400, str(exc), "FAULTS_INVALID")
    with state.lock:
        state.faults = faults
        state.rng = random.Random(state.seed)
    return faults.as_dict()


@router.post("/reset")
async def reset(request: Request, state: State):
    body = await json_body(request, empty_ok=True)
    changes: dict[str, Any] = {}
    if "today" in body:
        changes["today"] = date.fromisoformat(body["today"]) if body["today"] else None
    for key in ("seed", "students"):
        if key in body:
            changes[key] = int(body[key])
    for key in ("pdf_delay", "token_lifetime"):
        if key in body:
            changes[key] = float(body[key])
    await asyncio.to_thread(state.reset, **changes)
    return {"status": "reset", "schooljaar": state.schooljaar}


@router.get("/stats")
async def stats(state: State):
    with state.lock:
        return dict(state.stats)


@router.get("/counts")
async def counts(state: State):
    """What the sandbox holds, for tests and benchmarks to compare against."""
    group = state.group
    return {
        "schooljaren": list(group.schooljaren),
        "instellingen": {
            number: {
                "students": len(inst.students),
                "registrations": len(inst.registrations),
                "employees": len(inst.employees),
                "assignments": len(inst.assignments),
                "interruptions": len(inst.interruptions),
                "own_fields": len(inst.own_fields),
                "classes": len(inst.classes),
                "preregistrations": len(inst.preregistrations),
            }
            for number, inst in group.instellingen.items()
        },
        "toegangsgroepen": {
            name: {
                "invoices": {year: len(items) for year, items in g.invoices.items()},
                "carried_over": sorted(g.carried_over),
                "active": g.active,
                "payments": len(g.payments),
            }
            for name, g in group.toegangsgroepen.items()
        },
    }


@router.put("/accessgroups/{name}")
async def put_accessgroup(request: Request, name: str, state: State):
    """Change a toegangsgroep: ``carried_over`` (list of schooljaren), ``active``,
    ``users``, ``journals``."""
    group = state.group.toegangsgroepen.get(name)
    if group is None:
        return error(404, f"Unknown toegangsgroep {name}", "ACCESSGROUP_UNKNOWN")
    body = await json_body(request)
    with state.lock:
        if "carried_over" in body:
            group.carried_over = set(body["carried_over"])
        if "carry_over" in body:
            group.carried_over.add(body["carry_over"])
        if "active" in body:
            group.active = bool(body["active"])
        if "users" in body:
            group.users = list(body["users"])
        if "journals" in body:
            group.journals = list(body["journals"])
    return {
        "name": group.name,
        "carried_over": sorted(group.carried_over),
        "active": group.active,
        "users": group.users,
        "journals": group.journals,
    }


@router.get("/preregistrations/{number}")
async def list_preregistrations(number: str, state: State):
    """The voorinschrijvingen Informat holds for an instelling, as a school's secretariat sees
    them: status and the body as last saved."""
    inst = state.group.instellingen.get(number)
    if inst is None:
        return error(404, f"Unknown instelling {number}", "INSTITUTE_UNKNOWN")
    with state.lock:
        return {key: dict(value) for key, value in inst.preregistrations.items()}


@router.put("/preregistrations/{number}/{pre_id}")
async def decide_preregistration(request: Request, number: str, pre_id: str, state: State):
    """Accept or refuse a voorinschrijving, as a secretariat does in Informat:
    ``{"status": "geaccepteerd"}`` or ``{"status": "geweigerd"}``."""
    body = await json_body(request)
    status = body.get("status")
    if status not in ("open", "geaccepteerd", "geweigerd"):
        return error(400, "status must be open, geaccepteerd or geweigerd", "STATUS_INVALID")
    inst = state.group.instellingen.get(number)
    with state.lock:
        existing = inst.preregistrations.get(pre_id) if inst else None
        if existing is None:
            return error(404, "Geen inschrijving gevonden voor ID.", "DNF001")
        existing["status"] = status
    return {"preRegistrationId": pre_id, "status": status}


@router.post("/changes/{number}")
async def change_records(request: Request, number: str, state: State):
    """Change records between two runs, as a school's daily work does: ``{"students": N,
    "registrations": N, "new_students": N}`` (the first N of each, changed now). Answers which."""
    body = await json_body(request, empty_ok=True)
    inst = state.group.instellingen.get(number)
    if inst is None:
        return error(404, f"Unknown instelling {number}", "INSTITUTE_UNKNOWN")
    with state.lock:
        changed = seed_data.change(
            state.group,
            inst,
            students=int(body.get("students", 0)),
            registrations=int(body.get("registrations", 0)),
            new_students=int(body.get("new_students", 0)),
        )
    return changed


@router.post("/students/{number}/remove")
async def remove_students(request: Request, number: str, state: State):
    """A share of an instelling's students removed at once (``{"share": 0.4}``), as a mistaken
    mass unenrolment would: the change an extraction must hold for review. Answers which."""
    body = await json_body(request)
    if number not in state.group.instellingen:
        return error(404, f"Unknown instelling {number}", "INSTITUTE_UNKNOWN")
    try:
        share = float(body["share"])
        removed = state.remove_students(number, share)
    except (KeyError, TypeError, ValueError) as exc:
        return error(400, f"share: {exc}", "SHARE_INVALID")
    return {"removed": removed, "students": len(state.group.instellingen[number].students)}
