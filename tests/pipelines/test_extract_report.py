"""The report of a daily extraction, against a real S3 endpoint (moto's server): summary, HTML
report, last good counts, the data team's mail, and a baseline that cannot be read."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from informat_pipelines.extract.report import (
    LAST_GOOD_KEY,
    alert_mail,
    read_last_good,
    summarise,
    write_report,
)
from informat_pipelines.extract.shapes import Partition

DAY = "2026-11-28"
UNITS = [
    Partition("students", "990011", "2026-27", dt.date.fromisoformat(DAY)),
    Partition("students", "990013", "2026-27", dt.date.fromisoformat(DAY)),
    Partition("employees", "990011", "2026-27", dt.date.fromisoformat(DAY)),
    Partition("invoices", "SG-Zuid", "2026-27", dt.date.fromisoformat(DAY)),
]
OUTCOMES = [
    {"entity": "students", "key": "990011", "rows": 120, "success": True, "failed": []},
    {"entity": "students", "key": "990013", "rows": 80, "success": False,
     "failed": ["rijksregisternr check digits", "<script>"]},
    None,  # employees 990011: the task errored
    {"entity": "invoices", "key": "SG-Zuid", "rows": 0, "success": True, "failed": [],
     "skipped": "no access"},
]  # fmt: skip


@pytest.fixture
def data_bucket(s3):
    name = f"data-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return name


def test_summary_counts_every_planned_partition():
    report = summarise(UNITS, OUTCOMES)
    assert report.brief["valid"] == 1 and report.brief["skipped"] == 1
    assert report.brief["quarantined"] == 1
    assert report.brief["errored"] == ["employees 990011"]
    assert report.problems == [
        "students instelling/toegangsgroep 990013: rijksregisternr check digits; <script>",
        "employees 990011: extraction failed (see its task log)",
    ]


def test_report_objects_and_last_good_counts_are_written(s3, data_bucket):
    client = s3.client()
    client.put_object(
        Bucket=data_bucket, Key=LAST_GOOD_KEY, Body=json.dumps({"students/990013": 79}).encode()
    )
    write_report(client, data_bucket, UNITS, OUTCOMES)
    summary = json.loads(
        client.get_object(Bucket=data_bucket, Key=f"reports/date={DAY}/summary.json")["Body"].read()
    )
    assert summary["quarantined"] == 1 and len(summary["outcomes"]) == 3
    page = client.get_object(Bucket=data_bucket, Key=f"reports/date={DAY}/report.html")
    assert b"&lt;script&gt;" in page["Body"].read()
    # only a partition that passed moves its baseline; the quarantined one keeps the old count
    assert read_last_good(client, data_bucket) == {"students/990013": 79, "students/990011": 120}


def test_no_baseline_yet_is_empty_but_an_unreadable_one_is_an_error(s3, data_bucket):
    client = s3.client()
    assert read_last_good(client, data_bucket) == {}
    with pytest.raises(ClientError):
        read_last_good(client, f"missing-{data_bucket}")  # NoSuchBucket: not "no baseline"


def test_alert_mail_names_partitions_and_escapes_what_it_shows():
    subject, body = alert_mail(summarise(UNITS, OUTCOMES), "informat-data")
    assert subject == (
        "[Informat] Extraction 2026-11-28: 1 partition(s) quarantined, 1 failed, "
        "1 skipped (no access)"
    )
    assert "invoices SG-Zuid: skipped, no access" in body
    assert "students 990013: 80 rows, 2 failed expectation(s)" in body
    assert "employees 990011: extraction failed" in body
