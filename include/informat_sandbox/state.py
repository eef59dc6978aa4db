"""The sandbox's state and the shapes every route shares: errors as Informat answers them, the
state object (reset as a whole), and the FastAPI dependency that hands it to a route."""

from __future__ import annotations

import json
import pickle
import random
import secrets
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from informat_client.codes import MESSAGES

from . import data as seed_data
from .faults import Faults

API_PREFIXES = {
    "leerlingen": "/leerlingen/1",
    "personeel": "/personeel",
    "rekeningen": "/rekeningen/1",
}
# scope family -> prefix of the scope granted per instellingsnummer (the Rekeningen one is the
# modelled fallback; each toegangsgroep also has its own literal scope, data.scope_of)
SCOPE_PREFIX = {
    "leerlingen": "api_informat_sas_leerlingen.leerlingen.",
    "voorinschrijvingen": "api_informat_sas_leerlingen.voorinschrijvingen.",
    "personeel": "api_informat_sas_personeel.personeel.",
    "rekeningen": "api_informat_sas_rekeningen.rekeningen.",
}
# the scope families of the Leerlingen API: a token asked without a scope has no rights there
LEERLINGEN_FAMILIES = ("leerlingen", "voorinschrijvingen")


def error(status: int, message: str, *codes: str, headers: dict[str, str] | None = None):
    """An error answer as Informat gives it: a message, and each code with its own message."""
    errors = [{"code": c, "message": MESSAGES.get(c, message)} for c in codes]
    return JSONResponse({"message": message, "errors": errors}, status_code=status, headers=headers)


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
    unscoped: bool = False  # asked without a scope: no rights on the Leerlingen API


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
    instellingen: int = 0  # 0: the default school group; more: that many generated ones
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
            self.group = _built(
                seed=self.seed,
                today=self.today or date.today(),
                students=self.students,
                instellingen_count=self.instellingen,
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

    def remove_students(self, number: str, share: float) -> list[Any]:
        """``share`` (0 to 1) of an instelling's students leave it at once, the first ones:
        they are listed no more, as after a mistaken mass unenrolment. Their registrations
        stay (an extraction's students partition alone changes). Answers their ``pPersoon``.
        A ``changedSince`` listing cannot show a removal: only a full read sees it."""
        if not 0 <= share <= 1:
            raise ValueError("share must be between 0 and 1")
        with self.lock:
            inst = self.group.instellingen[number]
            count = round(len(inst.students) * share)
            gone, inst.students = inst.students[:count], inst.students[count:]
            for student in gone:
                inst.changed.pop(f"students:{student['pPersoon']}", None)
            return [s["pPersoon"] for s in gone]


_BUILT: dict[tuple, bytes] = {}


def _built(**arguments: Any) -> seed_data.SchoolGroup:
    """A fresh copy of the school group ``build`` makes for these arguments. The same seed
    gives the same data, so a reset to seen arguments unpickles a kept copy (four times faster
    than building it again: tests reset the sandbox after each test)."""
    key = tuple(sorted(arguments.items()))
    if key not in _BUILT:
        if len(_BUILT) >= 4:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[key] = pickle.dumps(seed_data.build(**arguments), protocol=5)
    return pickle.loads(_BUILT[key])  # noqa: S301 - bytes this process pickled itself


def sandbox_state(request: Request) -> SandboxState:
    """The state of the app serving ``request`` (FastAPI dependency)."""
    return request.app.state.sandbox


State = Annotated[SandboxState, Depends(sandbox_state)]


async def json_body(request: Request, empty_ok: bool = False) -> dict[str, Any]:
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
