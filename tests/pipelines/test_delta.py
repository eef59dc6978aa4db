"""Delta extraction against the sandbox and a real S3 endpoint: a first run reads everything, a
daily run reads only what changed (``changedSince``) and merges it into the state, and on the
snapshot day the merged state equals a full read; a change the deltas missed fails that day."""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow.parquet as pq
import pytest
import requests

from informat_pipelines.extract.partition import delta, extract_one
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext

MONDAY = dt.date(2026, 11, 23)
SETTINGS = ExtractSettings(insz_mode="pseudonymise", snapshot_weekday=6)  # Sunday
KEY = b"k" * 32


@pytest.fixture
def data(s3, sandbox):
    sandbox.reset(students=600, today=MONDAY.isoformat())
    bucket = f"delta-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return s3.client(), bucket


def run(client, data, entity, day, last_good=None):
    s3, bucket = data
    year = "2026-27"
    run = RunContext(s3, bucket, SETTINGS, KEY)
    return extract_one(client, run, Partition(entity, "990012", year, day), last_good)


def clean_ids(data, outcome) -> set:
    s3, bucket = data
    body = s3.get_object(Bucket=bucket, Key=outcome["keys"]["clean"])["Body"].read()
    import io

    return set(pq.read_table(io.BytesIO(body)).column("personId").to_pylist())


def test_delta_reads_only_changes_and_equals_the_snapshot(client, sandbox, data):
    first = run(client, data, "students", MONDAY)
    assert first["mode"] == "full" and first["success"]
    before = client.stats["bytes"]
    total = first["rows"]

    changed = requests.post(
        f"{sandbox.url}/_sandbox/changes/990012",
        json={"students": 3, "new_students": 2, "registrations": 4},
        timeout=10,
    ).json()
    tuesday = run(client, data, "students", MONDAY + dt.timedelta(1), total)
    assert tuesday["mode"] == "delta" and tuesday["success"]
    assert tuesday["fetched"] == 5 and tuesday["rows"] == total + 2
    delta_bytes = client.stats["bytes"] - before
    assert delta_bytes * 20 < before  # a small fraction of a full read

    registrations = run(client, data, "registrations", MONDAY)
    assert registrations["mode"] == "full"
    # registrations take a day, not a moment: the day's changes are read again (an overlap)
    again = run(client, data, "registrations", MONDAY + dt.timedelta(1), registrations["rows"])
    assert again["mode"] == "delta" and again["fetched"] == 4 + 2 and again["success"]

    sunday = run(client, data, "students", dt.date(2026, 11, 29), tuesday["rows"])
    assert sunday["mode"] == "snapshot" and sunday["success"], sunday["failed"]
    assert sunday["removed"] == 0
    assert len(clean_ids(data, sunday)) == total + 2 == len(clean_ids(data, tuesday))
    assert len(changed["new_students"]) == 2


def test_a_change_the_deltas_missed_fails_the_snapshot_day(client, sandbox, data):
    first = run(client, data, "students", MONDAY)
    s3, bucket = data
    key = delta.watermark_key("students", "2026-27", "990012")
    mark = delta.read_watermark(s3, bucket, key)
    # Informat changes a record without its change time moving (what a delta cannot see)
    sandbox.state.group.instellingen["990012"].students[0]["geboortedatum"] = "2015-01-01"
    sunday = run(client, data, "students", dt.date(2026, 11, 29), first["rows"])
    assert sunday["mode"] == "snapshot" and not sunday["success"]
    assert "delta check: 1 record(s) differ from the snapshot" in sunday["failed"]
    # the state is not moved on by a failed day: the next day is compared again
    assert delta.read_watermark(s3, bucket, key) == mark


def test_choice_of_mode():
    from informat_pipelines.extract.schemas import ENTITIES

    mark = dt.datetime(2026, 11, 20, 5, tzinfo=dt.UTC)
    students, employees = ENTITIES["students"], ENTITIES["employees"]
    assert delta.choose(students, MONDAY, None, 6).kind == "full"
    assert delta.choose(employees, MONDAY, mark, 6).kind == "full"  # no delta read there
    assert delta.choose(students, MONDAY, mark, None).kind == "full"  # deltas off
    assert delta.choose(students, MONDAY, mark, 6) == delta.Mode(
        "delta", "2026-11-20T05:00:00+00:00"
    )
    assert delta.choose(students, dt.date(2026, 9, 1), mark, 6).kind == "snapshot"
    assert delta.choose(ENTITIES["registrations"], MONDAY, mark, 6).since == "2026-11-20"


def test_a_short_placeholder_or_changed_pseudonymisation_key_is_refused(s3):
    from informat_pipelines.extract.landing import key_fingerprint
    from informat_pipelines.extract.partition import check_key

    with pytest.raises(ValueError, match="at least 32 random bytes"):
        key_fingerprint(b"test-hash-key")
    with pytest.raises(ValueError, match="not a placeholder"):
        key_fingerprint(b"change-me-a-long-random-key-0123456789")
    bucket = f"keys-{uuid.uuid4().hex[:8]}"
    client = s3.client()
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    first = check_key(client, bucket, KEY)  # stored with the data at first use
    assert check_key(client, bucket, KEY) == first
    with pytest.raises(ValueError, match="pseudonymisation key changed"):
        check_key(client, bucket, b"another-key-of-at-least-32-bytes!!")
