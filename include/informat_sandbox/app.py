"""The Informat sandbox: a local stand-in of the Informat API's that follows
``docs/informat-api.md``, with switchable fault injection.

Layout below one host: ``/connect/token``, ``/leerlingen/1/...``, ``/personeel/...``,
``/rekeningen/1/...``; the control plane lives under ``/_sandbox/...`` (no authentication: the
sandbox binds 127.0.0.1 only). One router per API in ``routes/``; they share the state through
``app.state.sandbox`` (the ``State`` dependency).
"""

from __future__ import annotations

from fastapi import FastAPI, Request

from . import middleware
from .routes import ROUTERS
from .state import ApiError, SandboxState


def create_app(state: SandboxState | None = None) -> FastAPI:
    """A sandbox app serving ``state`` (a fresh seeded one by default)."""
    state = state or SandboxState()
    app = FastAPI(title="Informat sandbox", docs_url="/_sandbox/docs", openapi_url=None)
    app.state.sandbox = state
    middleware.install(app, state)

    @app.exception_handler(ApiError)
    async def api_error_handler(request: Request, exc: ApiError):
        return exc.response

    for router in ROUTERS:
        app.include_router(router)
    return app
