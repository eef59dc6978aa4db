"""Archive of invoice PDFs: plan what is missing, request it, archive it verified (no Airflow).

Informat makes PDFs asynchronously and keeps each at most a year. For one toegangsgroep and
schooljaar, :func:`plan` compares Informat's invoices with the manifest kept in the archive itself
and repairs half-done work; :func:`request_jobs` asks for the missing PDFs; the waiting happens
elsewhere (a deferred trigger that uses :func:`poll_intervals` and :func:`job_outcome`);
:func:`archive_ready` downloads each ready PDF as a stream while hashing it, checks it against
Informat's checksum, uploads it with its checksum and metadata, verifies the stored object, and
only then records it in the manifest.
"""

from __future__ import annotations

import base64
import hashlib
import random
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, cast

from informat_client import InformatClient, InformatError, InformatGoneError
from informat_client.masking import get_logger
from informat_client.schooljaar import schooljaar_for, shift
from informat_pipelines.core.settings import known_values

from .store import Manifest, ObjectStore, manifest_key, pdf_key

log = get_logger(__name__)


@dataclass(frozen=True)
class ArchiveSettings:
    prefix: str = "pdf"
    batch_size: int = 200  # PDF jobs per trigger: thousands of PDFs, a handful of triggers
    poll_initial: float = 5.0
    poll_max: float = 60.0
    poll_factor: float = 1.5  # each interval this much longer than the one before
    poll_jitter: float = 0.2
    timeout: float = 3600.0
    retention_warn_days: int = 335  # about 11 months
    object_lock_days: int | None = None
    download_attempts: int = 3
    manifest_every: int = 50  # write the manifest after this many archived PDFs
    full_sweep_every: int = 4  # every Nth poll round asks about every pending job
    alert_recipients: tuple[str, ...] = ()  # told of PDFs at risk or lost

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> ArchiveSettings:
        values = known_values(cls, values, "PDF archive")
        settings = cls(**values)
        if settings.poll_initial <= 0 or settings.poll_max < settings.poll_initial:
            raise ValueError("poll_initial must be positive and at most poll_max")
        if settings.poll_factor < 1:
            raise ValueError("poll_factor must be at least 1 (intervals never shrink)")
        if settings.batch_size < 1 or settings.timeout <= 0:
            raise ValueError("batch_size and timeout must be positive")
        return settings


class ArchiveError(Exception):
    """A PDF could not be archived; the message says which and why (no personal data)."""


class ChecksumMismatch(ArchiveError):
    pass


# ---------------------------------------------------------------------- plan


@dataclass
class Plan:
    toegangsgroep: str
    schooljaar: str
    invoices: dict[str, str | None]  # invoice id -> when Informat made its PDF (or None)
    archived: int
    missing: list[str]
    repaired: list[str]


def plan(
    client: InformatClient,
    store: ObjectStore,
    settings: ArchiveSettings,
    toegangsgroep: str,
    schooljaar: str,
) -> Plan:
    """Invoices whose PDF is not in the manifest. A PDF that is in the archive but not in the
    manifest (a run that stopped between upload and manifest) is verified and recorded now,
    without asking Informat again."""
    invoices = {
        str(i["invoiceId"]): i.get("pdfGeneratedAt")
        for i in client.iter_invoices(toegangsgroep, schooljaar)
    }
    manifest = Manifest.load(store, manifest_key(settings, toegangsgroep, schooljaar))
    missing, repaired = [], []
    # one listing of what the archive holds: only a PDF that is there but not in the manifest
    # is looked at (and verified); the others are missing without a request each
    stored = store.keys(f"{settings.prefix}/{toegangsgroep}/{schooljaar}/")
    for invoice_id in invoices:
        if invoice_id in manifest.entries:
            continue
        key = pdf_key(settings, toegangsgroep, schooljaar, invoice_id)
        if key not in stored:
            missing.append(invoice_id)
            continue
        head = store.head(key)
        expected = (head or {}).get("metadata", {}).get("sha256")
        if head and expected and hashlib.sha256(store.read(key)).hexdigest() == expected:
            manifest.add(invoice_id, _entry(key, head["size"], expected, head["metadata"]))
            repaired.append(invoice_id)
        else:
            missing.append(invoice_id)
    manifest.save(store)
    if repaired:
        log.info(
            "%s %s: %d PDF(s) found verified in the archive and recorded",
            toegangsgroep,
            schooljaar,
            len(repaired),
        )
    return Plan(toegangsgroep, schooljaar, invoices, len(manifest.entries), missing, repaired)


def request_jobs(
    client: InformatClient,
    toegangsgroep: str,
    schooljaar: str,
    invoice_ids: Iterable[str],
    regenerate: bool = False,
) -> dict[str, str]:
    """Ask Informat for each PDF; answers job id -> invoice id."""
    jobs = {}
    for invoice_id in invoice_ids:
        job = client.request_pdf(
            toegangsgroep, invoice_id, schooljaar=schooljaar, regenerate=regenerate
        )
        jobs[str(job["jobId"])] = invoice_id
    return jobs


# ------------------------------------------------------------------- waiting


def poll_intervals(settings: ArchiveSettings, rng: random.Random | None = None) -> Iterator[float]:
    """Growing intervals between polls: ``poll_initial`` growing by ``poll_factor`` up to
    ``poll_max``, each with a jitter of +/- ``poll_jitter`` so that many waits do not poll in
    step. (A factor of 1.5 rather than 2 finds a ready PDF at most about half an interval late.)"""
    rng = rng or random.Random()
    interval = settings.poll_initial
    while True:
        yield interval * (1 + rng.uniform(-settings.poll_jitter, settings.poll_jitter))
        interval = min(interval * settings.poll_factor, settings.poll_max)


def job_outcome(job: Mapping[str, Any]) -> str:
    status = str(job.get("status", "")).lower()
    if status in ("ready", "done", "completed"):
        return "ready"
    if status in ("failed", "error"):
        return "failed"
    return "pending"


def poll_round(
    get_job: Callable[[str], Mapping[str, Any]], pending: list[str], sweep: bool = False
) -> tuple[dict[str, Mapping[str, Any]], list[str], int]:
    """One look at the jobs still pending, in the order they were asked for: (finished job id ->
    Informat's answer, ids still pending, calls made). Informat works through a batch in order,
    so the look stops at the first job still pending (the ones behind it are pending too): a
    batch not ready yet costs one call. A ``sweep`` looks at every job, so that one stuck job
    does not hide the others."""
    found: dict[str, Mapping[str, Any]] = {}
    still: list[str] = []
    for index, job_id in enumerate(pending):
        job = get_job(job_id)
        if job_outcome(job) != "pending":
            found[job_id] = job
            continue
        still.append(job_id)
        if not sweep:
            return found, still + pending[index + 1 :], index + 1
    return found, still, len(pending)


# ----------------------------------------------------------------- archiving


def _entry(key: str, size: int, sha256_hex: str, metadata: Mapping[str, str]) -> dict[str, Any]:
    return {
        "key": key,
        "size": size,
        "sha256": sha256_hex,
        "job_id": metadata.get("job-id"),
        "generated_at": metadata.get("generated-at"),
        "archived_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _download(
    client: InformatClient,
    toegangsgroep: str,
    job: Mapping[str, Any],
    spool: IO[bytes],
) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    spool.seek(0)
    spool.truncate()
    with client.download_pdf(
        toegangsgroep, str(job["jobId"]), download_url=job.get("downloadUrl")
    ) as chunks:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            spool.write(chunk)
    spool.seek(0)
    return size, digest.hexdigest()


def archive_one(
    client: InformatClient,
    store: ObjectStore,
    settings: ArchiveSettings,
    batch: InvoiceBatch,
    invoice_id: str,
    job: Mapping[str, Any],
) -> dict[str, Any]:
    """Download (hashing while streaming), check, upload, verify; answers the manifest entry."""
    toegangsgroep, schooljaar = batch.toegangsgroep, batch.schooljaar
    instellingsnummer = batch.instellingsnummer
    expected = job.get("sha256")
    key = pdf_key(settings, toegangsgroep, schooljaar, invoice_id)
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        for attempt in range(1, settings.download_attempts + 1):
            size, sha256_hex = _download(client, toegangsgroep, job, spool)
            size_ok = job.get("size") in (None, size)
            if (expected is None or sha256_hex == expected) and size_ok:
                break
            log.warning(
                "invoice %s (%s %s): download %d of %d does not match Informat's checksum",
                invoice_id,
                toegangsgroep,
                schooljaar,
                attempt,
                settings.download_attempts,
            )
        else:
            raise ChecksumMismatch(
                f"invoice {invoice_id} ({toegangsgroep} {schooljaar}): every download "
                f"({settings.download_attempts}) differed from Informat's checksum; not archived"
            )
        metadata = {
            "sha256": sha256_hex,
            "invoice-id": invoice_id,
            "instelling": instellingsnummer,
            "schooljaar": schooljaar,
            "toegangsgroep": toegangsgroep,
            "generated-at": str(job.get("generatedAt") or ""),
            "job-id": str(job["jobId"]),
        }
        retain_until = None
        if settings.object_lock_days:
            retain_until = datetime.now(UTC) + timedelta(days=settings.object_lock_days)
        store.put_pdf(key, spool, sha256_hex, metadata, retain_until)
    stored = store.head(key)
    if stored is None or stored["size"] != size:
        raise ArchiveError(f"invoice {invoice_id}: the stored object's size is not {size}")
    stored_sum = stored.get("sha256_b64")
    ours = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
    if stored_sum and stored_sum != ours:
        raise ArchiveError(f"invoice {invoice_id}: the stored object's checksum differs")
    if not stored_sum and hashlib.sha256(store.read(key)).hexdigest() != sha256_hex:
        raise ArchiveError(f"invoice {invoice_id}: the stored object's content differs")
    return _entry(key, size, sha256_hex, metadata)


@dataclass(frozen=True)
class InvoiceBatch:
    """A batch of PDF jobs (job id -> invoice id) of one toegangsgroep's invoices in a
    schooljaar, asked through ``instellingsnummer`` (one of the toegangsgroep's instellingen)."""

    toegangsgroep: str
    schooljaar: str
    jobs: Mapping[str, str]
    instellingsnummer: str


@dataclass
class Outcome:
    archived: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # Informat's job failed
    corrupt: list[str] = field(default_factory=list)  # checksum never matched
    lost: list[str] = field(default_factory=list)  # Informat already deleted it (410)
    pending: list[str] = field(default_factory=list)  # not ready before the timeout

    def merge(self, other: Outcome) -> None:
        for name in ("archived", "failed", "corrupt", "lost", "pending"):
            getattr(self, name).extend(getattr(other, name))

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)


def archive_ready(
    client: InformatClient,
    store: ObjectStore,
    settings: ArchiveSettings,
    batch: InvoiceBatch,
    results: Mapping[str, Mapping[str, Any]],
) -> Outcome:
    """Archive every ready job of ``results`` (job id -> last job answer). The manifest is written
    every ``manifest_every`` PDFs and at the end, also when a later PDF fails; an upload that
    fails stops the batch, and what was verified before it stays recorded."""
    toegangsgroep, schooljaar, jobs = batch.toegangsgroep, batch.schooljaar, batch.jobs
    outcome = Outcome()
    manifest = Manifest.load(store, manifest_key(settings, toegangsgroep, schooljaar))
    today = datetime.now(UTC).date().isoformat()
    try:
        for job_id, invoice_id in jobs.items():
            job = results.get(job_id)
            state = job_outcome(job) if job else "pending"
            if state == "pending":
                outcome.pending.append(invoice_id)
                continue
            if state == "failed":
                manifest.mark_failed(invoice_id, "job failed at Informat", today)
                outcome.failed.append(invoice_id)
                continue
            job = cast(Mapping[str, Any], job)  # answered: a job that is not pending
            try:
                entry = archive_one(client, store, settings, batch, invoice_id, job)
            except InformatGoneError:
                log.error(
                    "LOST: Informat no longer has the PDF of invoice %s (%s %s, made %s)",
                    invoice_id,
                    toegangsgroep,
                    schooljaar,
                    job.get("generatedAt"),
                )
                manifest.mark_lost(invoice_id, "410 at Informat", today)
                outcome.lost.append(invoice_id)
                continue
            except ChecksumMismatch as exc:
                log.error("%s", exc)
                manifest.mark_failed(invoice_id, "damaged PDF (checksum)", today)
                outcome.corrupt.append(invoice_id)
                continue
            manifest.add(invoice_id, entry)
            outcome.archived.append(invoice_id)
            if manifest.dirty >= settings.manifest_every:
                manifest.save(store)
    finally:
        try:
            manifest.save(store)
        except Exception as exc:  # the store is down: the next run repairs from the objects
            log.error("manifest %s not written: %s", manifest.key, exc)
    return outcome


def targets(
    toegangsgroepen: Iterable[str],
    day: date,
    settings: ArchiveSettings,
) -> list[dict[str, Any]]:
    """The archive tasks of a run: every toegangsgroep for the schooljaar of ``day`` and the one
    before (Informat keeps a PDF a year, so last year's PDFs still leave from there), each with
    the settings as a dict."""
    current = schooljaar_for(day)
    as_dict = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}
    return [
        {
            "toegangsgroep": name,
            "schooljaar": year,
            "settings": as_dict,
        }
        for name in toegangsgroepen
        for year in (shift(current, -1), current)
    ]


def safe_error(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, InformatError | ArchiveError) else type(exc).__name__
