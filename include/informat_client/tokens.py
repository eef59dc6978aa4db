"""OAuth2 client credentials for the transport: which scopes a call needs (its scope family for
its instelling, all families at once, or a toegangsgroep's literal Rekeningen scope), a token
cache per scope set renewed ahead of its end, and the token request itself. A mixin of
``Transport``, whose session, pacing and retries it uses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import requests

from . import masking
from .answers import Call, error_details, json_body, retry_after_seconds
from .config import API_TITLES, ENDPOINTS, REKENINGEN_SCOPE, InformatConfig
from .errors import (
    InformatAuthError,
    InformatBadResponseError,
    InformatConfigError,
    InformatConnectionError,
    InformatError,
    InformatForbiddenError,
    InformatRateLimitError,
    InformatServerError,
)
from .ratelimit import RateLimiter

log = masking.get_logger(__name__)

T = TypeVar("T")


@dataclass
class Token:
    value: str
    expires_at: float  # when to renew it (its end, less the renewal margin)


class Tokens:
    """Scopes and tokens of the transport (a mixin: ``self`` is the ``Transport``)."""

    # What the mixin reads and the transport sets in its __init__ (declared, not assigned here:
    # the transport owns them; a test checks that a new transport has every one of them).
    config: InformatConfig
    _session: requests.Session
    _limiter: RateLimiter | None
    _on_secret: Callable[[str], None] | None
    _tokens: dict[frozenset[str], Token]
    _token_lock: threading.Lock
    _combined_refused: bool
    _rekeningen_combined_refused: bool

    if TYPE_CHECKING:
        # the transport's methods the mixin calls; the type checker holds the transport's
        # definitions to these signatures

        def _count(self, key: str, n: int = 1) -> None: ...

        def _retrying(self, fn: Callable[[], T], call: Call, *, retry_on_all: bool = True) -> T: ...

    def _scopes(self, call: Call) -> frozenset[str]:
        """The scopes a token for ``call`` asks: the call's scope family for its instelling, or
        (``combine_scopes``) every granted family for every instelling in one token; for the
        Rekeningen API the toegangsgroep's literal scope from the configuration."""
        config = self.config
        if config.scopes:
            return frozenset(config.scopes)
        family = _scope_family(call)
        if family == REKENINGEN_SCOPE:
            return self._rekeningen_scopes(call)
        templates = config.scope_templates
        if (
            config.combine_scopes
            and not self._combined_refused
            and family in config.scope_families
            and call.instellingsnummer in config.instellingsnummers
        ):
            return frozenset(
                templates[f].format(instellingsnummer=n)
                for f in config.scope_families
                for n in config.instellingsnummers
            )
        return frozenset({templates[family].format(instellingsnummer=call.instellingsnummer)})

    def _rekeningen_scopes(self, call: Call) -> frozenset[str]:
        groups = self.config.toegangsgroepen
        group = groups.get(call.toegangsgroep or "")
        if group is not None and group.scope:
            if self.config.combine_scopes and not self._rekeningen_combined_refused:
                # every toegangsgroep's literal in one token request (a school group's invoices
                # took a token request per toegangsgroep), as for the instellingen's families
                return frozenset(g.scope for g in groups.values() if g.scope)
            return frozenset({group.scope})
        if (
            call.toegangsgroep is None
        ):  # a call on no toegangsgroep: every literal of its instelling
            literals = {
                g.scope
                for g in groups.values()
                if g.scope and g.instellingsnummer == call.instellingsnummer
            }
            if literals:
                return frozenset(literals)
        template = self.config.scope_templates[REKENINGEN_SCOPE]
        return frozenset({template.format(instellingsnummer=call.instellingsnummer)})

    def _refuse_combined(self, call: Call) -> None:
        """The identity server refused a combined scope set: ask per call from now on (for the
        Rekeningen API or for the instellingen's families, whichever the call needed)."""
        if _scope_family(call) == REKENINGEN_SCOPE:
            self._rekeningen_combined_refused = True
        else:
            self._combined_refused = True

    def _token(self, scopes: frozenset[str], call: Call, *, renew: bool = False) -> str:
        with self._token_lock:
            cached = self._tokens.get(scopes)
            if cached and not renew and cached.expires_at > time.monotonic():
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

    def _fetch_token(self, scopes: frozenset[str], call: Call) -> Token:
        token_call = Call(
            name="token",
            api=call.api,
            method="POST",
            url=self.config.token_url,
            instellingsnummer=call.instellingsnummer,
            label="token request",
        )
        try:
            # the client secret goes over TLS only (this machine and a named sandbox aside)
            self.config.refuse_plain_http("token_url", self.config.token_url)
        except ValueError as exc:
            raise token_call.error(InformatConfigError, str(exc)) from None
        scope = " ".join(sorted(s for s in scopes if s.strip()))
        if not scope:
            # a token asked without a scope has no rights on the Leerlingen API
            raise token_call.error(
                InformatConfigError, "no scope to ask a token for: check the scope templates"
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
                    "scope": scope,
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
            message, codes, messages = error_details(response)
            status = response.status_code
            if status == 429 or status >= 500:
                cls = InformatRateLimitError if status == 429 else InformatServerError
                raise token_call.error(
                    cls,
                    "the identity server is not available",
                    status=status,
                    codes=codes,
                    messages=messages,
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                )
            if "invalid_scope" in codes:
                raise token_call.error(
                    InformatForbiddenError,
                    f"scope not granted to this client: {' '.join(sorted(scopes))}",
                    status=status,
                    codes=codes,
                    messages=messages,
                )
            raise token_call.error(
                InformatAuthError,
                f"the identity server refused the client credentials ({message})",
                status=status,
                codes=codes,
                messages=messages,
            )
        body = json_body(response, token_call)
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise token_call.error(InformatBadResponseError, "token answer has no access_token")
        value = str(body["access_token"])
        masking.register_secret(value)
        if self._on_secret:
            self._on_secret(value)
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            raise token_call.error(
                InformatBadResponseError, "token answer has a non-numeric expires_in"
            ) from None
        log.info(
            "%s: new access token for %d scope(s), valid %.0f s",
            API_TITLES.get(call.api, call.api),
            len(scopes),
            lifetime,
        )
        # renew a minute early, or a fifth of the lifetime early for short-lived tokens (a token
        # that lives 5 s is not renewed before every call)
        margin = min(self.config.token_refresh_margin, lifetime / 5)
        return Token(value=value, expires_at=time.monotonic() + lifetime - margin)

    def _forget_token(self, scopes: frozenset[str], value: str) -> None:
        with self._token_lock:
            cached = self._tokens.get(scopes)
            if cached and cached.value == value:
                del self._tokens[scopes]


def _scope_family(call: Call) -> str:
    """The scope family ``call`` needs: its endpoint's, or its API's own for a call the client
    does not declare (the token request itself)."""
    endpoint = ENDPOINTS.get(call.name)
    return endpoint.scope_family if endpoint is not None else call.api
