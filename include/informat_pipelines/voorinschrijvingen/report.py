"""What the school gets back: a per-row report (CSV, safe to open in a spreadsheet) and a mail
with counts only, never personal data."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from .push import RowResult

STATUS_TEXT = {
    "pushed": "doorgestuurd",
    "updated": "wijziging doorgestuurd",
    "already_pushed": "al eerder doorgestuurd",
    "locked": "niet gewijzigd",
    "rejected": "geweigerd",
    "failed": "mislukt",
}


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def report_csv(results: Iterable[RowResult], delimiter: str = ";") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["rij", "status", "reden", "informat_id"])
    for r in results:
        writer.writerow(
            [str(r.row), STATUS_TEXT[r.status], neutralise(r.reason), neutralise(r.informat_id)]
        )
    return out.getvalue().encode("utf-8-sig")  # with BOM: Excel opens it right


def rejected_report(reason: str) -> bytes:
    return report_csv([RowResult(0, "rejected", reason)])


def summary(results: Iterable[RowResult]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_TEXT, 0)
    for r in results:
        counts[r.status] += 1
    return counts


def school_location(report: str) -> str:
    """Where a report is as the school sees it (``outbox/<instellingsnummer>/<file>``), from
    where it was written (a path or an ``s3://`` URL, which a school's mail never names)."""
    start = report.rfind("outbox/")
    return report[start:] if start >= 0 else ""


def summary_mail(
    file_name: str, counts: Mapping[str, int], report_location: str, attached: bool = False
) -> tuple[str, str]:
    """Subject and HTML body of the mail to the school: counts only, no personal data. The
    report is named as the school sees it (``report_location``: its outbox folder), and
    ``attached`` says it is attached to the mail."""
    subject = (
        f"[Informat] Inschrijvingen uit {file_name}: {counts['pushed']} doorgestuurd, "
        f"{counts['rejected']} geweigerd, {counts['failed']} mislukt"
    )
    items = "".join(f"<li>{STATUS_TEXT[k]}: {v}</li>" for k, v in counts.items())
    where = school_location(report_location)
    said = []
    if attached:
        said.append("Het verslag per rij zit als bijlage bij deze mail.")
    if where:
        said.append(f"U vindt het ook in uw map {html.escape(where)}.")
    body = (
        f"<html><body><p>Het bestand <b>{html.escape(file_name)}</b> is verwerkt.</p>"
        f"<ul>{items}</ul><p>{' '.join(said)} Rijen die mislukten door een "
        "tijdelijk probleem worden opnieuw verstuurd als u het bestand opnieuw klaarzet; rijen "
        "die al doorgestuurd zijn, worden niet dubbel verstuurd.</p></body></html>"
    )
    return subject, body


def as_dicts(results: Iterable[RowResult]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]
