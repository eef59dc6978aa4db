"""All that is configurable about the Informat API in one object: base URLs, token URL, scopes,
paths, paging, timeouts and retry bounds. Nothing else in the project spells a URL or a path."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from . import masking

log = masking.get_logger(__name__)

LEERLINGEN = "leerlingen"
PERSONEEL = "personeel"
REKENINGEN = "rekeningen"
APIS = (LEERLINGEN, PERSONEEL, REKENINGEN)

API_TITLES = {
    LEERLINGEN: "Leerlingen API",
    PERSONEEL: "Personeel API",
    REKENINGEN: "Rekeningen API",
}

DEFAULT_TOKEN_URL = "https://www.identityserver.be/connect/token"  # noqa: S105 - a URL
DEFAULT_BASE_URLS = MappingProxyType(
    {
        LEERLINGEN: "https://leerlingenapi.informatsoftware.be/1/",
        PERSONEEL: "https://personeelsapi.informatsoftware.be/",
        REKENINGEN: "https://rekeningenapi.informatsoftware.be/1/",  # modelled: not public
    }
)
# Where each API lives below a single host (the sandbox serves all three from one host).
HOST_PREFIXES = MappingProxyType(
    {LEERLINGEN: "leerlingen/1/", PERSONEEL: "personeel/", REKENINGEN: "rekeningen/1/"}
)
HOST_TOKEN_PATH = "connect/token"  # noqa: S105 - a path

# Scope families (public code): each granted per instellingsnummer as "<family>.<number>".
# Pre-registrations have their own family beside the students'. The Rekeningen scope is handed out
# by Informat as a literal string per toegangsgroep (documented): it is configured, not derived;
# the template below is only the sandbox's (modelled) fallback for a toegangsgroep without one.
LEERLINGEN_SCOPE = "leerlingen"
VOORINSCHRIJVINGEN_SCOPE = "voorinschrijvingen"
PERSONEEL_SCOPE = "personeel"
REKENINGEN_SCOPE = "rekeningen"
DEFAULT_SCOPE_TEMPLATES = MappingProxyType(
    {
        LEERLINGEN_SCOPE: "api_informat_sas_leerlingen.leerlingen.{instellingsnummer}",
        VOORINSCHRIJVINGEN_SCOPE: (
            "api_informat_sas_leerlingen.voorinschrijvingen.{instellingsnummer}"
        ),
        PERSONEEL_SCOPE: "api_informat_sas_personeel.personeel.{instellingsnummer}",
        REKENINGEN_SCOPE: "api_informat_sas_rekeningen.rekeningen.{instellingsnummer}",  # modelled
    }
)
# the families asked per instelling in one combined token request (Rekeningen is per toegangsgroep)
INSTELLING_SCOPES = (LEERLINGEN_SCOPE, VOORINSCHRIJVINGEN_SCOPE, PERSONEEL_SCOPE)

# public code asks version 2 of the Personeel API's listings (the PHP client on employees only)
API_VERSION_2: Mapping[str, str] = MappingProxyType({"Api-Version": "2"})


@dataclass(frozen=True)
class Listing:
    """How a listing answers: the key of its list in the answer (None: a bare JSON array), and
    the record key keyset pages are keyed on (pages are an option for API's that page)."""

    list_key: str | None
    page_key: str


@dataclass(frozen=True)
class Endpoint:
    """One Informat call, all the client needs to know of it: its API, method and path template
    (relative to the API's base URL), the scope family its token needs when that is not its API's
    own, the headers it needs beyond the common ones, how it lists (or None for a single answer)
    and the key a single answer is wrapped in (or None)."""

    api: str
    method: str
    path: str
    scope: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    listing: Listing | None = None
    wrapped: str | None = None

    @property
    def scope_family(self) -> str:
        return self.scope or self.api


# every call of the client, each declared once (the contract: docs/informat-api.md)
ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType(
    {
        "students": Endpoint(
            LEERLINGEN, "GET", "students", listing=Listing("students", "pPersoon")
        ),
        "student": Endpoint(LEERLINGEN, "GET", "students/{person_id}", wrapped="student"),
        "registrations": Endpoint(
            LEERLINGEN, "GET", "registrations", listing=Listing("registrations", "pInschr")
        ),
        "save_preregistration": Endpoint(
            LEERLINGEN,
            "POST",
            "preregistrations/save",
            scope=VOORINSCHRIJVINGEN_SCOPE,
            wrapped="preRegistrationStatus",
        ),
        "preregistration_status": Endpoint(
            LEERLINGEN,
            "GET",
            "preregistrations/{pre_registration_id}/status",
            scope=VOORINSCHRIJVINGEN_SCOPE,
            wrapped="preRegistrationStatus",
        ),
        "delete_preregistration": Endpoint(
            LEERLINGEN,
            "DELETE",
            "preregistrations/{pre_registration_id}",
            scope=VOORINSCHRIJVINGEN_SCOPE,
        ),
        "employees": Endpoint(
            PERSONEEL,
            "GET",
            "employees",
            headers=API_VERSION_2,
            listing=Listing(None, "pPersoon"),
        ),
        "employee": Endpoint(PERSONEEL, "GET", "employees/{employee_id}", headers=API_VERSION_2),
        "assignments": Endpoint(
            PERSONEEL,
            "GET",
            "employees/assignments",
            headers=API_VERSION_2,
            listing=Listing(None, "id"),
        ),
        "interruptions": Endpoint(
            PERSONEEL,
            "GET",
            "employees/interruptions",
            headers=API_VERSION_2,
            listing=Listing(None, "doId"),
        ),
        "own_fields": Endpoint(
            PERSONEEL,
            "GET",
            "employees/ownfields",
            headers=API_VERSION_2,
            listing=Listing(None, "vvId"),
        ),
        "accessgroups": Endpoint(
            REKENINGEN, "GET", "accessgroups", listing=Listing("accessgroups", "name")
        ),
        "accessgroup_users": Endpoint(
            REKENINGEN,
            "GET",
            "accessgroups/{toegangsgroep}/users",
            listing=Listing("users", "userId"),
        ),
        "accessgroup_journals": Endpoint(
            REKENINGEN,
            "GET",
            "accessgroups/{toegangsgroep}/journals",
            listing=Listing("journals", "code"),
        ),
        "invoices": Endpoint(
            REKENINGEN,
            "GET",
            "accessgroups/{toegangsgroep}/invoices",
            listing=Listing("invoices", "invoiceId"),
        ),
        "request_pdf": Endpoint(
            REKENINGEN, "POST", "accessgroups/{toegangsgroep}/invoices/{invoice_id}/pdf"
        ),
        "pdf_job": Endpoint(REKENINGEN, "GET", "pdf-jobs/{job_id}"),
        "pdf_download": Endpoint(REKENINGEN, "GET", "pdf-jobs/{job_id}/download"),
        "register_payment": Endpoint(REKENINGEN, "POST", "accessgroups/{toegangsgroep}/payments"),
    }
)
# the paths as a connection may override them: call name -> (api, HTTP method, path template)
DEFAULT_PATHS: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {name: (e.api, e.method, e.path) for name, e in ENDPOINTS.items()}
)


@dataclass(frozen=True)
class ToegangsgroepConfig:
    """What the project knows of one toegangsgroep: the instelling whose number its calls carry,
    who must hear about it, and whether payments are registered on it."""

    name: str
    instellingsnummer: str
    admins: tuple[str, ...] = ()
    payments: bool = False
    # the Rekeningen scope as Informat handed it out for this toegangsgroep (a literal string)
    scope: str | None = None

    @classmethod
    def from_value(cls, name: str, value: Any) -> ToegangsgroepConfig:
        if isinstance(value, str):
            return cls(name=name, instellingsnummer=value)
        if not isinstance(value, Mapping) or "instellingsnummer" not in value:
            raise ValueError(
                f"toegangsgroep {name!r}: expected an instellingsnummer or an object with "
                "'instellingsnummer' (and optionally 'admins', 'payments', 'scope')"
            )
        admins = value.get("admins") or ()
        if isinstance(admins, str):
            admins = tuple(a.strip() for a in admins.split(",") if a.strip())
        return cls(
            name=name,
            instellingsnummer=str(value["instellingsnummer"]),
            admins=tuple(admins),
            payments=bool(value.get("payments", False)),
            scope=str(value["scope"]) if value.get("scope") else None,
        )


@dataclass(frozen=True)
class InformatConfig:
    client_id: str
    client_secret: str = field(repr=False)
    token_url: str = DEFAULT_TOKEN_URL
    base_urls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BASE_URLS))
    scope_templates: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_SCOPE_TEMPLATES)
    )
    # Explicit scopes: when set, one token is asked for with all of them for every call.
    scopes: tuple[str, ...] = ()
    # the scope families granted per instelling; with combine_scopes one token request asks the
    # whole cross product (families x instellingsnummers), as public clients do
    scope_families: tuple[str, ...] = INSTELLING_SCOPES
    combine_scopes: bool = True
    paths: Mapping[str, tuple[str, str, str]] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    instellingsnummers: tuple[str, ...] = ()
    toegangsgroepen: Mapping[str, ToegangsgroepConfig] = field(default_factory=dict)
    # None: read each listing as one streamed answer (as the real API does); N: keyset pages of N.
    page_size: int | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    token_refresh_margin: float = 60.0
    # pace requests client-side at this rate (all threads together); None: no pacing
    max_requests_per_second: float | None = None
    user_agent: str = "informat-airflow/0.1"
    # The one host (a name, no scheme or port) that may be reached over plain http besides this
    # machine: the compose network's sandbox service. An explicit, logged opt-in; never Informat.
    allow_insecure_http: str | None = None

    def __post_init__(self) -> None:
        missing = [api for api in APIS if api not in self.base_urls]
        if missing:
            raise ValueError(f"no base URL for {', '.join(missing)}")
        for number in self.instellingsnummers:
            if not (len(number) == 6 and number.isdigit()):
                raise ValueError(f"instellingsnummer {number!r} is not 6 digits")
        if self.page_size is not None and self.page_size < 1:
            raise ValueError("page_size must be positive")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        unknown = [f for f in self.scope_families if f not in INSTELLING_SCOPES]
        if unknown:
            raise ValueError(f"unknown scope families {unknown}; known: {list(INSTELLING_SCOPES)}")
        if self.allow_insecure_http is not None and not _HOST_NAME.fullmatch(
            self.allow_insecure_http
        ):
            raise ValueError(
                "allow_insecure_http: name one host (such as informat-sandbox), without scheme, "
                "port or wildcard"
            )

    def refuse_plain_http(self, key: str, url: str) -> None:
        """Raise ``ValueError`` when ``url`` would carry the client secret or a bearer token over
        plain http to a host other than this machine or the one of ``allow_insecure_http``."""
        refuse_plain_http(key, url, self.allow_insecure_http)

    def url(self, api: str, path: str) -> str:
        return self.base_urls[api].rstrip("/") + "/" + path.lstrip("/")

    def with_overrides(self, **changes: Any) -> InformatConfig:
        return replace(self, **changes)

    @classmethod
    def for_host(cls, host: str, **kwargs: Any) -> InformatConfig:
        """All three API's and the token endpoint below one host (the sandbox's layout)."""
        root = host.rstrip("/") + "/"
        base_urls = {api: root + prefix for api, prefix in HOST_PREFIXES.items()}
        return cls(token_url=root + HOST_TOKEN_PATH, base_urls=base_urls, **kwargs)

    @classmethod
    def from_connection_fields(  # noqa: C901 - one check per field of the connection
        cls,
        *,
        host: str | None,
        login: str | None,
        password: str | None,
        extra: Mapping[str, Any] | None,
    ) -> InformatConfig:
        """Build the config from the fields of an Airflow connection of type ``informat``.

        host: base URL below which all API's live (the sandbox); empty for Informat's own hosts.
        extra: ``instellingsnummers`` (list), ``toegangsgroepen`` (object: name -> instellingsnummer
        or {instellingsnummer, admins, payments, scope}), ``scopes`` (list), ``scope_families``
        (list), ``combine_scopes`` (bool), ``base_urls`` (per API),
        ``token_url``, ``page_size``, ``connect_timeout``, ``read_timeout``, ``max_attempts``,
        ``max_retry_seconds``, ``paths`` (per call name: path template), ``allow_insecure_http``
        (one host name that may be reached over plain http: the compose sandbox service).
        """
        if not login or not password:
            raise ValueError("the informat connection needs a login (client_id) and a password")
        extra = dict(extra or {})
        known = {
            "instellingsnummers",
            "toegangsgroepen",
            "scopes",
            "base_urls",
            "token_url",
            "page_size",
            "connect_timeout",
            "read_timeout",
            "max_attempts",
            "max_retry_seconds",
            "max_requests_per_second",
            "paths",
            "scope_families",
            "combine_scopes",
            "allow_insecure_http",
        }
        unknown = sorted(set(extra) - known)
        if unknown:
            raise ValueError(f"unknown keys in the informat connection extra: {unknown}")
        numbers = extra.get("instellingsnummers") or []
        if isinstance(numbers, str):
            numbers = [n.strip() for n in numbers.split(",") if n.strip()]
        groups = {
            name: ToegangsgroepConfig.from_value(name, value)
            for name, value in (extra.get("toegangsgroepen") or {}).items()
        }
        kwargs: dict[str, Any] = {
            "client_id": login,
            "client_secret": password,
            "instellingsnummers": tuple(str(n) for n in numbers),
            "toegangsgroepen": groups,
            "scopes": tuple(extra.get("scopes") or ()),
        }
        if extra.get("scope_families") is not None:
            kwargs["scope_families"] = tuple(extra["scope_families"])
        if extra.get("combine_scopes") is not None:
            kwargs["combine_scopes"] = bool(extra["combine_scopes"])
        allowed = extra.get("allow_insecure_http")
        if allowed is not None:
            if not isinstance(allowed, str):
                raise ValueError("connection extra 'allow_insecure_http' must be one host name")
            kwargs["allow_insecure_http"] = allowed
        for key, kind in (
            ("page_size", int),
            ("max_attempts", int),
            ("connect_timeout", float),
            ("read_timeout", float),
            ("max_retry_seconds", float),
            ("max_requests_per_second", float),
        ):
            if extra.get(key) is not None:
                kwargs[key] = _number(extra, key, kind)
        if extra.get("paths"):
            paths = dict(DEFAULT_PATHS)
            for call, template in extra["paths"].items():
                if call not in paths:
                    raise ValueError(f"unknown call {call!r} in paths")
                api, method, _ = paths[call]
                paths[call] = (api, method, template)
            kwargs["paths"] = paths
        if host:
            host = host if "://" in host else f"https://{host}"
            refuse_plain_http("host", host, allowed)
            config = cls.for_host(host, **kwargs)
        else:
            config = cls(**kwargs)
        overrides: dict[str, Any] = {}
        if extra.get("base_urls"):
            for api, url in extra["base_urls"].items():
                refuse_plain_http(f"base_urls.{api}", str(url), allowed)
            overrides["base_urls"] = {**config.base_urls, **extra["base_urls"]}
        if extra.get("token_url"):
            refuse_plain_http("token_url", str(extra["token_url"]), allowed)
            overrides["token_url"] = extra["token_url"]
        return config.with_overrides(**overrides) if overrides else config


def _number(extra: Mapping[str, Any], key: str, kind: type) -> Any:
    value = extra[key]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"connection extra {key!r} must be a number, not {type(value).__name__}")
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"connection extra {key!r} must be a number") from None


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_warned_hosts: set[str] = set()
_warned_lock = threading.Lock()


def refuse_plain_http(key: str, url: str, allowed_host: str | None = None) -> None:
    """The client secret and bearer tokens travel over TLS, except to this machine (the sandbox)
    or to exactly the host an operator named in ``allow_insecure_http`` (the compose sandbox)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return
    host = (parts.hostname or "").lower()
    if host in LOOPBACK_HOSTS:
        return
    if allowed_host and host == allowed_host.lower():
        _warn_once(host)
        return
    raise ValueError(
        f"{key}: http:// is only for a sandbox on this machine, or for the one host named in "
        "the connection extra's allow_insecure_http; use https://"
    )


def _warn_once(host: str) -> None:
    """Plain http to a named host is allowed, and said once per process, not once per request."""
    with _warned_lock:
        if host in _warned_hosts:
            return
        _warned_hosts.add(host)
    log.warning(
        "allow_insecure_http: the client secret and bearer tokens go to %s over plain http "
        "(no TLS); acceptable for a sandbox on a private network only, never for Informat",
        host,
    )
