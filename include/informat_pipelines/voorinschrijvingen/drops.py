"""One run over the drop zone: claim each file, read, validate, push, report, and move it to
``processed/`` or ``failed/`` of the pipeline's state; then mail each outcome exactly once.

A file is only ever pushed for the instelling of its school's folder (``inbox/<nr>/``): rows of
another instelling are refused, a file outside a school's folder of this connection is not read.
Mails are built only from what the pipeline wrote itself (its state, out of the schools'
reach), checked again against the connection's instellingen and the contacts when they are
sent, and carry the per-row report as an attachment; never a server path."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from functools import partial
from typing import Any

from informat_client import InformatClient
from informat_client.masking import get_logger
from informat_pipelines.core.decisions import APPROVED, REJECTED, TIMED_OUT
from informat_pipelines.core.status import read_key_or_none, record_push

from . import held
from .csvfile import FileRejected, parse
from .dropzone import STALE_AFTER, KeyExists, StillWriting, Unreadable, printable
from .ledger import Ledger
from .push import NOT_SENT, preview, push
from .report import rejected_report, report_csv, school_location, summary, summary_mail
from .rows import validate
from .settings import VoorinschrijvingenSettings

log = get_logger(__name__)

# send_mail(to, subject, html, attachments=None): attachments maps a file name to its bytes
SendMail = Callable[..., None]


@dataclass(frozen=True)
class PushRun:
    """What one run of the push works on: the drop zone, the Informat client, the connection's
    instellingen (a file is only read from one of their folders), the run, the key the
    ``preRegistrationId`` is derived with, and the day its summary is recorded under (None:
    today)."""

    zone: Any
    client: InformatClient
    instellingsnummers: Collection[str]
    run_id: str
    id_key: bytes
    day: date | None = None


@dataclass
class FileOutcome:
    name: str  # printable: a name that was not is shown as its stand-in
    run: str
    accepted: bool  # False: the file as a whole was rejected
    message: str
    counts: dict[str, int]
    instellingsnummers: list[str]
    report: str  # where the per-row report was written ("" when none could be)
    final_location: str
    problem: str = ""  # for the data team: "outage" (Informat down) or "error: <type>"
    instelling: str = ""  # the school's folder the file came from


def _claimed_files(zone: Any, run_id: str) -> list[Any]:
    """This run's own claimed files first (a retried task resumes them), then files whose claim
    by another run went stale (that run failed for good), then new ones."""
    mine = zone.resume(run_id)  # before claiming: what this run claims now is not resumed
    adopted = zone.take_over_stale(run_id)
    fresh = [c for c in (zone.claim(name, run_id) for name in zone.inbox()) if c is not None]
    return mine + adopted + fresh


def _taken_over(claimed: Any) -> str:
    return f"stale claim of {claimed.taken_over_from} taken over" if claimed.taken_over_from else ""


DEFAULT_SETTINGS = VoorinschrijvingenSettings()
# (run, settings, claimed, reports) -> the file's outcome, or None: held for an approval
Handler = Callable[..., "FileOutcome | None"]


def handle_drops(
    run: PushRun, settings: VoorinschrijvingenSettings = DEFAULT_SETTINGS, *, hold: bool = False
) -> list[FileOutcome]:
    """Every claimed file of this run, one after the other: a file that fails, whatever the
    reason, ends in ``failed/`` with a report and does not stop the others.

    ``hold``: a checked file that needs the data team's approval (``held.reasons``) is kept in
    ``held/`` with its preview instead of pushed, and has no outcome yet: ``settle_held`` pushes
    or refuses it once the answer is known."""
    handler = partial(_handle, hold=hold)
    return _each(run, settings, _claimed_files(run.zone, run.run_id), handler)


def settle_held(
    run: PushRun, settings: VoorinschrijvingenSettings, decision: str | None
) -> list[FileOutcome]:
    """The files this run held, by the answer: ``APPROVED`` pushes them as any other file (each
    row once: the ledger is read again now); ``REJECTED`` or ``TIMED_OUT`` sends them to
    ``failed/``, the school told why; no answer (None) leaves them held."""
    held_files = [claimed for claimed, _ in held.waiting(run.zone, run.run_id)]
    if decision == APPROVED:
        handler: Handler = partial(_handle, hold=False)
    elif decision in (REJECTED, TIMED_OUT):
        handler = partial(_declined, decision=decision)
    else:
        return []
    outcomes = _each(run, settings, held_files, handler)
    for claimed in held_files:
        held.forget(run.zone, claimed)
    return outcomes


def _each(
    run: PushRun, settings: VoorinschrijvingenSettings, files: list[Any], handler: Handler
) -> list[FileOutcome]:
    """``handler`` over each file; its outcome (None: held) waits in the state for its mails."""
    zone, allowed = run.zone, list(run.instellingsnummers)
    outcomes = []
    for claimed in files:
        reports: dict[str, bytes] = {}
        try:
            outcome = handler(run, settings, claimed, reports)
        except StillWriting:
            zone.release(claimed)
            log.info("file %s changed while read: back to the inbox for a later run", claimed.name)
            continue
        except Exception as exc:  # one file's failure is that file's, not the run's
            log.error("file %s failed: %s", claimed.name, type(exc).__name__)
            report = _report(zone, claimed, rejected_report(UNEXPECTED), reports)
            final = zone.finish(claimed, ok=False)
            outcome = FileOutcome(
                claimed.name, claimed.run, False, UNEXPECTED, summary([]),
                _school(claimed, allowed), report, final, problem=f"error: {type(exc).__name__}",
                instelling=claimed.instelling,
            )  # fmt: skip
        if outcome is None:
            continue
        if taken_over := _taken_over(claimed):  # the data team hears a run left it behind
            outcome.problem = "; ".join(p for p in (taken_over, outcome.problem) if p)
        # kept in the state until its mails are out: a mail server down never loses an outcome
        pending = {"outcome": asdict(outcome), "attempts": 0, "attachments": {
            name: data.decode("utf-8-sig") for name, data in reports.items()
        }}  # fmt: skip
        zone.write_key(_pending_key(outcome), json.dumps(pending).encode())
        record_push(zone, asdict(outcome), run.day or date.today())  # the Informat page's summary
        outcomes.append(outcome)
    return outcomes


def _declined(
    run: PushRun,
    settings: VoorinschrijvingenSettings,
    claimed: Any,
    reports: dict[str, bytes],
    decision: str,
) -> FileOutcome:
    """A held file the data team did not approve: to ``failed/``, no row sent, the school told;
    the data team hears of one nobody answered in time."""
    message = held.REJECTED_TEXT if decision == REJECTED else held.TIMED_OUT_TEXT
    report = _report(run.zone, claimed, rejected_report(message), reports)
    final = run.zone.finish(claimed, ok=False)
    log.info("file %s not pushed: %s by the data team", claimed.name, decision)
    problem = "not approved in time" if decision == TIMED_OUT else ""
    return FileOutcome(
        claimed.name, claimed.run, False, message, summary([]),
        _school(claimed, list(run.instellingsnummers)), report, final, problem,
        claimed.instelling,
    )  # fmt: skip


PENDING = "pending/"
PENDING_CLAIMS = "pending-claims/"
SET_ASIDE = "pending-failed/"  # outcomes that cannot be read or sent: for the data team
MAX_SEND_ATTEMPTS = 5  # an outcome whose mail failed this often is set aside
MAX_ATTACHMENT = 5 * 1024 * 1024  # a larger report is named, not attached


def _pending_key(outcome: FileOutcome) -> str:
    return f"{PENDING}{outcome.run}--{outcome.instelling or '_'}--{outcome.name}.json"


def _school(claimed: Any, allowed: list[str]) -> list[str]:
    return [claimed.instelling] if claimed.instelling in allowed else []


def _report(zone: Any, claimed: Any, data: bytes, reports: dict[str, bytes]) -> str:
    """The per-row report in the school's outbox (kept for the mail too); "" for a file of no
    school, or when the outbox cannot be written (a link there is never written through)."""
    if not claimed.instelling:
        return ""
    try:
        location = zone.write_report(claimed, data)
    except OSError as exc:
        log.error("report of %s not written: %s", claimed.name, type(exc).__name__)
        return ""
    reports[location.rsplit("/", 1)[-1]] = data
    return location


def deliver_pending(
    zone: Any,
    settings: VoorinschrijvingenSettings,
    send_mail: SendMail,
    *,
    instellingsnummers: Iterable[str],
    run_id: str = "",
) -> list[FileOutcome]:
    """Send the mails of every outcome still waiting for them (this run's, and those of a try
    whose mails failed), each exactly once, also when two runs overlap: an outcome is claimed
    (a conditional create) before it is sent, and removed once its mails are out.

    The recipients are checked again now, against ``instellingsnummers`` (the connection's) and
    the contacts of ``settings``. One outcome never holds back the others: one that cannot be
    read is set aside (``pending-failed/``), one whose mail fails stays for the next try (set
    aside after ``MAX_SEND_ATTEMPTS``); a mail that failed is raised once the others are out."""
    allowed = set(instellingsnummers)
    delivered, failed = [], []
    for key in sorted(zone.list_keys(PENDING)):
        if not key.endswith(".json") or not _claim_pending(zone, key, run_id):
            continue  # another run is sending it
        try:
            try:
                loaded = _load_pending(zone, key)
            except Exception as exc:  # never sendable: not for every later run to trip on
                log.error("pending outcome %s set aside: %s", printable(key), type(exc).__name__)
                _set_aside(zone, key)
                continue
            if loaded is None:
                continue  # delivered by a run that was done before this one claimed it
            outcome, attachments, attempts = loaded
            try:
                _tell(outcome, settings, send_mail, allowed, attachments)
            except Exception as exc:
                _failed_once(zone, key, attempts, exc)
                failed.append(exc)
                continue
            zone.delete_key(key)
            delivered.append(outcome)
        finally:
            _release_pending(zone, key)
    if failed:
        raise failed[0]
    return delivered


def _claim_pending(zone: Any, key: str, run_id: str) -> bool:
    """A marker only one run can create; one a crashed run left is taken over once stale."""
    base = PENDING_CLAIMS + key[len(PENDING) :]
    stale_after = getattr(zone, "stale_after", STALE_AFTER)
    for generation in range(6):
        marker = f"{base}/{generation}"
        try:
            zone.create_key(marker, run_id.encode())
            return True
        except KeyExists:
            try:
                age = time.time() - zone.modified(marker)
            except FileNotFoundError:
                return False  # released a moment ago: the outcome is gone or next run's
            if age < stale_after:
                return False
    return False


def _release_pending(zone: Any, key: str) -> None:
    for marker in zone.list_keys(PENDING_CLAIMS + key[len(PENDING) :] + "/"):
        zone.delete_key(marker)


def _load_pending(zone: Any, key: str) -> tuple[FileOutcome, dict[str, bytes], int] | None:
    body = read_key_or_none(zone, key)
    if body is None:
        return None
    record = json.loads(body)
    outcome = FileOutcome(**record["outcome"])
    attachments = {
        str(name): ("\ufeff" + text).encode("utf-8")
        for name, text in record.get("attachments", {}).items()
    }
    return outcome, attachments, int(record.get("attempts", 0))


def _set_aside(zone: Any, key: str) -> None:
    body = read_key_or_none(zone, key)
    if body is not None:
        zone.write_key(SET_ASIDE + key[len(PENDING) :], body)
    zone.delete_key(key)


def _failed_once(zone: Any, key: str, attempts: int, exc: Exception) -> None:
    if attempts + 1 >= MAX_SEND_ATTEMPTS:
        log.error("mail of %s failed %d times: set aside", printable(key), attempts + 1)
        _set_aside(zone, key)
        return
    log.warning("mail of %s not sent (%s): kept for the next try", printable(key),
                type(exc).__name__)  # fmt: skip
    record = json.loads(zone.read_key(key))
    record["attempts"] = attempts + 1
    zone.write_key(key, json.dumps(record).encode())


UNEXPECTED = (
    "Het bestand kon door een onverwachte fout niet verwerkt worden; het datateam is "
    "verwittigd. Zet het bestand later opnieuw klaar."
)
NOT_A_SCHOOL = (
    "Het bestand staat niet in de map van een school en is niet gelezen. Zet het in de map "
    "inbox/<instellingsnummer>/ van uw school."
)
BAD_NAME = (
    "Ongeldige bestandsnaam: de naam bevat een regeleinde, een stuurteken of een ander "
    "onzichtbaar teken; het bestand is niet gelezen. Geef het een gewone naam en zet het "
    "opnieuw klaar."
)


def _only_for(checked: list[Any], instelling: str) -> None:
    """A school pushes only for itself: a row of another instelling is refused."""
    for c in checked:
        if c.instellingsnummer and c.instellingsnummer != instelling:
            c.problems.append(
                f"instellingsnummer {c.instellingsnummer} hoort niet bij deze map "
                f"(inbox/{instelling}/): een school zet alleen haar eigen rijen klaar"
            )


def _handle(
    run: PushRun,
    settings: VoorinschrijvingenSettings,
    claimed: Any,
    reports: dict[str, bytes],
    hold: bool = False,
) -> FileOutcome | None:
    zone, allowed = run.zone, list(run.instellingsnummers)

    def refused(message: str, problem: str = "") -> FileOutcome:
        report = _report(zone, claimed, rejected_report(message), reports)
        final = zone.finish(claimed, ok=False)
        return FileOutcome(
            claimed.name, claimed.run, False, message, summary([]), _school(claimed, allowed),
            report, final, problem, claimed.instelling,
        )  # fmt: skip

    if claimed.instelling not in allowed:  # no outbox to answer in: the data team looks
        log.warning("file %s refused: not in a school's folder of this connection", claimed.name)
        final = zone.finish(claimed, ok=False)
        return FileOutcome(
            claimed.name, claimed.run, False, NOT_A_SCHOOL, summary([]), [], "", final,
            "not in a school's folder", claimed.instelling,
        )  # fmt: skip
    if claimed.bad_name:
        log.warning("file %s refused: its name is not printable", claimed.name)
        return refused(BAD_NAME)
    try:
        delimiter, rows = parse(zone.read(claimed))
    except (FileRejected, Unreadable) as exc:
        log.warning("file %s refused: %s", claimed.name, exc)
        return refused(str(exc))
    checked = validate(rows, allowed, id_key=run.id_key, country_codes=settings.country_codes)
    _only_for(checked, claimed.instelling)
    ledger = Ledger(zone.list_keys, zone.read_key, zone.create_key).load()
    if hold:
        would = preview(checked, ledger)
        if why := held.reasons(would, ledger, claimed.instelling, settings):
            held.hold(zone, claimed, why, would)
            log.info("file %s held for approval: %s", claimed.name, "; ".join(why))
            return None
    results = push(run.client, checked, ledger, claimed.run, settings, file_name=claimed.name)
    report = _report(zone, claimed, report_csv(results, delimiter), reports)
    counts = summary(results)
    numbers = [claimed.instelling]  # the school of the folder, whatever a row claims
    if any(r.reason == NOT_SENT for r in results):
        zone.release(claimed)  # Informat is down: the file waits for the next run
        log.warning("file %s: Informat unreachable; left in the inbox", claimed.name)
        return FileOutcome(
            claimed.name, claimed.run, True, OUTAGE, counts, numbers, report, "inbox",
            "outage", claimed.instelling,
        )  # fmt: skip
    final = zone.finish(claimed, ok=True)
    log.info("file %s: %d row(s): %s", claimed.name, len(rows), counts)
    return FileOutcome(
        claimed.name, claimed.run, True, "verwerkt", counts, numbers, report, final,
        instelling=claimed.instelling,
    )  # fmt: skip


OUTAGE = (
    "Informat was niet bereikbaar: een deel van de rijen is nog niet verstuurd. Het bestand "
    "blijft klaarstaan en wordt bij een volgende run verder verwerkt."
)


def tell_schools(
    outcomes: Iterable[FileOutcome],
    settings: VoorinschrijvingenSettings,
    send_mail: SendMail,
    instellingsnummers: Iterable[str] | None = None,
) -> None:
    """One mail per file to the contacts of the instellingen in it (counts only, no data), and
    one to the data team about files with a problem. ``instellingsnummers``: only these
    instellingen's contacts are told (the connection's)."""
    outcomes = list(outcomes)
    only = None if instellingsnummers is None else set(instellingsnummers)
    for outcome in outcomes:
        allowed = set(outcome.instellingsnummers) if only is None else only
        _tell_school(outcome, settings, send_mail, allowed, {})
    _tell_data_team([o for o in outcomes if o.problem], settings, send_mail)


def _tell(
    outcome: FileOutcome,
    settings: VoorinschrijvingenSettings,
    send_mail: SendMail,
    allowed: set[str],
    attachments: Mapping[str, bytes],
) -> None:
    _tell_school(outcome, settings, send_mail, allowed, attachments)
    _tell_data_team([outcome] if outcome.problem else [], settings, send_mail)


def _tell_school(
    outcome: FileOutcome,
    settings: VoorinschrijvingenSettings,
    send_mail: SendMail,
    allowed: set[str],
    attachments: Mapping[str, bytes],
) -> None:
    numbers = [n for n in outcome.instellingsnummers if n in allowed]
    to = sorted({settings.contacts[n] for n in numbers if n in settings.contacts})
    to = to or ([settings.fallback_contact] if settings.fallback_contact else [])
    name = printable(outcome.name)  # whatever the state holds: never a header's line break
    where = school_location(outcome.report)
    attach = {k: v for k, v in attachments.items() if len(v) <= MAX_ATTACHMENT and numbers}
    if not outcome.accepted:
        subject = f"[Informat] Bestand {name} niet verwerkt"
        more = f" Het verslag staat in uw map {html.escape(where)}." if where and numbers else ""
        body = f"<html><body><p>{html.escape(outcome.message)}{more}</p></body></html>"
    else:
        subject, body = summary_mail(name, outcome.counts, where, attached=bool(attach))
    if to:
        if attach:
            send_mail(tuple(to), subject, body, attachments=attach)
        else:
            send_mail(tuple(to), subject, body)
    else:
        log.warning("no contact for %s: set contacts or fallback_contact", name)
    log.info("%s: %s; %s; report %s", name, outcome.message, outcome.counts, where)


def _tell_data_team(
    troubled: list[FileOutcome],
    settings: VoorinschrijvingenSettings,
    send_mail: Callable[[tuple[str, ...], str, str], None],
) -> None:
    """The data team hears of files that failed unexpectedly or met Informat down."""
    if not troubled:
        return
    if not settings.alert_recipients:
        log.warning("%d file(s) with a problem, and no alert_recipients", len(troubled))
        return
    items = "".join(
        f"<li>{html.escape(o.name)} ({html.escape(o.run)}): {html.escape(o.problem)}</li>"
        for o in troubled
    )
    send_mail(
        settings.alert_recipients,
        f"[Informat] Inschrijvingen: {len(troubled)} bestand(en) met een probleem",
        f"<html><body><p>Niet (volledig) verwerkt:</p><ul>{items}</ul><p>outage: Informat was "
        "niet bereikbaar; het bestand blijft in inbox/ voor de volgende run. error: zie het "
        "taaklog van push_drops; het bestand staat in failed/. stale claim ... taken over: een "
        "eerdere run liet het bestand half verwerkt achter (zie het taaklog van die run); deze "
        "run heeft het afgewerkt zonder rijen twee keer te versturen.</p></body></html>",
    )
