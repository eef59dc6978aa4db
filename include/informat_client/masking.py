"""The one logging filter of the project: masks personal data and secrets in log records.

Every module of the project gets its logger through :func:`get_logger`, which attaches the
filter; :func:`install` also attaches it to the handlers of the root logger, so records of other
libraries (urllib3, uvicorn, ...) that pass through those handlers are masked as well.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"

# INSZ / rijksregisternummer: YYMMDDxxxcc, often written YY.MM.DD-xxx.cc. Any 11-digit run of
# that shape is masked, whether its check digits are valid or not: over-masking is safe.
# Written in any of its forms: YYMMDDxxxcc, YY.MM.DD-xxx.cc, YYMMDD-xxx-cc, YY-MM-DD-xxx-cc,
# also right after a dot (a file name such as leerling.YYMMDDxxxcc.csv).
# The date part uses one separator throughout, so that an id such as F2026-0000123 stays readable.
_INSZ = re.compile(
    r"(?<!\d)(?:\d{2}([.\s]?)\d{2}\1\d{2}|\d{2}-\d{2}-\d{2})[-.\s]?\d{3}[-.\s]?\d{2}(?!\d)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*")
# key = value, "key": "value" and Python's 'key': 'value', also as escaped JSON inside a string
# (\"password\": \"...\") and URL-encoded (password%3D...); the key may end a longer name
# (POSTGRES_PASSWORD=, AIRFLOW_CONN_X_SECRET=, X-Api-Key:). In the value, a backslash that does not
# escape a quote is part of it.
_SECRET_KV = re.compile(
    r"(?i)(client_secret|access_token|refresh_token|password|passwd|secret|token|api[-_]?key)"
    r"(\\*[\"']?\s*(?:[:=]|%3[ad])\s*\\*[\"']?)((?:\\(?![\"'])|[^\s\"'&,}\\])+)"
)
# an Authorization header's whole value, whatever its scheme (Bearer, Basic, Token, a bare key)
_AUTHORIZATION = re.compile(
    r"(?i)\b((?:proxy-)?authorization\\*[\"']?\s*[:=]\s*\\*[\"']?)([^\r\n\"'\\,;}]+)"
)
# the password of a URL's user-info: scheme://user:secret@host (an Airflow connection URI)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^:/\s@]*:)([^@\s/]+)@")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")

_literals: set[str] = set()
_literals_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears (tokens and client secrets)."""
    if value and len(value) >= 6:
        with _literals_lock:
            _literals.add(value)


def mask(text: str) -> str:
    """Return ``text`` with INSZ numbers, bearer tokens, secrets and e-mail addresses masked."""
    if not text:
        return text
    with _literals_lock:
        literals = sorted(_literals, key=len, reverse=True)
    for literal in literals:
        if literal in text:
            text = text.replace(literal, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _AUTHORIZATION.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _SECRET_KV.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _EMAIL.sub(MASK, text)
    return _INSZ.sub(MASK, text)


class MaskingFilter(logging.Filter):
    """Rewrites a record's message (and exception text) with :func:`mask`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_informat_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # the traceback joins the message, masked, and the exception object is dropped: a
            # handler that renders exc_info itself (Airflow's structlog) would show it unmasked
            message = f"{message}\n{record.exc_text}"
            record.exc_info = None
            record.exc_text = None
        record.msg = mask(message)
        record.args = None
        record._informat_masked = True
        return True


_FILTER = MaskingFilter()


def get_logger(name: str) -> logging.Logger:
    """A logger with the masking filter attached; use it for every logger of the project."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def install(logger: logging.Logger | None = None) -> None:
    """Attach the masking filter to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
