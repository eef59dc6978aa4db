"""The daily follow-up of pushed voorinschrijvingen: ask Informat the status of each one still
open, record every change in the ledger, and tell each school which of its voorinschrijvingen
were accepted or refused (a report in its outbox and a mail), so that nobody has to look it up
in Informat. No Airflow import; ids, files and row numbers only, never personal data."""

from __future__ import annotations

import csv
import html
import io
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from informat_client import InformatClient, InformatError, InformatNotFoundError
from informat_client.masking import get_logger
from informat_pipelines.core.status import record_followup

from .ledger import STATUS, Ledger
from .report import neutralise
from .settings import VoorinschrijvingenSettings

log = get_logger(__name__)

STATUS_NL = {"geaccepteerd": "geaccepteerd", "geweigerd": "geweigerd", "verdwenen": "verdwenen"}


@dataclass
class Change:
    instelling: str
    file: str
    row: int
    pre_registration_id: str
    status: str  # geaccepteerd, geweigerd, or verdwenen (Informat no longer knows it)


@dataclass
class Followup:
    asked: int
    changes: list[Change]
    unreachable: list[str]  # instellingen whose statuses could not be read (temporary)
    reports: dict[str, str]  # instelling -> location of its report

    def counts(self, instelling: str) -> dict[str, int]:
        mine = [c for c in self.changes if c.instelling == instelling]
        return {s: sum(1 for c in mine if c.status == s) for s in STATUS_NL}


def ask_statuses(client: InformatClient, ledger: Ledger, run_id: str) -> Followup:
    """Ask the status of every voorinschrijving still open; record what changed."""
    changes, entries, unreachable = [], [], set()
    open_entries = list(ledger.still_open())
    for entry in open_entries:
        number, key = entry["instelling"], entry["preRegistrationId"]
        if number in unreachable:
            continue
        try:
            status = str(client.get_preregistration_status(number, key).get("status") or "open")
        except InformatNotFoundError:
            status = "verdwenen"  # deleted at Informat (DNF001)
        except InformatError as exc:
            log.warning("status of voorinschrijvingen of %s not read: %s", number, exc)
            unreachable.add(number)
            continue
        if status == entry.get("informat_status", "open"):
            continue
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        entries.append(
            {"preRegistrationId": key, "status": STATUS, "informat_status": status, "at": at}
        )
        if status != "open":
            changes.append(Change(number, entry.get("file", ""), entry.get("row", 0), key, status))
    ledger.record(
        f"followup-{run_id}-{uuid.uuid4().hex[:8]}", entries
    )  # a retry adds, never replaces
    log.info(
        "follow-up: %d open voorinschrijving(en) asked, %d changed", len(open_entries), len(changes)
    )
    return Followup(len(open_entries), changes, sorted(unreachable), {})


def report_csv(changes: Iterable[Change]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["bestand", "rij", "status", "informat_id"])
    for c in sorted(changes, key=lambda c: (c.file, c.row)):
        writer.writerow(
            [neutralise(c.file), str(c.row), STATUS_NL[c.status], c.pre_registration_id]
        )
    return out.getvalue().encode("utf-8-sig")


def write_reports(zone: Any, result: Followup, day: date) -> Followup:
    """One report per instelling with changes, in its own outbox folder
    (``outbox/<instellingsnummer>/opvolging-<day>.csv``)."""
    for number in sorted({c.instelling for c in result.changes}):
        data = report_csv(c for c in result.changes if c.instelling == number)
        result.reports[number] = zone.write_outbox(number, f"opvolging-{day.isoformat()}.csv", data)
    return result


def tell_schools(
    result: Followup,
    settings: VoorinschrijvingenSettings,
    send_mail: Callable[[tuple[str, ...], str, str], None],
) -> None:
    """A mail per instelling with changes: counts, and its report named as the school sees it
    (``outbox/<instellingsnummer>/opvolging-<day>.csv``), never a server path."""
    for number, location in sorted(result.reports.items()):
        to = settings.contacts.get(number) or settings.fallback_contact
        if not to:
            log.warning("no contact for instelling %s: set contacts or fallback_contact", number)
            continue
        counts = result.counts(number)
        subject = (
            f"[Informat] Voorinschrijvingen {number}: {counts['geaccepteerd']} geaccepteerd, "
            f"{counts['geweigerd']} geweigerd"
        )
        items = "".join(f"<li>{k}: {v}</li>" for k, v in counts.items() if v)
        body = (
            f"<html><body><p>Informat meldt nieuws over voorinschrijvingen van instelling "
            f"{html.escape(number)}:</p><ul>{items}</ul><p>Per bestand en rij: in uw map "
            f"{html.escape(location)}.</p></body></html>"
        )
        send_mail((to,), subject, body)


def as_dict(result: Followup) -> dict[str, Any]:
    return asdict(result)


def run(
    zone: Any,
    client: InformatClient,
    run_id: str,
    day: date,
    settings: VoorinschrijvingenSettings,
    send_mail: Callable[[tuple[str, ...], str, str], None],
) -> Followup:
    """The whole daily follow-up over the ledger in the drop zone's state: ask, record, report
    in each school's outbox, tell its contact (``settings.contacts``, else
    ``settings.fallback_contact``)."""
    ledger = Ledger(zone.list_keys, zone.read_key, zone.create_key).load()
    result = write_reports(zone, ask_statuses(client, ledger, run_id), day)
    record_followup(zone, ledger.entries.values(), day)  # the Informat page's summary
    tell_schools(result, settings, send_mail)
    return result
