"""Typed errors that say in plain words what failed: which API, which instelling, which call,
the HTTP status and Informat's own error codes. They never carry a token or personal data."""

from __future__ import annotations

from collections.abc import Mapping

from .config import API_TITLES
from .masking import mask


class InformatError(Exception):
    """Base of every error the client raises."""

    retryable = False

    def __init__(  # noqa: PLR0913 - keyword-only facts of one Informat answer
        self,
        reason: str,
        *,
        api: str | None = None,
        instellingsnummer: str | None = None,
        call: str | None = None,
        status: int | None = None,
        codes: tuple[str, ...] = (),
        retry_after: float | None = None,
        messages: Mapping[str, str] | None = None,
    ) -> None:
        self.reason = mask(reason)
        self.api = api
        self.instellingsnummer = instellingsnummer
        self.call = call
        self.status = status
        self.codes = tuple(codes)
        # Informat's own message per code, as it answered it (what the code means there)
        self.messages = {code: mask(text) for code, text in (messages or {}).items()}
        self.retry_after = retry_after
        super().__init__(self.describe())

    def describe(self) -> str:
        """The error in words: where (API, instelling, call) and what (status, codes)."""
        where = []
        if self.api:
            where.append(API_TITLES.get(self.api, self.api))
        if self.instellingsnummer:
            where.append(f"instelling {self.instellingsnummer}")
        if self.call:
            where.append(self.call)
        text = ", ".join(where)
        detail = self.reason
        if self.status is not None:
            detail = f"HTTP {self.status}: {detail}"
        if self.codes:
            detail += f" (Informat code: {', '.join(self.codes)})"
        return f"{text}: {detail}" if text else detail


class InformatConfigError(InformatError):
    """The project's own configuration is wrong (unknown instelling, toegangsgroep, call)."""


class InformatAuthError(InformatError):
    """Credentials refused, or a token still refused after one renewal."""


class InformatForbiddenError(InformatError):
    """403: the instelling or toegangsgroep is outside the client's scopes, or not carried over."""


class InformatNotFoundError(InformatError):
    """404."""


class InformatGoneError(InformatError):
    """410: the resource (for example a PDF older than a year) no longer exists at Informat."""


class InformatRequestError(InformatError):
    """Another 4xx answer: the request itself is wrong; repeating it will not help."""


class InformatRateLimitError(InformatError):
    """429: too many requests; retried after ``Retry-After``."""

    retryable = True


class InformatServerError(InformatError):
    """5xx: Informat failed; retried."""

    retryable = True


class InformatConnectionError(InformatError):
    """No answer: connection refused or reset, or a timeout; retried."""

    retryable = True


class InformatBadResponseError(InformatError):
    """An answer that is not what the API promises: malformed JSON, an HTML page, a wrong content
    type, an empty body, or a stream cut off before its end."""
