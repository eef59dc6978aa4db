"""The FastAPI app of the Informat page, mounted by the plugin in Airflow's API server under
``/informat``. Every endpoint needs a user logged in to Airflow (Airflow's own auth manager,
through the JWT cookie its UI sets or a bearer token: 401 without one, 403 for a bad one); plugin
endpoints are not protected unless one makes them so. What the user then sees is what the auth
manager lets them read, per DAG (``access``): a section, or a report download, only for a user
who may read the DAG that wrote it, and 403 for one who may read none of them. Every answer
carries the headers of ``headers``."""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations, which name
# types imported inside create_app (Airflow is imported only when the app is built).
import os
from datetime import date
from typing import Annotated, Any

from .headers import REPORT_CSP, SecurityHeaders

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
    """The page's ASGI app: the FastAPI app inside :class:`SecurityHeaders`."""
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, FastAPI, HTTPException, Query
    from fastapi.responses import HTMLResponse, Response

    from . import access

    def readable(user: Annotated[BaseUser, Depends(get_user)]) -> frozenset[str]:
        """The page's DAGs the logged-in user may read (authentication first: 401/403)."""
        return access.readable_dags(user)

    Readable = Annotated[frozenset[str], Depends(readable)]

    def require(dag_id: str, dags: frozenset[str]) -> None:
        if dag_id not in dags:
            raise HTTPException(403, "Forbidden")

    app = FastAPI(
        title="Informat",
        dependencies=[Depends(get_user)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.get("/", response_class=HTMLResponse)
    def overview(dags: Readable, lang: str | None = Query(None)) -> HTMLResponse:
        from .page import CONTENT_SECURITY_POLICY, render
        from .sources import sections

        shown = access.shown_sections(dags)
        if not shown:
            raise HTTPException(403, "Forbidden")
        page = render(sections(date.today(), shown=shown), language(lang))
        return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    @app.get("/report/{day}", response_class=HTMLResponse)
    def extraction_report_frame(
        day: str, dags: Readable, lang: str | None = Query(None)
    ) -> HTMLResponse:
        """The report of a day inside a sandboxed frame of the page's own look."""
        from .page import CONTENT_SECURITY_POLICY, render_report_frame
        from .sources import is_day

        require(access.EXTRACT, dags)
        if not is_day(day):
            raise HTTPException(404, "no report for that day")
        page = render_report_frame(day, language(lang))
        return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    @app.get("/report/{day}/report.html", response_class=HTMLResponse)
    def extraction_report(day: str, dags: Readable) -> HTMLResponse:
        """The report itself (HTML from the data bucket): sandboxed, even when opened alone."""
        from .sources import extraction_report

        require(access.EXTRACT, dags)
        body = extraction_report(day)
        if body is None:
            raise HTTPException(404, "no report for that day")
        return HTMLResponse(body, headers={"Content-Security-Policy": REPORT_CSP})

    @app.get("/inschrijvingen/report")
    def push_report(dags: Readable, key: str = Query(...)) -> Response:
        from .sources import push_report

        require(access.PUSH, dags)
        body = push_report(key)
        if body is None:
            raise HTTPException(404, "no such report")
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": "attachment"},
        )

    return SecurityHeaders(app)
