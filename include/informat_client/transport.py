"""The transport under every Informat call: OAuth2 client credentials with a token cache per
scope set, one renewal on 401, retries with tenacity (bounded in attempts and time, Retry-After
honoured), client-side pacing, and typed errors. The endpoints live in one module per API
(``leerlingen``, ``personeel``, ``rekeningen``); ``InformatClient`` puts them together.

It is thread-safe: the token cache is locked and the HTTP session's pool is sized for concurrent
callers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Self, TypeVar
from urllib.parse import quote

import requests
import tenacity
from requests.adapters import HTTPAdapter

from . import masking
from .answers import (
    Call,
    TruncatedError,
    error_details,
    json_body,
    retry_after_seconds,
)
from .config import ENDPOINTS, InformatConfig
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
from .listings import Paging, page_records, stream_records
from .ratelimit import RateLimiter
from .tokens import Token, Tokens

log = masking.get_logger(__name__)

T = TypeVar("T")


class Transport(Tokens):
    """What every call goes through; the endpoint classes add the calls of one API each."""

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
        self._tokens: dict[frozenset[str], Token] = {}
        self._combined_refused = False  # the identity server refused the combined scope set
        self._rekeningen_combined_refused = False  # ... the toegangsgroepen's literals together
        self._token_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.stats = {
            "requests": 0,
            "retries": 0,
            "token_requests": 0,
            "token_renewals": 0,
            "bytes": 0,  # bytes of streamed listings read
        }
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------- stats

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] += n

    # ----------------------------------------------------------------- retries

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = tenacity.wait_random_exponential(
            multiplier=self.config.backoff_initial, max=self.config.backoff_max
        )(state)
        retry_after: float | None = getattr(exc, "retry_after", None)
        if retry_after is not None:
            # honour Retry-After, with a little jitter so that parallel callers spread out
            return retry_after + min(backoff, 1.0) * 0.25
        return backoff

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self._count("retries")
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if _queued(exc):
            log.warning("%s; waiting %.1f s as Informat asks", exc, wait)
            return
        log.warning(
            "%s; attempt %d of %d, retrying in %.1f s",
            exc,
            state.attempt_number,
            self.config.max_attempts,
            wait,
        )

    def _retrying(self, fn: Callable[[], T], call: Call, *, retry_on_all: bool = True) -> T:
        """Run ``fn`` with exponential backoff and jitter, bounded in attempts and total time.

        Only retryable errors are repeated (429, 5xx, timeouts, connection errors, a cut-off
        body). With ``retry_on_all=False`` (a POST that is not idempotent) only 429 is repeated:
        Informat refused that request before doing anything. A 429 with ``Retry-After`` is a
        queue, not a failure: it does not count against ``max_attempts``, only against the time
        budget (``max_retry_seconds``); under a rate limit shared by a whole school group's
        partitions, six 429s in a row are normal and must not fail a partition.
        """

        started = time.monotonic()
        budget = self.config.max_retry_seconds
        queued = [0]  # attempts answered with a 429 and Retry-After

        def spent(state: tenacity.RetryCallState) -> float:
            # the clock, or the waits when the caller's own sleep keeps the clock still (tests)
            return max(time.monotonic() - started, state.idle_for)

        def should_retry(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if not isinstance(exc, InformatError) or not exc.retryable:
                return False
            if not (retry_on_all or isinstance(exc, InformatRateLimitError)):
                return False
            left = budget - spent(state)
            if exc.retry_after is not None and exc.retry_after > left:
                # a budget is a budget: no wait longer than what is left of it
                exc.reason += (
                    f"; Informat asks to wait {exc.retry_after:.0f} s, more than the "
                    f"{max(left, 0):.0f} s left of the retry budget"
                )
                exc.args = (exc.describe(),)
                return False
            return True

        def stop(state: tenacity.RetryCallState) -> bool:
            if spent(state) >= budget:
                return True
            if _queued(state.outcome.exception() if state.outcome else None):
                queued[0] += 1
                return False
            return state.attempt_number - queued[0] >= self.config.max_attempts

        retrying = tenacity.Retrying(
            retry=should_retry,
            stop=stop,
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
        toegangsgroep: str | None = None,
    ) -> Call:
        try:
            api, method, template = self.config.paths[name]
        except KeyError:
            raise InformatConfigError(f"unknown call {name!r}") from None
        if name not in ENDPOINTS:  # a path configured for a call the client does not know
            raise InformatConfigError(f"unknown call {name!r}")
        # every path argument is one path segment, whatever characters it holds
        path = template.format(**{k: quote(str(v), safe="") for k, v in (path_args or {}).items()})
        return Call(
            name=name,
            api=api,
            method=method,
            url=url or self.config.url(api, path),
            instellingsnummer=instellingsnummer,
            label=f"{method} /{template}",
            toegangsgroep=toegangsgroep,
        )

    def _send(
        self,
        call: Call,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        stream: bool = False,
        accept: str = "application/json",
    ) -> requests.Response:
        """One request with one token renewal on 401; raises a typed error for a non-2xx answer."""
        try:
            # whatever built the config or answered a URL, a bearer token goes over TLS only (and
            # no token is asked for a call that could not carry it)
            self.config.refuse_plain_http(call.label, call.url)
        except ValueError as exc:
            raise call.error(InformatConfigError, str(exc)) from None
        scopes = self._scopes(call)
        try:
            token = self._token(scopes, call)
        except InformatForbiddenError:
            if len(scopes) < 2 or self.config.scopes:
                raise
            # not every scope of the set is granted: ask per call from now on
            log.info("combined scopes refused; asking one scope per call from now on")
            self._refuse_combined(call)
            scopes = self._scopes(call)
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
                message, codes, messages = error_details(response)
                response.close()
                raise call.error(
                    InformatAuthError,
                    f"token refused again after one renewal ({message})",
                    status=401,
                    codes=codes,
                    messages=messages,
                )
        if response.status_code >= 300:
            self._raise_for_status(call, response)
        return response

    def _request(
        self,
        call: Call,
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
            **ENDPOINTS[call.name].headers,
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
            raise call.error(TruncatedError, "the answer was cut off before its end") from None
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

    def _raise_for_status(self, call: Call, response: requests.Response) -> None:
        status = response.status_code
        message, codes, messages = error_details(response)
        response.close()
        kwargs: dict[str, Any] = {"status": status, "codes": codes, "messages": messages}
        if status == 429:
            kwargs["retry_after"] = retry_after_seconds(response.headers.get("Retry-After"))
            raise call.error(InformatRateLimitError, f"too many requests ({message})", **kwargs)
        if status >= 500:
            kwargs["retry_after"] = retry_after_seconds(response.headers.get("Retry-After"))
            raise call.error(InformatServerError, f"Informat failed ({message})", **kwargs)
        if status == 403:
            raise call.error(InformatForbiddenError, f"refused ({message})", **kwargs)
        if status == 404:
            raise call.error(InformatNotFoundError, f"not found ({message})", **kwargs)
        if status == 410:
            raise call.error(InformatGoneError, f"no longer available ({message})", **kwargs)
        raise call.error(InformatRequestError, message, **kwargs)

    def _get_json(self, call: Call, **kwargs: Any) -> Any:
        def attempt() -> Any:
            response = self._send(call, **kwargs)
            try:
                return json_body(response, call)
            finally:
                response.close()

        # a voorinschrijving carries its own id: saving it again changes nothing more
        idempotent = call.method in ("GET", "DELETE") or call.name == "save_preregistration"
        return self._retrying(attempt, call, retry_on_all=idempotent)

    def _get_record(self, call: Call, **kwargs: Any) -> dict[str, Any]:
        """A single answer, unwrapped where Informat wraps it (``{"student": {...}}``)."""
        body = self._get_json(call, **kwargs)
        key = ENDPOINTS[call.name].wrapped
        if key is not None:
            body = (
                {str(k).lower(): v for k, v in body.items()} if isinstance(body, Mapping) else body
            )
            body = body.get(key.lower()) if isinstance(body, Mapping) else None
        if not isinstance(body, Mapping):
            expected = f"an object under '{key}'" if key else "an object"
            raise call.error(InformatBadResponseError, f"the answer is not {expected}")
        return dict(body)

    def _iter_listing(
        self, call: Call, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        listing = ENDPOINTS[call.name].listing
        if listing is None:
            raise call.error(InformatConfigError, "not a listing")
        list_key, page_key = listing.list_key, listing.page_key
        params = params or {}
        if self.config.page_size:
            yield from page_records(
                lambda page: self._get_json(call, params=page),
                call,
                params,
                Paging(list_key, page_key, self.config.page_size),
            )
            return
        response = self._retrying(lambda: self._send(call, params=params, stream=True), call)
        yield from stream_records(response, call, list_key, lambda n: self._count("bytes", n))


def _queued(exc: BaseException | None) -> bool:
    """A 429 that says when to come back."""
    return isinstance(exc, InformatRateLimitError) and exc.retry_after is not None
