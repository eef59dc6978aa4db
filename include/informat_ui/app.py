"""The FastAPI app of the Informat page, mounted by the plugin in Airflow's API server under
``/informat``. Every endpoint needs a user logged in to Airflow with read access to DAGs
(Airflow's own auth manager, through the JWT cookie its UI sets or a bearer token): plugin
endpoints are not protected unless one makes them so."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

PREFIX = "/informat"


def language(lang: str | None) -> str:
    """``?lang=`` first, then ``INFORMAT_UI_LANGUAGE``, then Dutch."""
    chosen = lang or os.environ.get("INFORMAT_UI_LANGUAGE", "nl")
    return chosen if chosen in ("nl", "en") else "nl"


class LazyApp:
    """The ASGI app the plugin registers: the FastAPI app is built on the first request. Airflow
    loads plugins in every task process too (for macros and listeners), where importing FastAPI
    and Airflow's API security (about 1.4 s) would be paid for nothing."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = create_app()
        await self._app(scope, receive, send)


def create_app() -> Any:
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from fastapi import Depends, FastAPI, HTTPException, Query
    from fastapi.responses import HTMLResponse, Response

    app = FastAPI(
        title="Informat",
        dependencies=[Depends(requires_access_dag("GET"))],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.get("/", response_class=HTMLResponse)
    def overview(lang: str | None = Query(None)) -> HTMLResponse:
        from .page import render
        from .sources import sections

        page = render(sections(date.today()), language(lang))
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @app.get("/report/{day}", response_class=HTMLResponse)
    def extraction_report(day: str) -> HTMLResponse:
        from .sources import extraction_report

        body = extraction_report(day)
        if body is None:
            raise HTTPException(404, "no report for that day")
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    @app.get("/inschrijvingen/report")
    def push_report(key: str = Query(...)) -> Response:
        from .sources import push_report

        body = push_report(key)
        if body is None:
            raise HTTPException(404, "no such report")
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Cache-Control": "no-store", "Content-Disposition": "attachment"},
        )

    return app
