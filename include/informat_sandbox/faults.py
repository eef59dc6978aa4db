"""Fault injection for the sandbox, switchable per run without a restart (``PUT /_sandbox/faults``).

Shares (``rate_429``, ``rate_5xx``) are drawn from a generator seeded anew each time the faults
are set, so a run with the same faults sees the same answers. ``script`` gives exact control: the
next matching requests get the listed answers, in order.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ANSWERS = ("malformed_json", "html", "wrong_content_type", "empty", "truncated", "delay")


@dataclass
class ScriptedFault:
    """The next ``times`` requests whose path contains ``match`` (and, when given, whose method
    is ``method``) get this answer: an HTTP ``status`` (with ``code``, ``retry_after``), or a
    bad ``answer`` (one of ANSWERS), optionally after ``delay_s``. With ``after`` the first
    ``after`` matching requests pass untouched (an API that fails half-way)."""

    match: str
    times: int = 1
    after: int = 0
    method: str | None = None
    status: int | None = None
    code: str = "INJECTED"
    message: str | None = None
    retry_after: float | None = None
    answer: str | None = None
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        if self.status is None and self.answer is None and not self.delay_s:
            raise ValueError("a scripted fault needs a status, an answer or a delay_s")
        if self.answer is not None and self.answer not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}")
        if self.retry_after is not None and float(self.retry_after).is_integer():
            self.retry_after = int(self.retry_after)


@dataclass
class Faults:
    latency_ms: float = 0.0
    rate_limit_rps: float | None = None  # above this many requests per second: 429
    rate_429: float = 0.0  # share of API answers that are 429
    retry_after_s: int = 1
    rate_5xx: float = 0.0  # share of API answers that are 5xx
    status_5xx: int = 503
    token_expires_after_calls: int | None = None
    listing_changes_between_pages: bool = False
    truncate_listings: int = 0  # the next N unpaged listings are cut off mid-stream
    pdf_never_ready: bool = False
    pdf_expired: bool = False
    pdf_failed_invoices: list[str] = field(default_factory=list)
    corrupt_pdf_downloads: int = 0  # the next N PDF downloads have damaged bytes
    bad_student_rows: int = 0  # every students listing carries N bad rows (seeded bad data)
    # answers as a newer guide version would give them: extra keys, optional keys left out
    drift: bool = False
    script: list[ScriptedFault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        for name in ("rate_429", "rate_5xx"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if not 500 <= self.status_5xx <= 599:
            raise ValueError("status_5xx must be a 5xx status")

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise ValueError(f"unknown faults: {unknown}; known: {sorted(known)}")
        values = dict(body)
        values["script"] = [ScriptedFault(**item) for item in body.get("script") or []]
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def take_scripted(self, method: str, path: str) -> ScriptedFault | None:
        with self._lock:
            for item in self.script:
                if item.times > 0 and item.match in path and item.method in (None, method):
                    if item.after > 0:
                        item.after -= 1
                        return None
                    item.times -= 1
                    return item
        return None

    def take_truncate(self) -> bool:
        with self._lock:
            if self.truncate_listings > 0:
                self.truncate_listings -= 1
                return True
        return False

    def take_corrupt_pdf(self) -> bool:
        with self._lock:
            if self.corrupt_pdf_downloads > 0:
                self.corrupt_pdf_downloads -= 1
                return True
        return False
