"""One run over the drop zone: claim each file, read, validate, push, report, and move it to
``processed/`` or ``failed/``."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from informat_client import InformatClient
from informat_client.masking import get_logger

from ..settings import known_values
from .csvfile import FileRejected, parse
from .ledger import Ledger
from .push import push
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


def _claimed_files(zone: Any, run_id: str) -> list[Any]:
    """This run's own claimed files first (a retried task resumes them), then new ones."""
    mine = zone.resume(run_id)  # before claiming: what this run claims now is not resumed
    fresh = [c for c in (zone.claim(name, run_id) for name in zone.inbox()) if c is not None]
    return mine + fresh


def handle_drops(
    zone: Any,
    client: InformatClient,
    instellingsnummers: Iterable[str],
    run_id: str,
    batch_size: int = 100,
    concurrency: int = 4,
    country_codes: Mapping[str, str] | None = None,
) -> list[FileOutcome]:
    outcomes = []
    allowed = list(instellingsnummers)
    for claimed in _claimed_files(zone, run_id):
        raw = zone.read(claimed)
        try:
            delimiter, rows = parse(raw)
        except FileRejected as exc:
            report = zone.write_report(claimed, rejected_report(str(exc)))
            final = zone.finish(claimed, ok=False)
            log.warning("file %s rejected: %s", claimed.name, exc)
            outcomes.append(
                FileOutcome(
                    claimed.name, claimed.run, False, str(exc), summary([]), [], report, final
                )
            )
            continue
        checked = validate(rows, allowed, country_codes=country_codes)
        ledger = Ledger(zone.list_keys, zone.read_key, zone.write_key).load()
        results = push(
            client, checked, ledger, claimed.run, batch_size, concurrency, file_name=claimed.name
        )
        report = zone.write_report(claimed, report_csv(results, delimiter))
        final = zone.finish(claimed, ok=True)
        counts = summary(results)
        numbers = sorted(
            {
                c.instellingsnummer or r.values.get("instellingsnummer", "")
                for c, r in zip(checked, rows, strict=True)
            }
            - {""}
        )
        log.info("file %s: %d row(s): %s", claimed.name, len(rows), counts)
        outcomes.append(
            FileOutcome(claimed.name, claimed.run, True, "verwerkt", counts, numbers, report, final)
        )
    return outcomes


def tell_schools(
    outcomes: Iterable[FileOutcome],
    settings: PushSettings,
    send_mail: Callable[[tuple[str, ...], str, str], None],
) -> None:
    """One mail per file to the contacts of the instellingen in it (counts only, no data)."""
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
