"""The Informat sandbox: a local stand-in of the Informat API's that follows
``shared/informat-api.md``, with switchable fault injection.

Layout below one host: ``/connect/token``, ``/leerlingen/1/...``, ``/personeel/...``,
``/rekeningen/1/...``; the control plane lives under ``/_sandbox/...`` (no authentication: the
sandbox binds 127.0.0.1 only).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from informat_client.masking import get_logger

from . import data as seed_data
from .faults import Faults, ScriptedFault

log = get_logger(__name__)

API_PREFIXES = {
    "leerlingen": "/leerlingen/1",
    "personeel": "/personeel",
    "rekeningen": "/rekeningen/1",
}
SCOPE_PREFIX = {
    "leerlingen": "api_informat_sas_leerlingen.leerlingen.",
    "personeel": "api_informat_sas_personeel.personeel.",
    "rekeningen": "api_informat_sas_rekeningen.rekeningen.",
}
PREREGISTRATION_REQUIRED = (
    "lastName", "firstName", "dateOfBirth", "countryOfBirthCode", "nationalityCode", "sex",
    "isHomeless", "migrating", "isIndicatorPupil", "preRegistrationId", "schoolyear",
    "institute", "structure", "locationId", "admgrpId", "startDate", "registrationStatus",
)  # fmt: skip
# once a voorinschrijving is accepted, these can no longer be changed by an update
FROZEN_WHEN_ACCEPTED = ("lastName", "firstName", "dateOfBirth", "institute", "schoolyear")


def error(status: int, message: str, *codes: str, headers: dict[str, str] | None = None):
    body = {"message": message, "errors": [{"code": c, "message": message} for c in codes]}
    return JSONResponse(body, status_code=status, headers=headers)


class ApiError(Exception):
    def __init__(self, status: int, message: str, *codes: str) -> None:
        super().__init__(message)
        self.response = error(status, message, *codes)


@dataclass
class TokenInfo:
    client_id: str
    scopes: frozenset[str]
    expires_at: float
    calls: int = 0


@dataclass
class PdfJob:
    job_id: str
    toegangsgroep: str
    invoice_id: str
    created_at: float
    schooljaar: str | None = None
    generated_at: datetime | None = None
    failed: bool = False
    polls: int = 0


@dataclass
class SandboxState:
    """Everything the sandbox knows; reset as a whole by ``POST /_sandbox/reset``."""

    seed: int = 42
    students: int = seed_data.DEFAULT_STUDENTS
    client_id: str = "sandbox-client"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    today: date | None = None
    token_lifetime: float = 3600.0
    pdf_delay: float = 2.0

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self, **changes: Any) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(self, key, value)
            self.group = seed_data.build(
                seed=self.seed,
                today=self.today,
                students=self.students,
                client_id=self.client_id,
                client_secret=self.client_secret,
            )
            self.faults = Faults()
            self.rng = random.Random(self.seed)
            self.tokens: dict[str, TokenInfo] = {}
            self.pdf_jobs: dict[str, PdfJob] = {}
            self.stats: Counter[str] = Counter()
            self.window: deque[float] = deque()
            self.changed_listings = 0

    @property
    def schooljaar(self) -> str:
        return self.group.current_schooljaar


def create_app(state: SandboxState | None = None) -> FastAPI:
    state = state or SandboxState()
    app = FastAPI(title="Informat sandbox", docs_url="/_sandbox/docs", openapi_url=None)
    app.state.sandbox = state

    # ------------------------------------------------------------- middleware

    @app.middleware("http")
    async def faults_middleware(request: Request, call_next):
        path = request.url.path
        if path.startswith("/_sandbox"):
            return await call_next(request)
        faults = state.faults
        with state.lock:
            state.stats["requests"] += 1
            state.stats[f"{request.method} {_route_name(path)}"] += 1
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.rate_limit_rps:
            retry = _rate_limited(state, faults.rate_limit_rps)
            if retry is not None:
                state.stats["429"] += 1
                return error(
                    429,
                    "Too many requests",
                    "RATE_LIMIT",
                    headers={"Retry-After": str(max(1, math.ceil(retry)))},
                )
        scripted = faults.take_scripted(request.method, path)
        if scripted is not None:
            state.stats[f"scripted {scripted.status or scripted.answer}"] += 1
            return await _scripted_answer(scripted, request, call_next)
        if path.startswith(tuple(API_PREFIXES.values())):
            roll = state.rng.random()
            if roll < faults.rate_429:
                state.stats["429"] += 1
                return error(
                    429,
                    "Too many requests",
                    "RATE_LIMIT",
                    headers={"Retry-After": str(faults.retry_after_s)},
                )
            if roll < faults.rate_429 + faults.rate_5xx:
                state.stats["5xx"] += 1
                return error(faults.status_5xx, "Internal error", "INTERNAL")
        try:
            return await call_next(request)
        except ApiError as exc:  # pragma: no cover - handlers return their errors
            return exc.response

    @app.exception_handler(ApiError)
    async def api_error_handler(request: Request, exc: ApiError):
        return exc.response

    # ------------------------------------------------------------------ auth

    @app.post("/connect/token")
    async def token(request: Request):
        form = await request.form()
        client = state.group.clients.get(str(form.get("client_id") or ""))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if client is None or not secrets.compare_digest(
            str(form.get("client_secret") or ""), client.client_secret
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        requested = frozenset(str(form.get("scope") or "").split())
        allowed = _allowed_scopes(client)
        if not requested or not requested <= allowed:
            return JSONResponse(
                {"error": "invalid_scope", "error_description": "scope not granted"},
                status_code=400,
            )
        value = secrets.token_urlsafe(32)
        with state.lock:
            state.tokens[value] = TokenInfo(
                client.client_id, requested, time.monotonic() + state.token_lifetime
            )
            state.stats["tokens"] += 1
        return {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": int(state.token_lifetime),
            "scope": " ".join(sorted(requested)),
        }

    def authorize(request: Request, api: str) -> tuple[seed_data.Client, str]:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise ApiError(401, "No access token", "TOKEN_MISSING")
        with state.lock:
            info = state.tokens.get(header[7:])
            if info is None:
                raise ApiError(401, "Invalid access token", "TOKEN_INVALID")
            info.calls += 1
            limit = state.faults.token_expires_after_calls
            if time.monotonic() >= info.expires_at or (limit and info.calls > limit):
                raise ApiError(401, "Access token expired", "TOKEN_EXPIRED")
        number = request.headers.get("InstituteNo")
        if not number:
            raise ApiError(400, "Header InstituteNo is required", "INSTITUTENO_MISSING")
        if not request.headers.get("Timestamp"):
            raise ApiError(400, "Header Timestamp is required", "TIMESTAMP_MISSING")
        if SCOPE_PREFIX[api] + number not in info.scopes:
            raise ApiError(
                403, f"No access to instelling {number} with this token", "SCOPE_NOT_GRANTED"
            )
        return state.group.clients[info.client_id], number

    def instelling(number: str) -> seed_data.Instelling:
        inst = state.group.instellingen.get(number)
        if inst is None:
            raise ApiError(404, f"Unknown instelling {number}", "INSTITUTE_UNKNOWN")
        return inst

    def schooljaar_param(request: Request) -> str:
        value = request.query_params.get("schoolYear") or state.schooljaar
        if len(value) != 7 or value[4] != "-":
            raise ApiError(400, "schoolYear must look like 2024-25", "SCHOOLYEAR_INVALID")
        return value

    def accessgroup(
        client: seed_data.Client, name: str, schooljaar: str | None
    ) -> seed_data.Toegangsgroep:
        group = state.group.toegangsgroepen.get(name)
        if group is None:
            raise ApiError(404, f"Unknown toegangsgroep {name}", "ACCESSGROUP_UNKNOWN")
        if name not in client.toegangsgroepen:
            raise ApiError(
                403,
                f"Toegangsgroep {name} is not granted to this client",
                "ACCESSGROUP_NOT_IN_SCOPE",
            )
        if not group.active:
            raise ApiError(403, f"Toegangsgroep {name} is not active", "ACCESSGROUP_INACTIVE")
        year = schooljaar or state.schooljaar
        if year not in group.carried_over:
            raise ApiError(
                403,
                f"Toegangsgroep {name} was not carried over to schooljaar {year}: "
                "log in on it via iRekeningen",
                "ACCESSGROUP_NOT_CARRIED_OVER",
            )
        return group

    # ------------------------------------------------------------ listings

    def listing(request: Request, key: str, records: list[dict], page_key: str) -> Response:
        params = request.query_params
        faults = state.faults
        if params.get("pageSize"):
            size = int(params["pageSize"])
            after = params.get("after")
            with state.lock:
                if after and faults.listing_changes_between_pages:
                    _change_listing(state, records, page_key)
                ordered = sorted(records, key=lambda r: r[page_key])
            if after:
                typed = type(ordered[0][page_key])(after) if ordered else after
                ordered = [r for r in ordered if r[page_key] > typed]
            page = ordered[:size]
            body = {key: page, "hasMore": len(ordered) > size}
            return JSONResponse(body)
        return StreamingResponse(
            _stream_json(key, records, cut=faults.take_truncate()),
            media_type="application/json",
        )

    # Leerlingen

    @app.get(API_PREFIXES["leerlingen"] + "/students")
    async def students(request: Request):
        _, number = authorize(request, "leerlingen")
        year = schooljaar_param(request)
        records = instelling(number).students if year in state.group.schooljaren else []
        last = request.query_params.get("lastName")
        first = request.query_params.get("firstName")
        if last or first:
            records = [
                r
                for r in records
                if (not last or r["naam"] == last) and (not first or r["voornaam"] == first)
            ]
        if state.faults.bad_student_rows and records:
            records = _with_bad_rows(records, state.faults.bad_student_rows)
        return listing(request, "students", records, "pPersoon")

    @app.get(API_PREFIXES["leerlingen"] + "/students/{person_id}")
    async def student(request: Request, person_id: str):
        _, number = authorize(request, "leerlingen")
        schooljaar_param(request)
        for record in instelling(number).students:
            if record["persoonId"] == person_id:
                return seed_data.student_detail(record, state.seed)
        raise ApiError(404, "Unknown student", "STUDENT_UNKNOWN")

    @app.get(API_PREFIXES["leerlingen"] + "/registrations")
    async def registrations(request: Request):
        _, number = authorize(request, "leerlingen")
        year = schooljaar_param(request)
        records = [r for r in instelling(number).registrations if r["schooljaar"] == year]
        return listing(request, "registrations", records, "pInschrijving")

    @app.get(API_PREFIXES["leerlingen"] + "/preregistrations")
    async def preregistrations(request: Request):
        _, number = authorize(request, "leerlingen")
        year = schooljaar_param(request)
        records = [
            r for r in instelling(number).preregistrations.values() if r["schoolyear"] == year
        ]
        return listing(request, "preregistrations", records, "preRegistrationId")

    @app.post(API_PREFIXES["leerlingen"] + "/preregistrations/save")
    async def save_preregistration(request: Request):
        _, number = authorize(request, "leerlingen")
        body = await _json_body(request)
        problems = _preregistration_problems(body, number)
        if problems:
            codes = [code for code, _ in problems]
            text = "; ".join(message for _, message in problems)
            raise ApiError(400, f"Invalid voorinschrijving: {text}", *codes)
        key = str(body["preRegistrationId"])
        with state.lock:
            existing = instelling(number).preregistrations.get(key)
            if existing is not None:
                if _same_preregistration(existing, body):
                    state.stats["preregistrations_repeated"] += 1
                    return {**existing, "created": False}
                raise ApiError(
                    409,
                    "A different voorinschrijving with this preRegistrationId exists",
                    "PREREGISTRATION_CONFLICT",
                )
            record = {
                **body,
                "pVoorinschrijving": len(instelling(number).preregistrations) + 1,
                "status": "ontvangen",
                "createdAt": datetime.now().isoformat(timespec="seconds"),
            }
            instelling(number).preregistrations[key] = record
            state.stats["preregistrations_created"] += 1
        return JSONResponse({**record, "created": True}, status_code=200)

    @app.post(API_PREFIXES["leerlingen"] + "/preregistrations/{pre_id}/update")
    async def update_preregistration(request: Request, pre_id: str):
        _, number = authorize(request, "leerlingen")
        body = await _json_body(request)
        with state.lock:
            existing = instelling(number).preregistrations.get(pre_id)
            if existing is None:
                raise ApiError(404, "Unknown voorinschrijving", "PREREGISTRATION_UNKNOWN")
            if existing.get("registrationStatus") == "accepted":
                frozen = [k for k in FROZEN_WHEN_ACCEPTED if k in body and body[k] != existing[k]]
                if frozen:
                    raise ApiError(
                        409,
                        f"Fields frozen once accepted: {', '.join(frozen)}",
                        "PREREGISTRATION_FROZEN",
                    )
            body.pop("preRegistrationId", None)
            existing.update(body)
            return existing

    # Personeel

    @app.get(API_PREFIXES["personeel"] + "/employees")
    async def employees(request: Request):
        _, number = authorize(request, "personeel")
        return listing(request, "employees", instelling(number).employees, "pPersoon")

    @app.get(API_PREFIXES["personeel"] + "/employees/assignments")
    async def assignments(request: Request):
        _, number = authorize(request, "personeel")
        return listing(request, "assignments", instelling(number).assignments, "pOpdracht")

    @app.get(API_PREFIXES["personeel"] + "/employees/{employee_id}")
    async def employee(request: Request, employee_id: str):
        _, number = authorize(request, "personeel")
        for record in instelling(number).employees:
            if record["persoonId"] == employee_id or str(record["pPersoon"]) == employee_id:
                return record
        raise ApiError(404, "Unknown employee", "EMPLOYEE_UNKNOWN")

    # Rekeningen

    @app.get(API_PREFIXES["rekeningen"] + "/accessgroups")
    async def accessgroups(request: Request):
        client, _ = authorize(request, "rekeningen")
        year = schooljaar_param(request)
        records = [
            {
                "name": group.name,
                "schoolYear": year,
                "active": group.is_active_for(year),
                "instituteNos": list(group.instellingsnummers),
            }
            for name, group in sorted(state.group.toegangsgroepen.items())
            if name in client.toegangsgroepen
        ]
        return listing(request, "accessgroups", records, "name")

    @app.get(API_PREFIXES["rekeningen"] + "/accessgroups/{name}/users")
    async def accessgroup_users(request: Request, name: str):
        client, _ = authorize(request, "rekeningen")
        group = accessgroup(client, name, request.query_params.get("schoolYear"))
        return listing(request, "users", group.users, "userId")

    @app.get(API_PREFIXES["rekeningen"] + "/accessgroups/{name}/journals")
    async def accessgroup_journals(request: Request, name: str):
        client, _ = authorize(request, "rekeningen")
        group = accessgroup(client, name, request.query_params.get("schoolYear"))
        return listing(request, "journals", group.journals, "code")

    @app.get(API_PREFIXES["rekeningen"] + "/accessgroups/{name}/invoices")
    async def invoices(request: Request, name: str):
        client, _ = authorize(request, "rekeningen")
        year = schooljaar_param(request)
        group = accessgroup(client, name, year)
        return listing(request, "invoices", group.invoices.get(year, []), "invoiceId")

    @app.post(API_PREFIXES["rekeningen"] + "/accessgroups/{name}/invoices/{invoice_id}/pdf")
    async def request_pdf(request: Request, name: str, invoice_id: str):
        client, _ = authorize(request, "rekeningen")
        year = request.query_params.get("schoolYear")
        group = accessgroup(client, name, year)
        invoice = _find_invoice(group, invoice_id)
        if invoice is None:
            raise ApiError(404, "Unknown invoice", "INVOICE_UNKNOWN")
        job = PdfJob(
            secrets.token_hex(8), name, invoice_id, time.monotonic(), invoice.get("schoolYear")
        )
        job.failed = invoice_id in state.faults.pdf_failed_invoices
        regenerate = request.query_params.get("regenerate", "").lower() == "true"
        if invoice.get("pdfGeneratedAt") and not regenerate:
            # Informat already made this PDF: the job answers the existing one at once
            job.generated_at = datetime.fromisoformat(invoice["pdfGeneratedAt"])
        with state.lock:
            state.pdf_jobs[job.job_id] = job
            state.stats["pdf_requests"] += 1
        return JSONResponse({"jobId": job.job_id, "status": "pending"}, status_code=202)

    def pdf_job(client: seed_data.Client, job_id: str) -> PdfJob:
        job = state.pdf_jobs.get(job_id)
        if job is None:
            raise ApiError(404, "Unknown PDF job", "PDF_JOB_UNKNOWN")
        accessgroup(client, job.toegangsgroep, job.schooljaar)
        return job

    @app.get(API_PREFIXES["rekeningen"] + "/pdf-jobs/{job_id}")
    async def get_pdf_job(request: Request, job_id: str):
        client, _ = authorize(request, "rekeningen")
        job = pdf_job(client, job_id)
        with state.lock:
            job.polls += 1
            state.stats["pdf_polls"] += 1
        answer: dict[str, Any] = {"jobId": job.job_id, "invoiceId": job.invoice_id}
        if job.failed:
            return {**answer, "status": "failed", "message": "PDF generation failed"}
        ready = job.generated_at is not None or (
            not state.faults.pdf_never_ready
            and time.monotonic() - job.created_at >= state.pdf_delay
        )
        if not ready:
            return {**answer, "status": "pending"}
        if job.generated_at is None:
            job.generated_at = datetime.now().replace(microsecond=0)
            invoice = _find_invoice(state.group.toegangsgroepen[job.toegangsgroep], job.invoice_id)
            if invoice is not None:
                invoice["pdfGeneratedAt"] = job.generated_at.isoformat()
        content = _pdf_bytes(job.invoice_id, job.job_id)
        return {
            **answer,
            "status": "ready",
            "generatedAt": job.generated_at.isoformat(),
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "downloadUrl": f"pdf-jobs/{job.job_id}/download",
        }

    @app.get(API_PREFIXES["rekeningen"] + "/pdf-jobs/{job_id}/download")
    async def download_pdf(request: Request, job_id: str):
        client, _ = authorize(request, "rekeningen")
        job = pdf_job(client, job_id)
        if job.generated_at is None:
            raise ApiError(409, "PDF is not ready yet", "PDF_NOT_READY")
        expired = state.faults.pdf_expired or job.generated_at < datetime.now() - timedelta(
            days=365
        )
        if expired:
            raise ApiError(410, "PDF no longer available (kept at most one year)", "PDF_EXPIRED")
        content = _pdf_bytes(job.invoice_id, job.job_id)
        with state.lock:
            state.stats["pdf_downloads"] += 1
            corrupt = state.faults.take_corrupt_pdf()
        if corrupt:
            content = content[:-20] + b"%% corrupted in transit"[:20]
        return Response(content, media_type="application/pdf")

    @app.post(API_PREFIXES["rekeningen"] + "/accessgroups/{name}/payments")
    async def register_payment(request: Request, name: str):
        client, _ = authorize(request, "rekeningen")
        group = accessgroup(client, name, request.query_params.get("schoolYear"))
        body = await _json_body(request)
        if not any(u.get("active") and u.get("valid") for u in group.users):
            raise ApiError(
                409, f"No active and valid user in toegangsgroep {name}", "NO_ACTIVE_USER"
            )
        if not any(j.get("code") in ("Extern", "Extern_Dubieus") for j in group.journals):
            raise ApiError(
                409, f"No journal Extern or Extern_Dubieus in toegangsgroep {name}", "NO_JOURNAL"
            )
        invoice = _find_invoice(group, str(body.get("invoiceId", "")))
        if invoice is None:
            raise ApiError(404, "Unknown invoice", "INVOICE_UNKNOWN")
        try:
            amount = float(body["amount"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "amount is required", "AMOUNT_INVALID") from None
        with state.lock:
            payment = {"paymentId": len(group.payments) + 1, **body}
            group.payments.append(payment)
            invoice["paidAmount"] = round(invoice["paidAmount"] + amount, 2)
            if invoice["paidAmount"] >= invoice["amount"]:
                invoice["status"] = "betaald"
        return JSONResponse(payment, status_code=201)

    # --------------------------------------------------------- control plane

    @app.get("/_sandbox/health")
    async def health():
        return {"status": "ok", "schooljaar": state.schooljaar}

    @app.get("/_sandbox/faults")
    async def get_faults():
        return state.faults.as_dict()

    @app.put("/_sandbox/faults")
    async def put_faults(request: Request):
        """Replace the faults in force (fields left out are switched off)."""
        body = await _json_body(request)
        try:
            faults = Faults.from_dict(body)
        except (TypeError, ValueError) as exc:
            return error(400, str(exc), "FAULTS_INVALID")
        with state.lock:
            state.faults = faults
            state.rng = random.Random(state.seed)
        return faults.as_dict()

    @app.post("/_sandbox/reset")
    async def reset(request: Request):
        body = await _json_body(request, empty_ok=True)
        changes: dict[str, Any] = {}
        if "today" in body:
            changes["today"] = date.fromisoformat(body["today"]) if body["today"] else None
        for key in ("seed", "students"):
            if key in body:
                changes[key] = int(body[key])
        for key in ("pdf_delay", "token_lifetime"):
            if key in body:
                changes[key] = float(body[key])
        await asyncio.to_thread(state.reset, **changes)
        return {"status": "reset", "schooljaar": state.schooljaar}

    @app.get("/_sandbox/stats")
    async def stats():
        with state.lock:
            return dict(state.stats)

    @app.get("/_sandbox/counts")
    async def counts():
        """What the sandbox holds, for tests and benchmarks to compare against."""
        group = state.group
        return {
            "schooljaren": list(group.schooljaren),
            "instellingen": {
                number: {
                    "students": len(inst.students),
                    "registrations": len(inst.registrations),
                    "employees": len(inst.employees),
                    "preregistrations": len(inst.preregistrations),
                }
                for number, inst in group.instellingen.items()
            },
            "toegangsgroepen": {
                name: {
                    "invoices": {year: len(items) for year, items in g.invoices.items()},
                    "carried_over": sorted(g.carried_over),
                    "active": g.active,
                    "payments": len(g.payments),
                }
                for name, g in group.toegangsgroepen.items()
            },
        }

    @app.put("/_sandbox/accessgroups/{name}")
    async def put_accessgroup(request: Request, name: str):
        """Change a toegangsgroep: ``carried_over`` (list of schooljaren), ``active``,
        ``users``, ``journals``."""
        group = state.group.toegangsgroepen.get(name)
        if group is None:
            return error(404, f"Unknown toegangsgroep {name}", "ACCESSGROUP_UNKNOWN")
        body = await _json_body(request)
        with state.lock:
            if "carried_over" in body:
                group.carried_over = set(body["carried_over"])
            if "carry_over" in body:
                group.carried_over.add(body["carry_over"])
            if "active" in body:
                group.active = bool(body["active"])
            if "users" in body:
                group.users = list(body["users"])
            if "journals" in body:
                group.journals = list(body["journals"])
        return {
            "name": group.name,
            "carried_over": sorted(group.carried_over),
            "active": group.active,
            "users": group.users,
            "journals": group.journals,
        }

    return app


# ---------------------------------------------------------------------- helpers


def _route_name(path: str) -> str:
    for api, prefix in API_PREFIXES.items():
        if path.startswith(prefix):
            parts = path[len(prefix) :].strip("/").split("/")
            return f"{api}/{parts[0]}" + ("/*" if len(parts) > 1 else "")
    return path


def _allowed_scopes(client: seed_data.Client) -> frozenset[str]:
    return frozenset(
        prefix + number for prefix in SCOPE_PREFIX.values() for number in client.instellingsnummers
    )


def _rate_limited(state: SandboxState, rps: float) -> float | None:
    """Sliding one-second window: None when the request may pass, else seconds to wait."""
    now = time.monotonic()
    with state.lock:
        window = state.window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= rps:
            return 1.0 - (now - window[0])
        window.append(now)
    return None


async def _json_body(request: Request, empty_ok: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if empty_ok:
            return {}
        raise ApiError(400, "A JSON body is required", "BODY_MISSING")
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "The body is not valid JSON", "BODY_INVALID") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object", "BODY_INVALID")
    return body


def _preregistration_problems(body: dict[str, Any], number: str) -> list[tuple[str, str]]:
    problems = [
        (f"FIELD_REQUIRED_{name.upper()}", f"{name} is required")
        for name in PREREGISTRATION_REQUIRED
        if body.get(name) in (None, "")
    ]
    relations = body.get("relations") or []
    if not any(r.get("lastName") and r.get("firstName") for r in relations if isinstance(r, dict)):
        problems.append(("RELATION_REQUIRED", "at least one relation with last and first name"))
    if body.get("sex") not in (None, "", "M", "V"):
        problems.append(("SEX_INVALID", "sex must be M or V"))
    if body.get("institute") not in (None, "") and str(body["institute"]) != number:
        problems.append(("INSTITUTE_MISMATCH", "institute differs from the InstituteNo header"))
    for name in ("dateOfBirth", "startDate"):
        if body.get(name):
            try:
                date.fromisoformat(str(body[name]))
            except ValueError:
                problems.append((f"DATE_INVALID_{name.upper()}", f"{name} is not a date"))
    return problems


def _same_preregistration(existing: dict[str, Any], body: dict[str, Any]) -> bool:
    return all(existing.get(k) == v for k, v in body.items())


def _with_bad_rows(records: list[dict], count: int) -> list[dict]:
    """Seeded bad data: wrong INSZ check digits, an unknown sex code, and a duplicated person."""
    out = [dict(r) for r in records]
    for index in range(min(count, len(out))):
        bad = out[index]
        number = bad.get("rijksregisternr")
        if number:
            bad["rijksregisternr"] = number[:9] + f"{(int(number[9:]) + 1) % 100:02d}"
        bad["geslacht"] = "X"
    duplicate = dict(out[-1])
    duplicate["pPersoon"] = out[-1]["pPersoon"] + 10_000_000
    out.append(duplicate)  # same persoonId twice
    return out


def _find_invoice(group: seed_data.Toegangsgroep, invoice_id: str) -> dict[str, Any] | None:
    for items in group.invoices.values():
        for invoice in items:
            if invoice["invoiceId"] == invoice_id:
                return invoice
    return None


def _change_listing(state: SandboxState, records: list[dict], page_key: str) -> None:
    """Between two pages: a new record appears before the cursor and one after it goes away,
    which makes naive offset paging repeat or skip a row."""
    if not records or not isinstance(records[0][page_key], int):
        return
    newcomer = dict(min(records, key=lambda r: r[page_key]))
    newcomer[page_key] = newcomer[page_key] - 1_000_000 - state.changed_listings
    records.insert(0, newcomer)
    state.changed_listings += 1


def _stream_json(key: str, records: Iterable[dict], cut: bool = False) -> Iterator[bytes]:
    """A listing as ``{"key": [...]}``, produced in batches of records (and cut off when asked)."""
    records = list(records)  # a snapshot: the listing may change while it streams
    limit = len(records) // 2 if cut else len(records)
    yield ('{"' + key + '":[').encode()
    for start in range(0, limit, 500):
        text = ",".join(
            json.dumps(r, ensure_ascii=False) for r in records[start : min(start + 500, limit)]
        )
        yield ("," if start else "").encode() + text.encode()
    if cut:
        raise ConnectionAbortedError("sandbox: answer cut off on purpose")
    yield b"]}"


def _pdf_bytes(invoice_id: str, job_id: str) -> bytes:
    """A small, valid, deterministic PDF for an invoice."""
    text = f"Rekening {invoice_id}".encode("latin-1", "replace")
    stream = b"BT /F1 18 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


async def _scripted_answer(fault: ScriptedFault, request: Request, call_next) -> Response:
    if fault.delay_s:
        await asyncio.sleep(fault.delay_s)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    if fault.status:
        return error(fault.status, fault.message or "Injected fault", fault.code, headers=headers)
    answer = fault.answer
    if answer == "malformed_json":
        return Response(b'{"students": [{"pPersoon": 1,, ]', media_type="application/json")
    if answer == "html":
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        return Response(page, media_type="text/html")
    if answer == "wrong_content_type":
        return Response(b"students: none", media_type="text/plain")
    if answer == "empty":
        return Response(b"", media_type="application/json")
    if answer == "truncated":
        response = await call_next(request)
        if isinstance(response, StreamingResponse) or hasattr(response, "body_iterator"):
            return _truncated(response)
        return response
    return await call_next(request)  # "delay" only


def _truncated(response: Response) -> Response:
    """Pass on the first half of the body, then drop the connection."""
    source = response.body_iterator

    async def half() -> Any:
        chunks = [chunk async for chunk in source]
        body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        yield body[: max(1, len(body) // 2)]
        raise ConnectionAbortedError("sandbox: answer cut off on purpose")

    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return StreamingResponse(half(), status_code=response.status_code, headers=headers)
