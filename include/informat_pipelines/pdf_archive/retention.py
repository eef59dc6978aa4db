"""The retention guard of the PDF archive: Informat keeps a PDF at most a year, so list per
toegangsgroep and schooljaar what is archived and what is missing, and say which PDFs are about
to leave Informat unarchived (at risk) or already did (lost). No Airflow import."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from informat_client import InformatClient, InformatError
from informat_client.masking import get_logger
from informat_pipelines.core.status import archive_months

from .archive import ArchiveSettings
from .store import Manifest, ObjectStore, manifest_key

log = get_logger(__name__)


@dataclass
class Status:
    toegangsgroep: str
    schooljaar: str
    invoices: int
    archived: int
    missing: int
    at_risk: list[str]  # made by Informat longer ago than the warning age, not archived
    lost: list[str]
    # per month the PDF was made, and when each unarchived PDF leaves Informat (for the page)
    by_month: dict[str, Any] = field(default_factory=dict)


def status(
    client: InformatClient,
    store: ObjectStore,
    settings: ArchiveSettings,
    toegangsgroep: str,
    schooljaar: str,
    now: datetime | None = None,
) -> Status:
    """How many invoices, how many archived, how many missing; which are at risk or lost."""
    now = now or datetime.now()
    invoices = {
        str(i["invoiceId"]): i.get("pdfGeneratedAt")
        for i in client.iter_invoices(toegangsgroep, schooljaar)
    }
    manifest = Manifest.load(store, manifest_key(settings, toegangsgroep, schooljaar))
    threshold = now - timedelta(days=settings.retention_warn_days)
    missing = [i for i in invoices if i not in manifest.entries]
    at_risk = [
        i
        for i in missing
        if invoices[i]
        and datetime.fromisoformat(cast(str, invoices[i])).replace(tzinfo=None) < threshold
        and i not in manifest.lost
    ]
    return Status(
        toegangsgroep,
        schooljaar,
        len(invoices),
        sum(1 for i in invoices if i in manifest.entries),
        len(missing),
        sorted(at_risk),
        sorted(i for i in manifest.lost if i in invoices and i not in manifest.entries),
        archive_months(invoices, manifest.entries, manifest.lost, manifest.failed),
    )


def format_status(rows: Iterable[Status]) -> str:
    lines = [
        "toegangsgroep | schooljaar | invoices | archived | missing | at risk | lost",
        "--- | --- | --- | --- | --- | --- | ---",
    ]
    for row in rows:
        lines.append(
            f"{row.toegangsgroep} | {row.schooljaar} | {row.invoices} | {row.archived} | "
            f"{row.missing} | {len(row.at_risk)} | {len(row.lost)}"
        )
    return "\n".join(lines)


def status_all(
    client: InformatClient,
    store: ObjectStore,
    settings: ArchiveSettings,
    targets: Iterable[Mapping[str, Any]],
) -> tuple[list[Status], list[str]]:
    """The status of every target (``toegangsgroep``, ``schooljaar``), and a line for each one
    Informat would not list (not carried over, no access)."""
    rows, unreadable = [], []
    for target in targets:
        try:
            rows.append(
                status(client, store, settings, target["toegangsgroep"], target["schooljaar"])
            )
        except InformatError as exc:
            unreadable.append(f"{target['toegangsgroep']} {target['schooljaar']}: {exc}")
    return rows, unreadable


def retention_mail(rows: Iterable[Status], settings: ArchiveSettings) -> tuple[str, str] | None:
    """Subject and HTML body of the mail about PDFs at risk or lost; None when there are none."""
    rows = [r for r in rows if r.at_risk or r.lost]
    if not rows:
        return None
    at_risk = sum(len(r.at_risk) for r in rows)
    lost = sum(len(r.lost) for r in rows)
    lines = [
        f"{r.toegangsgroep} {r.schooljaar}: {len(r.at_risk)} PDF(s) older than "
        f"{settings.retention_warn_days} days not archived; {len(r.lost)} lost "
        f"(already deleted by Informat). At risk: {', '.join(r.at_risk[:50]) or '-'}; "
        f"lost: {', '.join(r.lost[:50]) or '-'}"
        for r in rows
    ]
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return (
        f"[Informat] PDF archive: {at_risk} at risk, {lost} lost",
        f"<html><body>{body}<p>The archive keeps what Informat deletes after a year. "
        "Run informat_pdf_archive now, or regenerate the lost PDFs in Informat.</p>"
        "</body></html>",
    )


def guard(
    client: InformatClient,
    store: ObjectStore,
    settings: ArchiveSettings,
    targets: Iterable[Mapping[str, Any]],
) -> tuple[list[Status], tuple[str, str] | None]:
    """The retention guard of a run: every target's status, logged as a table, and the mail to
    send (subject, body) when PDFs are at risk or lost and somebody is to be told."""
    rows, unreadable = status_all(client, store, settings, targets)
    log.info("PDF archive status:\n%s", format_status(rows))
    for line in unreadable:
        log.warning("not listed: %s", line)
    mail = retention_mail(rows, settings)
    if mail and not settings.alert_recipients:
        log.warning("PDFs at risk or lost, but no alert_recipients are configured")
        return rows, None
    return rows, mail
