"""Pushing valid rows as voorinschrijvingen: batches with bounded concurrency, each batch's
answers recorded in the ledger before the next starts."""

from __future__ import annotations

import threading
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

from .ledger import Ledger
from .rows import Checked


@dataclass
class RowResult:
    row: int
    status: str  # pushed, already_pushed, rejected, failed
    reason: str
    informat_id: str = ""


def _reason_for(exc: InformatError) -> tuple[str, bool]:
    """Dutch reason and whether the failure is temporary (worth a re-drop)."""
    codes = ", ".join(exc.codes) or str(exc.status)
    if isinstance(exc, InformatForbiddenError):
        return f"geen toegang tot deze instelling bij Informat ({codes})", False
    if isinstance(exc, InformatRequestError | InformatNotFoundError):
        return f"Informat weigerde de inschrijving ({codes})", False
    answer = exc.status or "geen antwoord"
    return f"tijdelijk probleem bij Informat ({answer}); zet het bestand later opnieuw klaar", True


def push(
    client: InformatClient,
    checked: list[Checked],
    ledger: Ledger,
    run_id: str,
    batch_size: int = 100,
    concurrency: int = 4,
) -> list[RowResult]:
    """Push every valid row not pushed before, in batches with bounded concurrency; record each
    batch's answers in the ledger before the next batch starts."""
    results: dict[int, RowResult] = {}
    todo = []
    for item in checked:
        if item.problems:
            results[item.row] = RowResult(item.row, "rejected", "; ".join(item.problems))
            continue
        earlier = ledger.pushed(item.pre_registration_id)
        if earlier:
            results[item.row] = RowResult(
                item.row, "already_pushed", "al eerder doorgestuurd; niet opnieuw verzonden",
                str(earlier.get("informat_id", "")),
            )  # fmt: skip
            continue
        todo.append(item)
    lock = threading.Lock()

    def send(item: Checked) -> dict[str, Any]:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        base = {
            "preRegistrationId": item.pre_registration_id,
            "row": item.row,
            "run": run_id,
            "at": stamp,
        }
        try:
            answer = client.save_preregistration(item.instellingsnummer, item.body)
        except InformatError as exc:
            reason, temporary = _reason_for(exc)
            result = RowResult(item.row, "failed" if temporary else "rejected", reason)
            entry = {
                **base,
                "status": "failed" if temporary else "refused",
                "codes": list(exc.codes),
                "http": exc.status,
            }
        else:
            informat_id = str(answer.get("pVoorinschrijving") or answer.get("id") or "")
            created = answer.get("created", True)
            result = RowResult(
                item.row,
                "pushed" if created else "already_pushed",
                "doorgestuurd naar Informat"
                if created
                else "bestond al bij Informat; niet dubbel aangemaakt",
                informat_id,
            )
            entry = {
                **base,
                "status": "pushed",
                "informat_id": informat_id,
                "created": bool(created),
            }
        with lock:
            results[item.row] = result
        return entry

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            entries = list(pool.map(send, batch))
            ledger.record(f"{run_id}-{start // batch_size:05d}", entries)
    return [results[k] for k in sorted(results)]
