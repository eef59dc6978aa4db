"""A unit-test stand-in for Informat's hosts that records every request the client sends: a token
answer for the identity server, a small PDF for everything else. It is how a test proves that a
request was never sent (the sandbox runs on loopback http and cannot stand in for an https host)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import requests

BEARER = "recorded-bearer-token-value"


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    authorization: str | None
    body: str


class RecordingAdapter(requests.adapters.BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []

    def send(self, request, **kwargs):
        body = request.body or ""
        self.sent.append(
            Sent(
                request.method,
                request.url,
                request.headers.get("Authorization"),
                body.decode() if isinstance(body, bytes) else body,
            )
        )
        response = requests.Response()
        response.request = request
        response.url = request.url
        response.status_code = 200
        if request.url.endswith("/connect/token"):
            response.headers["Content-Type"] = "application/json"
            response.raw = io.BytesIO(
                json.dumps({"access_token": BEARER, "expires_in": 3600}).encode()
            )
        else:
            response.headers["Content-Type"] = "application/pdf"
            response.raw = io.BytesIO(b"%PDF-1.4 recorded")
        return response

    def close(self) -> None:
        pass


def recording_session() -> tuple[requests.Session, RecordingAdapter]:
    """A session whose every http:// and https:// request goes to one recording adapter."""
    adapter = RecordingAdapter()
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter
