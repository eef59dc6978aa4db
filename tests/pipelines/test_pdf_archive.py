"""PDF archive: the core against the sandbox and a real S3 HTTP endpoint (moto's server)."""

from __future__ import annotations

import pytest

from informat_pipelines.pdf_archive.archive import (
    ArchiveSettings,
    InvoiceBatch,
    archive_ready,
    plan,
    poll_intervals,
    request_jobs,
)
from informat_pipelines.pdf_archive.retention import status
from informat_pipelines.pdf_archive.store import Boto3Store, manifest_key

from ..support.pdf import FAST, GROUP, current_invoices, store_for, wait_ready


def test_archive_is_verified_and_a_rerun_archives_nothing(client, small_sandbox, s3, bucket):
    settings = ArchiveSettings(**FAST)
    store = store_for(s3, bucket)
    year = small_sandbox.state.schooljaar
    todo = plan(client, store, settings, GROUP, year)
    assert todo.archived == 0 and len(todo.missing) == len(current_invoices(small_sandbox)) > 10
    jobs = request_jobs(client, GROUP, year, todo.missing)
    outcome = archive_ready(
        client, store, settings, InvoiceBatch(GROUP, year, jobs, "990015"), wait_ready(client, jobs)
    )
    assert sorted(outcome.archived) == sorted(todo.missing)
    invoice = todo.missing[0]
    head = s3.client().head_object(
        Bucket=bucket, Key=f"pdf/{GROUP}/{year}/{invoice}.pdf", ChecksumMode="ENABLED"
    )
    assert head["ContentType"] == "application/pdf"
    assert head["Metadata"]["invoice-id"] == invoice
    assert head["Metadata"]["instelling"] == "990015"
    assert len(head["Metadata"]["sha256"]) == 64 and head["Metadata"]["job-id"] in jobs
    manifest = store.get_json(manifest_key(settings, GROUP, year))
    assert manifest["archived"][invoice]["sha256"] == head["Metadata"]["sha256"]

    requests_before = small_sandbox.state.stats["pdf_requests"]
    again = plan(client, store, settings, GROUP, year)
    assert again.missing == [] and again.archived == len(todo.missing)
    assert small_sandbox.state.stats["pdf_requests"] == requests_before  # no PDF request


def test_corrupted_download_is_retried_and_never_archived(client, small_sandbox, s3, bucket):
    settings = ArchiveSettings(**FAST, download_attempts=3)
    store = store_for(s3, bucket)
    year = small_sandbox.state.schooljaar
    first, second = [i["invoiceId"] for i in current_invoices(small_sandbox)[:2]]
    jobs = request_jobs(client, GROUP, year, [first])
    results = wait_ready(client, jobs)
    small_sandbox.set_faults(corrupt_pdf_downloads=1)  # one bad download, then good ones
    batch = InvoiceBatch(GROUP, year, jobs, "990015")
    assert archive_ready(client, store, settings, batch, results).archived == [first]

    jobs = request_jobs(client, GROUP, year, [second])
    results = wait_ready(client, jobs)
    small_sandbox.set_faults(corrupt_pdf_downloads=3)  # every attempt corrupted
    outcome = archive_ready(
        client, store, settings, InvoiceBatch(GROUP, year, jobs, "990015"), results
    )
    assert outcome.corrupt == [second] and outcome.archived == []
    assert store.head(f"pdf/{GROUP}/{year}/{second}.pdf") is None
    manifest = store.get_json(manifest_key(settings, GROUP, year))
    assert second not in manifest["archived"]
    # the failure is kept (the Informat page shows it as failed, not as merely pending)
    assert manifest["failed"][second]["reason"] == "damaged PDF (checksum)"
    small_sandbox.set_faults()
    jobs = request_jobs(client, GROUP, year, [second])
    archive_ready(
        client, store, settings, InvoiceBatch(GROUP, year, jobs, "990015"), wait_ready(client, jobs)
    )
    manifest = store.get_json(manifest_key(settings, GROUP, year))
    assert second in manifest["archived"] and second not in manifest["failed"]


def test_s3_failing_mid_upload_leaves_no_manifest_entry_and_rerun_completes(
    client, small_sandbox, bucket, s3
):
    settings = ArchiveSettings(**FAST, manifest_every=1000)
    year = small_sandbox.state.schooljaar
    store = store_for(s3, bucket)
    todo = plan(client, store, settings, GROUP, year)
    jobs = request_jobs(client, GROUP, year, todo.missing)
    results = wait_ready(client, jobs)

    class FailingAfter(Boto3Store):
        """The real endpoint, which goes away after a few uploads (as a store does mid-run)."""

        uploads = 0

        def put_pdf(self, *args, **kwargs):
            if self.uploads >= 5:
                raise ConnectionError("S3 endpoint went away")
            FailingAfter.uploads += 1
            super().put_pdf(*args, **kwargs)

        def put_json(self, key, value):
            if self.uploads >= 5:
                raise ConnectionError("S3 endpoint went away")
            super().put_json(key, value)

    with pytest.raises(ConnectionError):
        archive_ready(
            client,
            FailingAfter(s3.client(), bucket),
            settings,
            InvoiceBatch(GROUP, year, jobs, "990015"),
            results,
        )
    # nothing recorded in the manifest (it could not be written), 5 objects uploaded
    assert store.get_json(manifest_key(settings, GROUP, year)) is None
    requests_before = small_sandbox.state.stats["pdf_requests"]
    rerun = plan(client, store, settings, GROUP, year)
    assert len(rerun.repaired) == 5  # verified uploads recorded without asking Informat
    assert small_sandbox.state.stats["pdf_requests"] == requests_before
    jobs = request_jobs(client, GROUP, year, rerun.missing)
    outcome = archive_ready(
        client, store, settings, InvoiceBatch(GROUP, year, jobs, "990015"), wait_ready(client, jobs)
    )
    assert len(outcome.archived) == len(todo.missing) - 5
    final = status(client, store, settings, GROUP, year)
    assert final.missing == 0 and final.archived == final.invoices


def test_expired_pdf_is_lost_and_reported(client, small_sandbox, s3, bucket):
    settings = ArchiveSettings(**FAST)
    store = store_for(s3, bucket)
    previous = small_sandbox.state.group.schooljaren[0]
    old = [
        i["invoiceId"]
        for i in small_sandbox.state.group.toegangsgroepen[GROUP].invoices[previous]
        if i["pdfGeneratedAt"] and i["pdfGeneratedAt"] < "2025-11-01"
    ][:3]
    assert old
    before = status(client, store, settings, GROUP, previous)
    assert set(old) <= set(before.at_risk)  # made over 11 months ago and not archived
    jobs = request_jobs(client, GROUP, previous, old)
    outcome = archive_ready(
        client,
        store,
        settings,
        InvoiceBatch(GROUP, previous, jobs, "990015"),
        wait_ready(client, jobs),
    )
    assert sorted(outcome.lost) == sorted(old)
    after = status(client, store, settings, GROUP, previous)
    assert sorted(after.lost) == sorted(old)


def test_poll_intervals_grow_to_the_cap_with_jitter():
    import random

    settings = ArchiveSettings(poll_initial=5, poll_max=60, poll_factor=2, poll_jitter=0.2)
    intervals = poll_intervals(settings, random.Random(1))
    values = [next(intervals) for _ in range(8)]
    for value, base in zip(values, (5, 10, 20, 40, 60, 60, 60, 60), strict=True):
        assert base * 0.8 <= value <= base * 1.2
    assert len(set(values)) == len(values)  # jittered, not in step


def test_retention_mail_only_when_something_is_at_risk_or_lost():
    from informat_pipelines.pdf_archive.retention import Status, retention_mail

    settings = ArchiveSettings(retention_warn_days=335)
    fine = Status(GROUP, "2025-26", 10, 10, 0, [], [])
    assert retention_mail([fine], settings) is None
    risky = Status("SG-Noord", "2025-26", 10, 7, 3, ["F-1", "F-2"], ["F-3"])
    subject, body = retention_mail([fine, risky], settings)
    assert subject == "[Informat] PDF archive: 2 at risk, 1 lost"
    assert "SG-Noord 2025-26: 2 PDF(s) older than 335 days not archived; 1 lost" in body
    assert GROUP not in body


def test_archive_targets_are_this_and_last_schooljaar_per_toegangsgroep():
    from datetime import date

    from informat_pipelines.pdf_archive.archive import targets

    planned = targets(["A", "B"], date(2026, 9, 1), ArchiveSettings(batch_size=7))
    assert [(t["toegangsgroep"], t["schooljaar"]) for t in planned] == [
        ("A", "2025-26"), ("A", "2026-27"), ("B", "2025-26"), ("B", "2026-27"),
    ]  # fmt: skip
    assert planned[0]["settings"]["batch_size"] == 7 and "bucket" not in planned[0]
    assert ArchiveSettings.from_mapping(planned[0]["settings"]).batch_size == 7


def test_planning_reads_one_listing_not_one_object_per_invoice(client, small_sandbox, s3, bucket):
    settings = ArchiveSettings(**FAST)
    year = small_sandbox.state.schooljaar

    class Counting(Boto3Store):
        heads = 0

        def head(self, key):
            Counting.heads += 1
            return super().head(key)

    todo = plan(client, Counting(s3.client(), bucket), settings, GROUP, year)
    assert len(todo.missing) == len(current_invoices(small_sandbox)) > 20
    assert Counting.heads == 0  # nothing in the archive: no look at any invoice's object
