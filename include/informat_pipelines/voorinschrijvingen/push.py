"""Pushing valid rows as voorinschrijvingen: batches with bounded concurrency, each batch's
answers recorded in the ledger before the next starts. A row pushed before is not sent again,
unless it was corrected and the voorinschrijving is still open at Informat: then it is saved
again (a change). Informat's refusals are reported with its code and its Dutch meaning."""

from __future__ import annotations

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from informat_client import (
    InformatClient,
    InformatError,
    InformatForbiddenError,
    InformatNotFoundError,
    InformatRequestError,
)
from informat_client.codes import DECIDED, meaning

from .ledger import PUSHED, Ledger, body_hash
from .rows import Checked
from .settings import VoorinschrijvingenSettings


@dataclass
class RowResult:
    row: int
    status: str  # pushed, updated, already_pushed, locked, rejected, failed
    reason: str
    informat_id: str = ""


def refusal(exc: InformatError) -> str:
    """Informat's refusal as the school reads it: each code with its Dutch meaning."""
    if not exc.codes:
        return f"Informat weigerde de voorinschrijving (HTTP {exc.status})"
    return "Informat weigerde: " + "; ".join(
        f"{code} {meaning(code, exc.messages.get(code))}" for code in exc.codes
    )


def _outcome(exc: InformatError) -> tuple[str, str, str]:
    """(row status, ledger status, Dutch reason) of a failed save."""
    if DECIDED & set(exc.codes):
        return "locked", "locked", "niet gewijzigd: " + refusal(exc).split(": ", 1)[1]
    if isinstance(exc, InformatForbiddenError):
        codes = ", ".join(exc.codes) or str(exc.status)
        return "rejected", "refused", f"geen toegang tot deze instelling bij Informat ({codes})"
    if isinstance(exc, InformatRequestError | InformatNotFoundError):
        return "rejected", "refused", refusal(exc)
    answer = exc.status or "geen antwoord"
    reason = f"tijdelijk probleem bij Informat ({answer}); zet het bestand later opnieuw klaar"
    return "failed", "failed", reason


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _already(item: Checked, earlier: dict[str, Any]) -> RowResult | None:
    """The result of a row pushed before, when nothing is to be sent; None: send it."""
    informat_id = str(earlier.get("informat_id", ""))
    status = earlier.get("informat_status", "open")
    if earlier.get("body_hash") == body_hash(item.body):
        return RowResult(
            item.row, "already_pushed", "al eerder doorgestuurd; niet opnieuw verzonden",
            informat_id,
        )  # fmt: skip
    if status in ("geaccepteerd", "geweigerd"):
        return RowResult(
            item.row, "locked",
            f"niet gewijzigd: de voorinschrijving is al {status} in Informat; "
            "pas ze daar aan", informat_id,
        )  # fmt: skip
    return None


def plan(
    checked: list[Checked], ledger: Ledger
) -> tuple[dict[int, RowResult], list[tuple[Checked, bool]]]:
    """What a push of ``checked`` would do, without sending: the rows settled already (refused,
    pushed before, locked at Informat) by row number, and the rows to send, each with whether
    it changes a voorinschrijving sent before."""
    results: dict[int, RowResult] = {}
    todo = []
    for item in checked:
        if item.problems:
            results[item.row] = RowResult(item.row, "rejected", "; ".join(item.problems))
            continue
        earlier = ledger.pushed(item.pre_registration_id)
        done = _already(item, earlier) if earlier else None
        if done is not None:
            results[item.row] = done
            continue
        todo.append((item, earlier is not None))
    return results, todo


WOULD_PUSH = "zou doorgestuurd worden naar Informat"
WOULD_UPDATE = "zou als wijziging doorgestuurd worden naar Informat (al eerder doorgestuurd)"


def preview(checked: list[Checked], ledger: Ledger) -> list[RowResult]:
    """The per-row report of what a push would do, in row order: the rows to send as
    ``pushed`` or ``updated`` with a reason that says they would be."""
    results, todo = plan(checked, ledger)
    for item, change in todo:
        status, reason = ("updated", WOULD_UPDATE) if change else ("pushed", WOULD_PUSH)
        results[item.row] = RowResult(item.row, status, reason)
    return [results[k] for k in sorted(results)]


OUTAGE_AFTER = 5  # temporary failures in a row after which Informat is taken to be down
NOT_SENT = "niet verstuurd: Informat was niet bereikbaar; het bestand wordt later opnieuw verwerkt"


def push(
    client: InformatClient,
    checked: list[Checked],
    ledger: Ledger,
    run_id: str,
    settings: VoorinschrijvingenSettings,
    file_name: str = "",
) -> list[RowResult]:
    """Push every valid row not pushed before (or corrected since), in batches with bounded
    concurrency (``settings.batch_size``, ``settings.concurrency``); record each batch's answers
    in the ledger before the next batch starts.

    After ``OUTAGE_AFTER`` temporary failures in a row Informat is taken to be down: the rows
    not sent yet are reported ``NOT_SENT`` (the caller leaves the file for a later run) instead
    of each spending minutes in retries."""
    results, todo = plan(checked, ledger)
    lock = threading.Lock()
    failing = [0]  # temporary failures in a row

    def send(job: tuple[Checked, bool]) -> dict[str, Any] | None:
        item, change = job
        if failing[0] >= OUTAGE_AFTER:
            with lock:
                results[item.row] = RowResult(item.row, "failed", NOT_SENT)
            return None
        base = {
            "preRegistrationId": item.pre_registration_id,
            "instelling": item.instellingsnummer,
            "file": file_name,
            "row": item.row,
            "run": run_id,
            "at": _now(),
        }
        try:
            answer = client.save_preregistration(item.instellingsnummer, item.body)
        except InformatError as exc:
            status, entry_status, reason = _outcome(exc)
            result = RowResult(item.row, status, reason)
            entry = {**base, "status": entry_status, "codes": list(exc.codes), "http": exc.status}
        else:
            informat_id = str(answer.get("preRegistrationId") or item.pre_registration_id)
            reason = (
                "wijziging doorgestuurd naar Informat" if change else "doorgestuurd naar Informat"
            )
            result = RowResult(item.row, "updated" if change else "pushed", reason, informat_id)
            entry = {
                **base,
                "status": PUSHED,
                "informat_id": informat_id,
                "informat_status": str(answer.get("status") or "open"),
                "body_hash": body_hash(item.body),
            }
        with lock:
            results[item.row] = result
            failing[0] = failing[0] + 1 if entry["status"] == "failed" else 0
        return entry

    # one ledger object per batch, named by run, file and this attempt: neither two files of a
    # run nor a retry of the same file (whose first batch holds other rows) can overwrite what an
    # earlier attempt recorded (and the ledger writes with no-overwrite besides)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", file_name) or "rows"
    stem = f"{stem}-{uuid.uuid4().hex[:8]}"
    batch_size = settings.batch_size
    with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            entries = [e for e in pool.map(send, batch) if e is not None]
            ledger.record(f"{run_id}-{stem}-{start // batch_size:05d}", entries)
    return [results[k] for k in sorted(results)]
