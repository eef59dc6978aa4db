"""Fault injection in front of every API route: latency, a rate limit, random 429/5xx answers,
and scripted answers (malformed, HTML, empty, cut off)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterable
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from .faults import ScriptedFault
from .state import API_PREFIXES, ApiError, SandboxState, error


def install(app: FastAPI, state: SandboxState) -> None:
    """Put the fault injection in front of ``app``'s routes (the control plane is exempt)."""

    @app.middleware("http")
    async def faults_middleware(request: Request, call_next):
        path = request.url.path
        if path.startswith("/_sandbox"):
            return await call_next(request)
        faults = state.faults
        with state.lock:
            state.stats["requests"] += 1
            state.stats[f"{request.method} {_route_name(path)}"] += 1
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.rate_limit_rps:
            retry = _rate_limited(state, faults.rate_limit_rps)
            if retry is not None:
                state.stats["429"] += 1
                state.stats[f"429 {request.method} {_route_name(path)}"] += 1
                return error(
                    429,
                    "Too many requests",
                    "RATE_LIMIT",
                    headers={"Retry-After": str(max(1, math.ceil(retry)))},
                )
        scripted = faults.take_scripted(request.method, path)
        if scripted is not None:
            state.stats[f"scripted {scripted.status or scripted.answer}"] += 1
            return await _scripted_answer(scripted, request, call_next)
        if path.startswith(tuple(API_PREFIXES.values())):
            roll = state.rng.random()
            if roll < faults.rate_429:
                state.stats["429"] += 1
                return error(
                    429,
                    "Too many requests",
                    "RATE_LIMIT",
                    headers={"Retry-After": str(faults.retry_after_s)},
                )
            if roll < faults.rate_429 + faults.rate_5xx:
                state.stats["5xx"] += 1
                return error(faults.status_5xx, "Internal error", "INTERNAL")
        try:
            return await call_next(request)
        except ApiError as exc:  # pragma: no cover - handlers return their errors
            return exc.response


def _route_name(path: str) -> str:
    for api, prefix in API_PREFIXES.items():
        if path.startswith(prefix):
            parts = path[len(prefix) :].strip("/").split("/")
            return f"{api}/{parts[0]}" + ("/*" if len(parts) > 1 else "")
    return path


def _rate_limited(state: SandboxState, rps: float) -> float | None:
    """Sliding one-second window: None when the request may pass, else seconds to wait."""
    now = time.monotonic()
    with state.lock:
        window = state.window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= rps:
            return 1.0 - (now - window[0])
        window.append(now)
    return None


async def _scripted_answer(fault: ScriptedFault, request: Request, call_next) -> Response:
    if fault.delay_s:
        await asyncio.sleep(fault.delay_s)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    if fault.status:
        return error(fault.status, fault.message or "Injected fault", fault.code, headers=headers)
    answer = fault.answer
    if answer == "malformed_json":
        return Response(b'{"students": [{"pPersoon": 1,, ]', media_type="application/json")
    if answer == "html":
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        return Response(page, media_type="text/html")
    if answer == "wrong_content_type":
        return Response(b"students: none", media_type="text/plain")
    if answer == "empty":
        return Response(b"", media_type="application/json")
    if answer == "truncated":
        response = await call_next(request)
        if isinstance(response, StreamingResponse) or hasattr(response, "body_iterator"):
            return _truncated(response)
        return response
    return await call_next(request)  # "delay" only


def _truncated(response: StreamingResponse) -> Response:
    """Pass on the first half of the body, then drop the connection."""
    # the sandbox's routes stream str or bytes (Starlette's type allows memoryview too)
    source = cast("AsyncIterable[str | bytes]", response.body_iterator)

    async def half() -> Any:
        chunks = [chunk async for chunk in source]
        body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        yield body[: max(1, len(body) // 2)]
        raise ConnectionAbortedError("sandbox: answer cut off on purpose")

    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return StreamingResponse(half(), status_code=response.status_code, headers=headers)
