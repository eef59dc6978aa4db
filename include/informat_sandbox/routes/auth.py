"""The identity server's token endpoint: OAuth2 client credentials with scopes."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..state import LEERLINGEN_FAMILIES, SCOPE_PREFIX, State, TokenInfo
from .common import allowed_scopes

router = APIRouter()


@router.post("/connect/token")
async def token(request: Request, state: State):
    form = await request.form()
    client = state.group.clients.get(str(form.get("client_id") or ""))
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if client is None or not secrets.compare_digest(
        str(form.get("client_secret") or ""), client.client_secret
    ):
        return JSONResponse({"error": "invalid_client"}, status_code=400)
    requested = frozenset(str(form.get("scope") or "").split())
    allowed = allowed_scopes(client)
    unscoped = not requested
    if unscoped:
        # asked with no scope at all (as one public sync does): the client's other grants, but
        # no rights on the Leerlingen API (the current API's rule)
        leerlingen = tuple(SCOPE_PREFIX[f] for f in LEERLINGEN_FAMILIES)
        requested = frozenset(s for s in allowed if not s.startswith(leerlingen))
    if not requested <= allowed:
        return JSONResponse(
            {"error": "invalid_scope", "error_description": "scope not granted"},
            status_code=400,
        )
    value = secrets.token_urlsafe(32)
    with state.lock:
        state.tokens[value] = TokenInfo(
            client.client_id, requested, time.monotonic() + state.token_lifetime, unscoped=unscoped
        )
        state.stats["tokens"] += 1
    return {
        "access_token": value,
        "token_type": "Bearer",
        "expires_in": int(state.token_lifetime),
        "scope": " ".join(sorted(requested)),
    }
