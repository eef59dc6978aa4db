"""The Informat client: OAuth2 client credentials, retries with tenacity, streamed listings.

One client serves every instellingsnummer and toegangsgroep of a school group. It is thread-safe:
the token cache is locked and the HTTP session's pool is sized for concurrent callers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import ijson
import requests
import tenacity
from requests.adapters import HTTPAdapter

from . import masking
from .config import API_TITLES, LISTINGS, REKENINGEN, InformatConfig
from .errors import (
    InformatAuthError,
    InformatBadResponseError,
    InformatConfigError,
    InformatConnectionError,
    InformatError,
    InformatForbiddenError,
    InformatGoneError,
    InformatNotFoundError,
    InformatRateLimitError,
    InformatRequestError,
    InformatServerError,
)
from .ratelimit import RateLimiter

log = masking.get_logger(__name__)

_STREAM_ERRORS = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)


class _TruncatedError(InformatBadResponseError):
    """A body cut off before its end, read inside one attempt: safe to ask again."""

    retryable = True


@dataclass
class _Token:
    value: str
    expires_at: float


@dataclass(frozen=True)
class _Call:
    """Where a request goes and how it is described in logs and errors."""

    name: str
    api: str
    method: str
    url: str
    instellingsnummer: str
    label: str  # "GET /students"

    def error(self, cls: type[InformatError], reason: str, **kwargs: Any) -> InformatError:
        return cls(
            reason,
            api=self.api,
            instellingsnummer=self.instellingsnummer,
            call=self.label,
            **kwargs,
        )


def _retry_after_seconds(value: str | None) -> float | None:
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


def _error_details(response: requests.Response) -> tuple[str, tuple[str, ...]]:
    """Informat's message and error codes from an error answer, whatever shape it has."""
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type:
        kind = "an HTML page" if "html" in content_type else f"'{content_type or 'no type'}'"
        return f"Informat answered {kind} instead of a JSON error", ()
    try:
        body = response.json()
    except ValueError:
        return "Informat answered an unreadable JSON error", ()
    if not isinstance(body, Mapping):
        return "Informat answered an unexpected JSON error", ()
    message = str(body.get("message") or body.get("error_description") or body.get("error") or "")
    codes: list[str] = []
    for item in body.get("errors") or []:
        if isinstance(item, Mapping):
            if item.get("code"):
                codes.append(str(item["code"]))
            if not message and item.get("message"):
                message = str(item["message"])
    if body.get("code"):
        codes.insert(0, str(body["code"]))
    if isinstance(body.get("error"), str) and not codes:
        codes.append(body["error"])
    return message or "no message", tuple(codes)


class _ResponseReader:
    """A file-like view of a streamed response body for ijson."""

    def __init__(self, response: requests.Response, chunk_size: int = 64 * 1024) -> None:
        self._chunks = response.iter_content(chunk_size=chunk_size)
        self._buffer = b""
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                break
            self._buffer += chunk
            self.bytes_read += len(chunk)
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class InformatClient:
    """Client for the three Informat API's.

    ``sleep`` and ``clock`` are injectable so that tests can watch retries without waiting.
    ``on_secret`` is called with each new token, so that a host (Airflow) can mask it too.
    """

    def __init__(
        self,
        config: InformatConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_secret: Callable[[str], None] | None = None,
        pool_size: int = 16,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._on_secret = on_secret
        self._tokens: dict[frozenset[str], _Token] = {}
        self._token_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.stats = {"requests": 0, "retries": 0, "token_requests": 0, "token_renewals": 0}
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self._limiter = (
            RateLimiter(config.max_requests_per_second, sleep=sleep)
            if config.max_requests_per_second
            else None
        )
        masking.register_secret(config.client_secret)
        if on_secret:
            on_secret(config.client_secret)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> InformatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ tokens

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] += n

    def _scopes(self, api: str, instellingsnummer: str) -> frozenset[str]:
        if self.config.scopes:
            return frozenset(self.config.scopes)
        template = self.config.scope_templates[api]
        return frozenset({template.format(instellingsnummer=instellingsnummer)})

    def _token(self, scopes: frozenset[str], call: _Call, *, renew: bool = False) -> str:
        with self._token_lock:
            cached = self._tokens.get(scopes)
            margin = self.config.token_refresh_margin
            if cached and not renew and cached.expires_at - margin > time.monotonic():
                return cached.value
            if renew:
                self._count("token_renewals")
            try:
                token = self._retrying(lambda: self._fetch_token(scopes, call), call)
            except InformatError as exc:
                exc.retryable = False  # retried here already: the call around it must not repeat it
                raise
            self._tokens[scopes] = token
            return token.value

    def _fetch_token(self, scopes: frozenset[str], call: _Call) -> _Token:
        token_call = _Call(
            name="token",
            api=call.api,
            method="POST",
            url=self.config.token_url,
            instellingsnummer=call.instellingsnummer,
            label="token request",
        )
        self._count("token_requests")
        if self._limiter is not None:
            self._limiter.acquire()
        try:
            response = self._session.post(
                self.config.token_url,
                data={
                    "client_id": self.config.client_id,
                    "client_secret": self.config.client_secret,
                    "grant_type": "client_credentials",
                    "scope": " ".join(sorted(scopes)),
                },
                headers={"Accept": "application/json", "User-Agent": self.config.user_agent},
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            raise token_call.error(
                InformatConnectionError,
                f"the identity server did not answer ({type(exc).__name__})",
            ) from None
        if response.status_code != 200:
            message, codes = _error_details(response)
            status = response.status_code
            if status == 429 or status >= 500:
                cls = InformatRateLimitError if status == 429 else InformatServerError
                raise token_call.error(
                    cls,
                    "the identity server is not available",
                    status=status,
                    codes=codes,
                    retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
                )
            if "invalid_scope" in codes:
                raise token_call.error(
                    InformatForbiddenError,
                    f"scope not granted to this client: {' '.join(sorted(scopes))}",
                    status=status,
                    codes=codes,
                )
            raise token_call.error(
                InformatAuthError,
                f"the identity server refused the client credentials ({message})",
                status=status,
                codes=codes,
            )
        body = self._json_body(response, token_call)
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise token_call.error(InformatBadResponseError, "token answer has no access_token")
        value = str(body["access_token"])
        masking.register_secret(value)
        if self._on_secret:
            self._on_secret(value)
        lifetime = float(body.get("expires_in") or 3600)
        log.info(
            "%s: new access token for %d scope(s), valid %.0f s",
            API_TITLES.get(call.api, call.api),
            len(scopes),
            lifetime,
        )
        return _Token(value=value, expires_at=time.monotonic() + lifetime)

    def _forget_token(self, scopes: frozenset[str], value: str) -> None:
        with self._token_lock:
            cached = self._tokens.get(scopes)
            if cached and cached.value == value:
                del self._tokens[scopes]

    # ----------------------------------------------------------------- retries

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = tenacity.wait_random_exponential(
            multiplier=self.config.backoff_initial, max=self.config.backoff_max
        )(state)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            # honour Retry-After, with a little jitter so that parallel callers spread out
            return retry_after + min(backoff, 1.0) * 0.25
        return backoff

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self._count("retries")
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s; attempt %d of %d, retrying in %.1f s",
            exc,
            state.attempt_number,
            self.config.max_attempts,
            wait,
        )

    def _retrying(self, fn: Callable[[], Any], call: _Call, *, retry_on_all: bool = True) -> Any:
        """Run ``fn`` with exponential backoff and jitter, bounded in attempts and total time.

        Only retryable errors are repeated (429, 5xx, timeouts, connection errors, a cut-off
        body). With ``retry_on_all=False`` (a POST that is not idempotent) only 429 is repeated:
        Informat refused that request before doing anything.
        """

        def should_retry(exc: BaseException) -> bool:
            if not isinstance(exc, InformatError) or not exc.retryable:
                return False
            return retry_on_all or isinstance(exc, InformatRateLimitError)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(should_retry),
            stop=(
                tenacity.stop_after_attempt(self.config.max_attempts)
                | tenacity.stop_after_delay(self.config.max_retry_seconds)
            ),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return retrying(fn)

    # ---------------------------------------------------------------- requests

    def _call(
        self,
        name: str,
        instellingsnummer: str,
        path_args: Mapping[str, Any] | None = None,
        *,
        url: str | None = None,
    ) -> _Call:
        try:
            api, method, template = self.config.paths[name]
        except KeyError:
            raise InformatConfigError(f"unknown call {name!r}") from None
        path = template.format(**(path_args or {}))
        return _Call(
            name=name,
            api=api,
            method=method,
            url=url or self.config.url(api, path),
            instellingsnummer=instellingsnummer,
            label=f"{method} /{template}",
        )

    def _send(
        self,
        call: _Call,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        stream: bool = False,
        accept: str = "application/json",
    ) -> requests.Response:
        """One request with one token renewal on 401; raises a typed error for a non-2xx answer."""
        scopes = self._scopes(call.api, call.instellingsnummer)
        token = self._token(scopes, call)
        response = self._request(
            call, token, params=params, json=json, stream=stream, accept=accept
        )
        if response.status_code == 401:
            response.close()
            self._forget_token(scopes, token)
            log.info("%s: token refused (401), asking a new one once", call.label)
            token = self._token(scopes, call, renew=True)
            response = self._request(
                call, token, params=params, json=json, stream=stream, accept=accept
            )
            if response.status_code == 401:
                message, codes = _error_details(response)
                response.close()
                raise call.error(
                    InformatAuthError,
                    f"token refused again after one renewal ({message})",
                    status=401,
                    codes=codes,
                )
        if response.status_code >= 300:
            self._raise_for_status(call, response)
        return response

    def _request(
        self,
        call: _Call,
        token: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        stream: bool,
        accept: str,
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "InstituteNo": call.instellingsnummer,
            "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "Accept": accept,
            "User-Agent": self.config.user_agent,
        }
        if self._limiter is not None:
            self._limiter.acquire()
        self._count("requests")
        started = time.monotonic()
        try:
            response = self._session.request(
                call.method,
                call.url,
                params={k: v for k, v in (params or {}).items() if v is not None},
                json=json,
                headers=headers,
                stream=stream,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
        except requests.exceptions.Timeout:
            raise call.error(InformatConnectionError, "no answer in time (timeout)") from None
        except requests.exceptions.ChunkedEncodingError:
            raise call.error(_TruncatedError, "the answer was cut off before its end") from None
        except requests.exceptions.ConnectionError as exc:
            reason = type(exc.__context__ or exc).__name__
            raise call.error(InformatConnectionError, f"no connection ({reason})") from None
        log.debug(
            "%s instelling %s: HTTP %d in %.3f s",
            call.label,
            call.instellingsnummer,
            response.status_code,
            time.monotonic() - started,
        )
        return response

    def _raise_for_status(self, call: _Call, response: requests.Response) -> None:
        status = response.status_code
        message, codes = _error_details(response)
        response.close()
        kwargs: dict[str, Any] = {"status": status, "codes": codes}
        if status == 429:
            kwargs["retry_after"] = _retry_after_seconds(response.headers.get("Retry-After"))
            raise call.error(InformatRateLimitError, f"too many requests ({message})", **kwargs)
        if status >= 500:
            kwargs["retry_after"] = _retry_after_seconds(response.headers.get("Retry-After"))
            raise call.error(InformatServerError, f"Informat failed ({message})", **kwargs)
        if status == 403:
            raise call.error(InformatForbiddenError, f"refused ({message})", **kwargs)
        if status == 404:
            raise call.error(InformatNotFoundError, f"not found ({message})", **kwargs)
        if status == 410:
            raise call.error(InformatGoneError, f"no longer available ({message})", **kwargs)
        raise call.error(InformatRequestError, message, **kwargs)

    @staticmethod
    def _check_json_type(response: requests.Response, call: _Call) -> None:
        content_type = response.headers.get("Content-Type", "")
        if "json" not in content_type:
            kind = "an HTML page" if "html" in content_type else f"'{content_type or 'no type'}'"
            response.close()
            raise call.error(
                InformatBadResponseError,
                f"expected JSON but Informat answered {kind}",
                status=response.status_code,
            )

    def _json_body(self, response: requests.Response, call: _Call) -> Any:
        self._check_json_type(response, call)
        try:
            content = response.content
        except _STREAM_ERRORS:
            raise call.error(_TruncatedError, "the answer was cut off before its end") from None
        if not content.strip():
            raise call.error(InformatBadResponseError, "empty answer where JSON was expected")
        try:
            return response.json()
        except ValueError:
            declared = response.headers.get("Content-Length")
            if declared and int(declared) > len(content):
                raise call.error(_TruncatedError, "the answer was cut off before its end") from None
            raise call.error(InformatBadResponseError, "malformed JSON in the answer") from None

    def _get_json(self, call: _Call, **kwargs: Any) -> Any:
        def attempt() -> Any:
            response = self._send(call, **kwargs)
            try:
                return self._json_body(response, call)
            finally:
                response.close()

        idempotent = call.method == "GET" or call.name in {
            "save_preregistration",
            "update_preregistration",
        }
        return self._retrying(attempt, call, retry_on_all=idempotent)

    # ---------------------------------------------------------------- listings

    def _iter_listing(
        self, call: _Call, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        list_key, page_key = LISTINGS[call.name]
        if self.config.page_size:
            yield from self._iter_pages(call, params or {}, list_key, page_key)
        else:
            yield from self._iter_stream(call, params or {}, list_key)

    def _iter_stream(
        self, call: _Call, params: Mapping[str, Any], list_key: str
    ) -> Iterator[dict[str, Any]]:
        """The whole listing as one answer, parsed record by record: memory stays flat."""
        response = self._retrying(lambda: self._send(call, params=params, stream=True), call)
        count = 0
        cut_off = "the answer was cut off after {count} record(s); nothing of it may be used"
        try:
            self._check_json_type(response, call)
            reader = _ResponseReader(response)
            seen = False

            def events() -> Iterator[tuple[str, str, Any]]:
                nonlocal seen
                for prefix, event, value in ijson.parse(reader, use_float=True):
                    if prefix == list_key and event == "start_array":
                        seen = True
                    yield prefix, event, value

            try:
                for record in ijson.items(events(), f"{list_key}.item"):
                    count += 1
                    yield record
            except ijson.JSONError as exc:
                if reader.bytes_read == 0:
                    reason = "empty answer where JSON was expected"
                elif "premature EOF" in str(exc):
                    reason = cut_off.format(count=count)
                else:
                    reason = f"malformed JSON after {count} record(s); nothing of it may be used"
                raise call.error(InformatBadResponseError, reason) from None
            except _STREAM_ERRORS:
                raise call.error(InformatBadResponseError, cut_off.format(count=count)) from None
            if not seen:
                raise call.error(InformatBadResponseError, f"the answer has no '{list_key}' list")
        finally:
            response.close()
        log.info("%s instelling %s: %d record(s)", call.label, call.instellingsnummer, count)

    def _iter_pages(
        self, call: _Call, params: Mapping[str, Any], list_key: str, page_key: str
    ) -> Iterator[dict[str, Any]]:
        """Keyset pages: each page asks for the records after the last key it saw, so a listing
        that changes between two pages yields no record twice and loses none that stayed."""
        after: Any = None
        count = pages = 0
        while True:
            page_params = {**params, "pageSize": self.config.page_size, "after": after}
            body = self._get_json(call, params=page_params)
            if not isinstance(body, Mapping) or not isinstance(body.get(list_key), list):
                raise call.error(InformatBadResponseError, f"the answer has no '{list_key}' list")
            records = body[list_key]
            pages += 1
            for record in records:
                key = record.get(page_key)
                if after is not None and key is not None and key <= after:
                    continue  # never yield a record twice, whatever the server does
                count += 1
                yield record
            if records:
                after = records[-1].get(page_key)
            if not body.get("hasMore") or not records:
                break
        log.info(
            "%s instelling %s: %d record(s) in %d page(s)",
            call.label,
            call.instellingsnummer,
            count,
            pages,
        )

    # ------------------------------------------------------------ Leerlingen

    def iter_students(
        self,
        instellingsnummer: str,
        schooljaar: str,
        *,
        ref_date: str | None = None,
        last_name: str | None = None,
        first_name: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        call = self._call("students", instellingsnummer)
        params = {
            "schoolYear": schooljaar,
            "refdate": ref_date,
            "lastName": last_name,
            "firstName": first_name,
        }
        return self._iter_listing(call, params)

    def get_student(
        self,
        instellingsnummer: str,
        person_id: str,
        schooljaar: str,
        *,
        ref_date: str | None = None,
    ) -> dict[str, Any]:
        call = self._call("student", instellingsnummer, {"person_id": person_id})
        return self._get_json(call, params={"schoolYear": schooljaar, "refDate": ref_date})

    def iter_registrations(
        self, instellingsnummer: str, schooljaar: str
    ) -> Iterator[dict[str, Any]]:
        call = self._call("registrations", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def iter_preregistrations(
        self, instellingsnummer: str, schooljaar: str
    ) -> Iterator[dict[str, Any]]:
        call = self._call("preregistrations", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def save_preregistration(
        self, instellingsnummer: str, preregistration: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create a voorinschrijving. Retried like a GET: its ``preRegistrationId`` makes it
        idempotent, so a repeat never creates a second one."""
        if not preregistration.get("preRegistrationId"):
            raise InformatConfigError(
                "a voorinschrijving needs its own preRegistrationId (the idempotency key)"
            )
        call = self._call("save_preregistration", instellingsnummer)
        return self._get_json(call, json=dict(preregistration))

    def update_preregistration(
        self,
        instellingsnummer: str,
        pre_registration_id: str,
        changes: Mapping[str, Any],
    ) -> dict[str, Any]:
        call = self._call(
            "update_preregistration",
            instellingsnummer,
            {"pre_registration_id": pre_registration_id},
        )
        return self._get_json(call, json=dict(changes))

    # -------------------------------------------------------------- Personeel

    def iter_employees(self, instellingsnummer: str) -> Iterator[dict[str, Any]]:
        return self._iter_listing(self._call("employees", instellingsnummer))

    def get_employee(self, instellingsnummer: str, employee_id: str) -> dict[str, Any]:
        call = self._call("employee", instellingsnummer, {"employee_id": employee_id})
        return self._get_json(call)

    def iter_assignments(self, instellingsnummer: str) -> Iterator[dict[str, Any]]:
        return self._iter_listing(self._call("assignments", instellingsnummer))

    # ------------------------------------------------------------- Rekeningen

    def _instelling_for(self, toegangsgroep: str, instellingsnummer: str | None) -> str:
        if instellingsnummer:
            return instellingsnummer
        group = self.config.toegangsgroepen.get(toegangsgroep)
        if group is None:
            raise InformatConfigError(
                f"toegangsgroep {toegangsgroep!r} is not in the informat connection's "
                "configuration (extra 'toegangsgroepen'), so no instellingsnummer is known for it",
                api=REKENINGEN,
            )
        return group.instellingsnummer

    def iter_accessgroups(
        self, instellingsnummer: str, schooljaar: str | None = None
    ) -> Iterator[dict[str, Any]]:
        call = self._call("accessgroups", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def iter_accessgroup_users(
        self, toegangsgroep: str, *, instellingsnummer: str | None = None
    ) -> Iterator[dict[str, Any]]:
        number = self._instelling_for(toegangsgroep, instellingsnummer)
        call = self._call("accessgroup_users", number, {"toegangsgroep": toegangsgroep})
        return self._iter_listing(call)

    def iter_accessgroup_journals(
        self, toegangsgroep: str, *, instellingsnummer: str | None = None
    ) -> Iterator[dict[str, Any]]:
        number = self._instelling_for(toegangsgroep, instellingsnummer)
        call = self._call("accessgroup_journals", number, {"toegangsgroep": toegangsgroep})
        return self._iter_listing(call)

    def iter_invoices(
        self, toegangsgroep: str, schooljaar: str, *, instellingsnummer: str | None = None
    ) -> Iterator[dict[str, Any]]:
        number = self._instelling_for(toegangsgroep, instellingsnummer)
        call = self._call("invoices", number, {"toegangsgroep": toegangsgroep})
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def request_pdf(
        self,
        toegangsgroep: str,
        invoice_id: str,
        *,
        schooljaar: str | None = None,
        instellingsnummer: str | None = None,
        regenerate: bool = False,
    ) -> dict[str, Any]:
        """Ask Informat for an invoice's PDF; answers the job (``jobId``, ``status``). With
        ``regenerate`` Informat makes it anew (for a PDF it has already deleted).
        Not repeated on a 5xx: a second request would start a second job."""
        number = self._instelling_for(toegangsgroep, instellingsnummer)
        call = self._call(
            "request_pdf", number, {"toegangsgroep": toegangsgroep, "invoice_id": invoice_id}
        )
        params = {"schoolYear": schooljaar, "regenerate": "true" if regenerate else None}
        return self._get_json(call, params=params)

    def get_pdf_job(
        self, toegangsgroep: str, job_id: str, *, instellingsnummer: str | None = None
    ) -> dict[str, Any]:
        number = self._instelling_for(toegangsgroep, instellingsnummer)
        return self._get_json(self._call("pdf_job", number, {"job_id": job_id}))

    @contextmanager
    def download_pdf(
        self,
        toegangsgroep: str,
        job_id: str,
        *,
        download_url: str | None = None,
        instellingsnummer: str | None = None,
        chunk_size: int = 64 * 1024,
    ) -> Iterator[Iterator[bytes]]:
        """The PDF as a stream of chunks: ``with client.download_pdf(g, job) as chunks: ...``.
        A PDF that Informat has already deleted raises :class:`InformatGoneError` (410)."""
        number = self._instelling_for(toegangsgroep, instellingsnummer)
        url = None
        if download_url:
            url = urljoin(self.config.base_urls[REKENINGEN], download_url)
        call = self._call("pdf_download", number, {"job_id": job_id}, url=url)
        response = self._retrying(
            lambda: self._send(call, stream=True, accept="application/pdf"), call
        )
        try:
            content_type = response.headers.get("Content-Type", "")
            if "pdf" not in content_type and "octet-stream" not in content_type:
                raise call.error(
                    InformatBadResponseError, f"expected a PDF but got '{content_type}'"
                )

            def chunks() -> Iterator[bytes]:
                try:
                    yield from response.iter_content(chunk_size=chunk_size)
                except _STREAM_ERRORS:
                    raise call.error(
                        InformatBadResponseError, "the PDF download was cut off"
                    ) from None

            yield chunks()
        finally:
            response.close()

    def register_payment(
        self,
        toegangsgroep: str,
        payment: Mapping[str, Any],
        *,
        instellingsnummer: str | None = None,
    ) -> dict[str, Any]:
        """Register a payment; never repeated after a 5xx or a timeout (it may have been booked)."""
        number = self._instelling_for(toegangsgroep, instellingsnummer)
        call = self._call("register_payment", number, {"toegangsgroep": toegangsgroep})
        return self._get_json(call, json=dict(payment))
