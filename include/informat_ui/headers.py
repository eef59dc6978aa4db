"""The headers every answer of the Informat page's app carries (the page, the report downloads,
and errors, 401/403/404/500 included): no script and no framing by another site, no type
sniffing, nothing kept in a cache (the answers hold schools' data). An endpoint may set a stricter
or its own ``Content-Security-Policy`` (the page's style hash, a report's sandbox); the others are
added where the answer has none. Plain ASGI, around the whole app, so that the answers Starlette
makes itself (an error page) carry them too."""

from __future__ import annotations

from typing import Any

DEFAULT_CSP = "default-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
# A day's extraction report is HTML from the data bucket: sandboxed (no script, an origin of its
# own) wherever it is opened, and shown only in a frame of this origin.
REPORT_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'"

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", DEFAULT_CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """An ASGI app that adds :data:`HEADERS` to every HTTP answer of ``app`` that lacks them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in HEADERS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
