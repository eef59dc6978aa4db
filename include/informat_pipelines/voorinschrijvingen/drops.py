"""One run over the drop zone: claim each file, read, validate, push, report, and move it to
``processed/`` or ``failed/``."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from informat_client import InformatClient
from informat_client.masking import get_logger
from informat_pipelines.core.settings import known_values
from informat_pipelines.core.status import record_push

from .csvfile import FileRejected, parse
from .dropzone import StillWriting, Unreadable
from .ledger import Ledger
from .push import NOT_SENT, push
from .report import rejected_report, report_csv, summary, summary_mail
from .rows import validate

log = get_logger(__name__)


@dataclass(frozen=True)
class PushSettings:
    """Who hears about a file (``contacts``: instellingsnummer -> e-mail, else
    ``fallback_contact``) and how hard Informat is pushed."""

    contacts: Mapping[str, str] = field(default_factory=dict)
    fallback_contact: str | None = None
    batch_size: int = 100
    concurrency: int = 4
    # country names or codes the school group writes -> Informat's 5-character code
    country_codes: Mapping[str, str] = field(default_factory=dict)
    # the data team: told when a file failed unexpectedly or Informat was down
    alert_recipients: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> PushSettings:
        values = known_values(cls, values, "inschrijvingen")
        settings = cls(**values)
        if settings.batch_size < 1 or settings.concurrency < 1:
            raise ValueError("batch_size and concurrency must be at least 1")
        return settings


@dataclass
class FileOutcome:
    name: str
    run: str
    accepted: bool  # False: the file as a whole was rejected
    message: str
    counts: dict[str, int]
    instellingsnummers: list[str]
    report: str
    final_location: str
    problem: str = ""  # for the data team: "outage" (Informat down) or "error: <type>"


def _claimed_files(zone: Any, run_id: str) -> list[Any]:
    """This run's own claimed files first (a retried task resumes them), then files whose claim
    by another run went stale (that run failed for good), then new ones."""
    mine = zone.resume(run_id)  # before claiming: what this run claims now is not resumed
    adopted = zone.take_over_stale(run_id)
    fresh = [c for c in (zone.claim(name, run_id) for name in zone.inbox()) if c is not None]
    return mine + adopted + fresh


def _taken_over(claimed: Any) -> str:
    return f"stale claim of {claimed.taken_over_from} taken over" if claimed.taken_over_from else ""


def handle_drops(
    zone: Any,
    client: InformatClient,
    instellingsnummers: Iterable[str],
    run_id: str,
    batch_size: int = 100,
    concurrency: int = 4,
    country_codes: Mapping[str, str] | None = None,
    *,
    id_key: bytes,
    day: date | None = None,
) -> list[FileOutcome]:
    """Every claimed file of this run, one after the other: a file that fails, whatever the
    reason, ends in ``failed/`` with a report and does not stop the others."""
    outcomes = []
    allowed = list(instellingsnummers)
    for claimed in _claimed_files(zone, run_id):
        try:
            outcome = _handle(
                zone, client, claimed, allowed, batch_size, concurrency, country_codes, id_key
            )
        except StillWriting:
            zone.release(claimed)
            log.info("file %s changed while read: back to the inbox for a later run", claimed.name)
            continue
        except Exception as exc:  # one file's failure is that file's, not the run's
            log.error("file %s failed: %s", claimed.name, type(exc).__name__)
            report = zone.write_report(claimed, rejected_report(UNEXPECTED))
            final = zone.finish(claimed, ok=False)
            outcome = FileOutcome(
                claimed.name, claimed.run, False, UNEXPECTED, summary([]), [], report, final,
                problem=f"error: {type(exc).__name__}",
            )  # fmt: skip
        if taken_over := _taken_over(claimed):  # the data team hears a run left it behind
            outcome.problem = "; ".join(p for p in (taken_over, outcome.problem) if p)
        # kept until its mails are out: a mail server down never loses a file's outcome
        zone.write_key(_pending_key(outcome), json.dumps(asdict(outcome)).encode())
        record_push(zone, asdict(outcome), day or date.today())  # the Informat page's summary
        outcomes.append(outcome)
    return outcomes


PENDING = "outbox/pending/"


def _pending_key(outcome: FileOutcome) -> str:
    return f"{PENDING}{outcome.run}--{outcome.name}.json"


def deliver_pending(
    zone: Any,
    settings: PushSettings,
    send_mail: Callable[[tuple[str, ...], str, str], None],
) -> list[FileOutcome]:
    """Send the mails of every outcome still waiting for them (this run's, and those of a try
    whose mails failed), each removed only once its mails are out."""
    delivered = []
    for key in sorted(zone.list_keys(PENDING)):
        outcome = FileOutcome(**json.loads(zone.read_key(key)))
        tell_schools([outcome], settings, send_mail)
        zone.delete_key(key)
        delivered.append(outcome)
    return delivered


UNEXPECTED = (
    "Het bestand kon door een onverwachte fout niet verwerkt worden; het datateam is "
    "verwittigd. Zet het bestand later opnieuw klaar."
)


def _handle(
    zone: Any,
    client: InformatClient,
    claimed: Any,
    allowed: list[str],
    batch_size: int,
    concurrency: int,
    country_codes: Mapping[str, str] | None,
    id_key: bytes,
) -> FileOutcome:
    try:
        delimiter, rows = parse(zone.read(claimed))
    except (FileRejected, Unreadable) as exc:
        report = zone.write_report(claimed, rejected_report(str(exc)))
        final = zone.finish(claimed, ok=False)
        log.warning("file %s refused: %s", claimed.name, exc)
        return FileOutcome(
            claimed.name, claimed.run, False, str(exc), summary([]), [], report, final
        )
    checked = validate(rows, allowed, id_key=id_key, country_codes=country_codes)
    ledger = Ledger(zone.list_keys, zone.read_key, zone.create_key).load()
    results = push(
        client, checked, ledger, claimed.run, batch_size, concurrency, file_name=claimed.name
    )
    report = zone.write_report(claimed, report_csv(results, delimiter))
    counts = summary(results)
    # only instellingen of this connection hear about a file, whatever a row claims
    numbers = sorted({c.instellingsnummer for c in checked if c.instellingsnummer} & set(allowed))
    if any(r.reason == NOT_SENT for r in results):
        zone.release(claimed)  # Informat is down: the file waits for the next run
        log.warning("file %s: Informat unreachable; left in the inbox", claimed.name)
        return FileOutcome(
            claimed.name, claimed.run, True, OUTAGE, counts, numbers, report, "inbox",
            problem="outage",
        )  # fmt: skip
    final = zone.finish(claimed, ok=True)
    log.info("file %s: %d row(s): %s", claimed.name, len(rows), counts)
    return FileOutcome(claimed.name, claimed.run, True, "verwerkt", counts, numbers, report, final)


OUTAGE = (
    "Informat was niet bereikbaar: een deel van de rijen is nog niet verstuurd. Het bestand "
    "blijft klaarstaan en wordt bij een volgende run verder verwerkt."
)


def tell_schools(
    outcomes: Iterable[FileOutcome],
    settings: PushSettings,
    send_mail: Callable[[tuple[str, ...], str, str], None],
) -> None:
    """One mail per file to the contacts of the instellingen in it (counts only, no data), and
    one to the data team about files with a problem."""
    outcomes = list(outcomes)
    for outcome in outcomes:
        to = sorted(
            {settings.contacts[n] for n in outcome.instellingsnummers if n in settings.contacts}
        )
        to = to or ([settings.fallback_contact] if settings.fallback_contact else [])
        if not outcome.accepted:
            subject = f"[Informat] Bestand {outcome.name} niet verwerkt"
            body = f"<html><body><p>{html.escape(outcome.message)}</p></body></html>"
        else:
            subject, body = summary_mail(outcome.name, outcome.counts, outcome.report)
        if to:
            send_mail(tuple(to), subject, body)
        else:
            log.warning("no contact for %s: set contacts or fallback_contact", outcome.name)
        log.info(
            "%s: %s; %s; report %s", outcome.name, outcome.message, outcome.counts, outcome.report
        )
    _tell_data_team([o for o in outcomes if o.problem], settings, send_mail)


def _tell_data_team(
    troubled: list[FileOutcome],
    settings: PushSettings,
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
