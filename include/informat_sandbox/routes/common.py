"""What every API route of the sandbox shares: who is calling (token, scope, instelling), the
schooljaar asked for, a toegangsgroep's access rules, and listings as Informat answers them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from datetime import datetime

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from .. import data as seed_data
from ..state import LEERLINGEN_FAMILIES, SCOPE_PREFIX, ApiError, SandboxState


def authorize(
    state: SandboxState, request: Request, family: str, toegangsgroep: str | None = None
) -> tuple[seed_data.Client, str]:
    """The calling client and the instelling of its ``InstituteNo`` header, once the bearer token
    is valid and holds the scope ``family`` needs for that instelling (Rekeningen: the instelling's
    scope or the toegangsgroep's literal one) and the request carries its ``Timestamp``."""
    header = request.headers.get("Authorization", "")
    if not header[:7].lower() == "bearer ":
        raise ApiError(401, "No access token", "TOKEN_MISSING")
    with state.lock:
        info = state.tokens.get(header[7:])
        if info is None:
            raise ApiError(401, "Invalid access token", "TOKEN_INVALID")
        info.calls += 1
        limit = state.faults.token_expires_after_calls
        if time.monotonic() >= info.expires_at or (limit and info.calls > limit):
            raise ApiError(401, "Access token expired", "TOKEN_EXPIRED")
    timestamp(request)
    number = request.headers.get("InstituteNo")
    if not number:
        raise ApiError(400, "Header InstituteNo is required", "INSTITUTENO_MISSING")
    if info.unscoped and family in LEERLINGEN_FAMILIES:
        raise ApiError(
            403,
            "A token asked without scope has no rights on the Leerlingen API: ask the scope "
            f"{SCOPE_PREFIX[family]}{number}",
            "SCOPE_MISSING",
        )
    granted = SCOPE_PREFIX[family] + number in info.scopes
    if family == "rekeningen" and not granted:
        literals = {s for s in info.scopes if s.startswith(seed_data.scope_of(""))}
        granted = seed_data.scope_of(toegangsgroep) in literals if toegangsgroep else bool(literals)
    if not granted:
        raise ApiError(
            403, f"No access to instelling {number} with this token", "SCOPE_NOT_GRANTED"
        )
    return state.group.clients[info.client_id], number


def timestamp(request: Request) -> datetime:
    """The request's ``Timestamp`` header: the current API refuses a call without it (public
    code sends ``date("c")`` or ``toISOString()``: ISO-8601 with its offset or ``Z``)."""
    value = request.headers.get("Timestamp", "").strip()
    if not value:
        raise ApiError(
            400,
            "Header Timestamp is required (ISO-8601, UTC), e.g. 2026-12-02T10:15:00Z",
            "TIMESTAMP_MISSING",
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError(
            400,
            "Header Timestamp must be an ISO-8601 date and time with its offset, "
            "e.g. 2026-12-02T10:15:00Z",
            "TIMESTAMP_INVALID",
        )
    return moment


def instelling(state: SandboxState, number: str) -> seed_data.Instelling:
    inst = state.group.instellingen.get(number)
    if inst is None:
        raise ApiError(404, f"Unknown instelling {number}", "INSTITUTE_UNKNOWN")
    return inst


def schooljaar_param(state: SandboxState, request: Request) -> str:
    params = request.query_params  # public clients send both spellings
    value = params.get("schoolYear") or params.get("schoolyear") or state.schooljaar
    if len(value) != 7 or value[4] != "-":
        raise ApiError(400, "schoolYear must look like 2024-25", "SCHOOLYEAR_INVALID")
    return value


def accessgroup(
    state: SandboxState, client: seed_data.Client, name: str, schooljaar: str | None
) -> seed_data.Toegangsgroep:
    group = state.group.toegangsgroepen.get(name)
    if group is None:
        raise ApiError(404, f"Unknown toegangsgroep {name}", "ACCESSGROUP_UNKNOWN")
    if name not in client.toegangsgroepen:
        raise ApiError(
            403,
            f"Toegangsgroep {name} is not granted to this client",
            "ACCESSGROUP_NOT_IN_SCOPE",
        )
    if not group.active:
        raise ApiError(403, f"Toegangsgroep {name} is not active", "ACCESSGROUP_INACTIVE")
    year = schooljaar or state.schooljaar
    if year not in group.carried_over:
        raise ApiError(
            403,
            f"Toegangsgroep {name} was not carried over to schooljaar {year}: "
            "log in on it via iRekeningen",
            "ACCESSGROUP_NOT_CARRIED_OVER",
        )
    return group


def listing(
    state: SandboxState, request: Request, key: str | None, records: list[dict], page_key: str
) -> Response:
    """A listing as Informat answers it: ``{"key": [...]}``, or a bare array when ``key`` is
    None, streamed in one answer (or, with ``pageSize``, in keyset pages: a sandbox option)."""
    params = request.query_params
    faults = state.faults
    if faults.drift:
        records = [drifted(r) for r in records]
    if params.get("pageSize"):
        size = int(params["pageSize"])
        after = params.get("after")
        with state.lock:
            if after and faults.listing_changes_between_pages:
                _change_listing(state, records, page_key)
            ordered = sorted(records, key=lambda r: r[page_key])
        if after:
            typed = type(ordered[0][page_key])(after) if ordered else after
            ordered = [r for r in ordered if r[page_key] > typed]
        page = ordered[:size]
        if key is None:
            return JSONResponse(page)
        return JSONResponse({key: page, "hasMore": len(ordered) > size})
    return StreamingResponse(
        _stream_json(key, records, cut=faults.take_truncate()),
        media_type="application/json",
    )


def allowed_scopes(client: seed_data.Client) -> frozenset[str]:
    per_instelling = {
        prefix + number for prefix in SCOPE_PREFIX.values() for number in client.instellingsnummers
    }
    return frozenset(per_instelling | {seed_data.scope_of(g) for g in client.toegangsgroepen})


def _change_listing(state: SandboxState, records: list[dict], page_key: str) -> None:
    """Between two pages: a new record appears before the cursor and one after it goes away,
    which makes naive offset paging repeat or skip a row."""
    if not records or not isinstance(records[0][page_key], int):
        return
    newcomer = dict(min(records, key=lambda r: r[page_key]))
    newcomer[page_key] = newcomer[page_key] - 1_000_000 - state.changed_listings
    records.insert(0, newcomer)
    state.changed_listings += 1


def _stream_json(key: str | None, records: Iterable[dict], cut: bool = False) -> Iterator[bytes]:
    """A listing as ``{"key": [...]}`` (or a bare array), produced in batches of records (and cut
    off when asked)."""
    records = list(records)  # a snapshot: the listing may change while it streams
    limit = len(records) // 2 if cut else len(records)
    yield ('{"' + key + '":[' if key else "[").encode()
    for start in range(0, limit, 500):
        text = ",".join(
            json.dumps(r, ensure_ascii=False) for r in records[start : min(start + 500, limit)]
        )
        yield ("," if start else "").encode() + text.encode()
    if cut:
        raise ConnectionAbortedError("sandbox: answer cut off on purpose")
    yield b"]}" if key else b"]"


# keys a newer guide version added (drift mode), and optional keys an answer may leave out
NEWER_KEYS = {"vaccinatieStatus": None, "voorkeurTaal": "nl", "laatstGewijzigd": None}
OPTIONAL_KEYS = ("voornaam2", "nickname", "initialen", "bisnr", "huisdokter", "telefoonHuisdokter")


def drifted(record: dict) -> dict:
    """A record as a newer guide version answers it: more keys, optional ones absent."""
    out = {k: v for k, v in record.items() if k not in OPTIONAL_KEYS}
    out.update(NEWER_KEYS)
    return out
