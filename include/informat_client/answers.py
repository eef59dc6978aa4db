"""Reading Informat's answers: where a call goes, what an error answer says, JSON bodies and
streamed bodies. No state: the transport and the listing readers share these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from .errors import InformatBadResponseError, InformatError

STREAM_ERRORS = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)


class TruncatedError(InformatBadResponseError):
    """A body cut off before its end, read inside one attempt: safe to ask again."""

    retryable = True


@dataclass(frozen=True)
class Call:
    """Where a request goes and how it is described in logs and errors."""

    name: str
    api: str
    method: str
    url: str
    instellingsnummer: str
    label: str  # "GET /students"
    toegangsgroep: str | None = None  # Rekeningen: whose scope the call needs

    def error(self, cls: type[InformatError], reason: str, **kwargs: Any) -> InformatError:
        return cls(
            reason,
            api=self.api,
            instellingsnummer=self.instellingsnummer,
            call=self.label,
            **kwargs,
        )


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _lower_keys(value: Any) -> Any:
    return {str(k).lower(): v for k, v in value.items()} if isinstance(value, Mapping) else value


def error_details(response: requests.Response) -> tuple[str, tuple[str, ...], dict[str, str]]:
    """Informat's message, error codes and each code's own message, from an error answer of
    whatever shape. Key casing varies between Informat's API's: keys are read case-insensitively.
    """
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type:
        kind = "an HTML page" if "html" in content_type else f"'{content_type or 'no type'}'"
        return f"Informat answered {kind} instead of a JSON error", (), {}
    try:
        body = _lower_keys(response.json())
    except ValueError:
        return "Informat answered an unreadable JSON error", (), {}
    if not isinstance(body, Mapping):
        return "Informat answered an unexpected JSON error", (), {}
    message = str(body.get("message") or body.get("error_description") or body.get("error") or "")
    codes: list[str] = []
    messages: dict[str, str] = {}
    for item in body.get("errors") or body.get("validationerrors") or []:
        item = _lower_keys(item)
        if isinstance(item, Mapping):
            if item.get("code"):
                codes.append(str(item["code"]))
                if item.get("message"):
                    messages[str(item["code"])] = str(item["message"])
            if not message and item.get("message"):
                message = str(item["message"])
    if body.get("code"):
        codes.insert(0, str(body["code"]))
    if isinstance(body.get("error"), str) and not codes:
        codes.append(body["error"])
    return message or "no message", tuple(codes), messages


class ResponseReader:
    """A file-like view of a streamed response body for ijson."""

    HEAD = 64 * 1024

    def __init__(self, response: requests.Response, chunk_size: int = 64 * 1024) -> None:
        self._chunks = response.iter_content(chunk_size=chunk_size)
        self._buffer = b""
        self.bytes_read = 0
        self.head = b""  # the first bytes of the body: enough to tell an empty list from none

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                break
            self._buffer += chunk
            self.bytes_read += len(chunk)
            if len(self.head) < self.HEAD:
                self.head += chunk[: self.HEAD - len(self.head)]
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def check_json_type(response: requests.Response, call: Call) -> None:
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type:
        kind = "an HTML page" if "html" in content_type else f"'{content_type or 'no type'}'"
        response.close()
        raise call.error(
            InformatBadResponseError,
            f"expected JSON but Informat answered {kind}",
            status=response.status_code,
        )


def json_body(response: requests.Response, call: Call) -> Any:
    check_json_type(response, call)
    try:
        content = response.content
    except STREAM_ERRORS:
        raise call.error(TruncatedError, "the answer was cut off before its end") from None
    if not content.strip():
        raise call.error(InformatBadResponseError, "empty answer where JSON was expected")
    try:
        return response.json()
    except ValueError:
        declared = response.headers.get("Content-Length")
        if declared and int(declared) > len(content):
            raise call.error(TruncatedError, "the answer was cut off before its end") from None
        raise call.error(InformatBadResponseError, "malformed JSON in the answer") from None
