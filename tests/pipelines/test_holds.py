"""Holding a partition whose changes are too large to be true, against the sandbox and a real S3
endpoint (moto's server): the first run publishes, a day with 40 % of a school's pupils gone is
held apart (not published, a CSV of the changes by pseudonymised id), approval publishes it and
moves the baseline, rejection keeps the old data; a partition failing an expectation is
quarantined, never held; small changes pass."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from informat_pipelines.core import decisions
from informat_pipelines.core.status import extract_day
from informat_pipelines.extract import holds
from informat_pipelines.extract.batch import marker_key
from informat_pipelines.extract.partition import delta, extract_one
from informat_pipelines.extract.report import alert_mail, new_last_good, report_html, summarise
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext

DAY1, DAY2 = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
YEAR = "2026-27"
SCHOOL = "990012"
# a full read every day: a removal shows only in a full read (a delta cannot carry it)
SETTINGS = ExtractSettings(insz_mode="pseudonymise", snapshot_weekday=None)
KEY = b"k" * 32
DEFAULTS = ExtractSettings()


@pytest.fixture
def data(s3, sandbox):
    sandbox.reset(students=600, today=DAY1.isoformat())
    bucket = f"holds-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return RunContext(s3.client(), bucket, SETTINGS, KEY, run_id="run-1")


def extract(client, run, entity, day):
    return extract_one(client, run, Partition(entity, SCHOOL, YEAR, day), None)


def remove(sandbox, entity: str, share: float = 0.0, count: int | None = None) -> list[dict]:
    """Take ``share`` (or ``count``) of the school's records of ``entity`` out of the sandbox (a
    school whose pupils vanish from Informat by mistake); the records removed."""
    inst = sandbox.state.group.instellingen[SCHOOL]
    with sandbox.state.lock:
        records = getattr(inst, entity)
        gone = records[: int(len(records) * share) if count is None else count]
        del records[: len(gone)]
    return gone


def keys(run, prefix):
    answer = run.s3.list_objects_v2(Bucket=run.bucket, Prefix=prefix)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def rows(run, key) -> list[dict]:
    body = run.s3.get_object(Bucket=run.bucket, Key=key)["Body"].read()
    return pq.read_table(io.BytesIO(body)).to_pylist()


def state_key(entity="students"):
    return f"{delta.state_prefix(entity, YEAR, SCHOOL)}/current.parquet"


def test_a_large_removal_is_held_apart_and_approval_publishes_it(client, sandbox, data):
    first = extract(client, data, "students", DAY1)
    assert first["success"] and "held" not in first  # the first run: no baseline, not held
    before = len(rows(data, state_key()))
    gone = remove(sandbox, "students", 0.4)

    held = extract(client, data, "students", DAY2)
    assert held["success"] and held["failed"] == []  # valid: held, not quarantined
    counts = held["held"]
    assert counts["removed"] == len(gone) and counts["added"] == counts["changed"] == 0
    assert counts["baseline_rows"] == before and counts["decision"] is None
    assert counts["run_id"] == "run-1"
    assert not any("date=2026-11-24" in k for k in keys(data, "clean/"))  # not published
    assert not any("date=2026-11-24" in k for k in keys(data, "raw/"))
    where = holds.held_prefix(Partition("students", SCHOOL, YEAR, DAY2))
    assert keys(data, f"{where}/") == [
        f"{where}/changes.csv", f"{where}/data.parquet", f"{where}/raw.jsonl.gz"
    ]  # fmt: skip
    assert len(rows(data, state_key())) == before  # the baseline did not move
    body = data.s3.get_object(Bucket=data.bucket, Key=counts["changes"])["Body"].read().decode()
    table = list(csv.DictReader(io.StringIO(body)))
    assert {r["id"] for r in table} == {s["persoonId"] for s in gone}
    assert {r["change"] for r in table} == {"removed"} and all(
        len(r["inszHash"]) in (0, 64) for r in table
    )
    for student in gone:  # pseudonymised ids only: no name, no INSZ
        assert student["naam"] not in body and student["voornaam"] not in body
        assert not student.get("rijksregisternr") or student["rijksregisternr"] not in body

    part = Partition("students", SCHOOL, YEAR, DAY2)
    released = holds.release(data, part, held)
    assert holds.is_published(released)
    published = rows(data, released["keys"]["clean"])
    assert len(published) == before - len(gone)
    assert len(rows(data, state_key())) == before - len(gone)  # the baseline moved
    watermark = delta.read_watermark(
        data.s3, data.bucket, delta.watermark_key("students", YEAR, SCHOOL)
    )
    assert watermark.isoformat() == counts["started"]
    assert keys(data, f"{where}/") == [f"{where}/changes.csv"]  # the held copy is gone
    marker = json.loads(data.s3.get_object(Bucket=data.bucket, Key=marker_key(part))["Body"].read())
    assert marker["outcome"]["held"]["decision"] == "approved"
    # the next day compares with what was approved: nothing more to hold
    assert "held" not in extract(client, data, "students", DAY2 + dt.timedelta(days=1))


def test_rejection_keeps_the_old_data_and_baseline(client, sandbox, data):
    first = extract(client, data, "students", DAY1)
    old_clean = rows(data, first["keys"]["clean"])
    remove(sandbox, "students", 0.4)
    held = extract(client, data, "students", DAY2)
    part = Partition("students", SCHOOL, YEAR, DAY2)

    kept = holds.keep_old(data, part, held, decisions.REJECTED)
    assert not holds.is_published(kept) and kept["held"]["decision"] == "rejected"
    where = holds.held_prefix(part)
    assert keys(data, f"{where}/") == [f"{where}/changes.csv"]  # no children's data kept
    assert [k for k in keys(data, "clean/")] == [first["keys"]["clean"]]
    assert rows(data, first["keys"]["clean"]) == old_clean
    assert len(rows(data, state_key())) == len(old_clean)
    # the next run compares with the old baseline again: still held
    assert extract(client, data, "students", DAY2 + dt.timedelta(days=1))["held"]


def test_a_partition_failing_an_expectation_is_quarantined_not_held(client, sandbox, data):
    extract(client, data, "students", DAY1)
    remove(sandbox, "students", 0.4)
    sandbox.set_faults(bad_student_rows=3)
    outcome = extract(client, data, "students", DAY2)
    assert not outcome["success"] and "held" not in outcome
    assert not keys(data, "held/") and keys(data, "quarantine/students/")
    assert holds.waiting(data, [Partition("students", SCHOOL, YEAR, DAY2)]) == []


def test_small_changes_pass_and_non_delta_entities_compare_with_the_last_clean_file(
    client, sandbox, data
):
    extract(client, data, "employees", DAY1)
    extract(client, data, "students", DAY1)
    inst = sandbox.state.group.instellingen[SCHOOL]
    # 10 %, weighted 20 %: not more than the share
    remove(sandbox, "employees", count=max(1, len(inst.employees) // 10))
    changed = extract(client, data, "employees", DAY2)
    assert "held" not in changed and changed["keys"]["clean"].endswith(
        "date=2026-11-24/data.parquet"
    )
    remove(sandbox, "employees", 0.4)
    held = extract(client, data, "employees", DAY2 + dt.timedelta(days=1))
    assert held["held"]["removed"] == held["held"]["baseline_rows"] - held["rows"]
    assert held["held"]["baseline_rows"] == changed["rows"]  # the last clean file, not the first


def test_thresholds_share_minimum_and_removal_weight():
    rule = holds.rule_for(ExtractSettings(), "students")
    assert (rule.share, rule.min_changes, rule.removal_weight) == (0.2, 5, 2.0)

    def held(baseline, added=0, removed=0, changed=0, settings=DEFAULTS):
        changes = holds.Changes(
            baseline,
            [(i, None) for i in range(added)],
            [(i, None) for i in range(removed)],
            [(i, None) for i in range(changed)],
        )
        return holds.is_held(changes, holds.rule_for(settings, "students"))

    assert not held(100, added=20) and held(100, added=21)  # more than 20 %
    assert not held(10, added=4) and held(10, added=5)  # at least 5
    assert held(100, removed=11) and not held(100, added=11)  # a removal weighs twice
    assert held(0, added=5)  # an empty school filling up asks a person too
    own = ExtractSettings(hold_entities={"students": {"share": 0.5, "min_changes": 1}})
    assert not held(100, added=40, settings=own) and held(100, added=51, settings=own)
    assert holds.rule_for(own, "employees").share == 0.2
    assert not held(100, removed=100, settings=ExtractSettings(hold_share=None))


def test_hold_settings_are_checked():
    values = ExtractSettings.from_mapping(
        {"hold_share": 0.1, "hold_entities": {"invoices": {"share": None}}}
    )
    assert values.hold_share == 0.1 and holds.rule_for(values, "invoices").share is None
    for wrong in (
        {"hold_share": -0.1},
        {"hold_min_changes": -1},
        {"hold_removal_weight": 0.5},
        {"hold_entities": {"students": {"shar": 0.1}}},
        {"hold_entities": {"students": {"share": 11}}},
    ):
        with pytest.raises(ValueError, match=r"hold_|share|min_changes|removal_weight"):
            ExtractSettings.from_mapping(wrong)


def test_diff_names_added_removed_and_changed_by_id(tmp_path):
    old = pa.table({"personId": ["a", "b", "c"], "inszHash": ["ha", "hb", None], "x": [1, 2, 3]})
    new = pa.table({"personId": ["b", "c", "d"], "inszHash": ["hb", None, "hd"], "x": [2, 4, 5]})
    pq.write_table(old, tmp_path / "old.parquet")
    pq.write_table(new, tmp_path / "new.parquet")
    changes = holds.diff(tmp_path / "old.parquet", tmp_path / "new.parquet", "personId")
    assert (changes.added, changes.removed, changes.changed) == (
        [("d", "hd")], [("a", "ha")], [("c", None)]
    )  # fmt: skip
    assert changes.csv().decode().splitlines() == [
        "change,id,inszHash", "added,d,hd", "removed,a,ha", "changed,c,",
    ]  # fmt: skip


CSV = "held/students/schooljaar=2026-27/instelling=990012/date=2026-11-24/changes.csv"
HELD = {"added": 0, "removed": 240, "changed": 0, "baseline_rows": 600, "started": "x",
        "changes": CSV, "run_id": "manual__1"}  # fmt: skip
UNITS = [Partition("students", k, YEAR, DAY2) for k in ("990011", "990012", "990013")]


def outcomes(decision=None):
    return [
        {"entity": "students", "key": "990011", "rows": 80, "success": True, "failed": []},
        {"entity": "students", "key": "990012", "rows": 360, "success": True, "failed": [],
         "held": {**HELD, "decision": decision}},
        {"entity": "students", "key": "990013", "rows": 70, "success": False,
         "failed": ["expect_column_values_to_be_unique (personId): 3 unexpected"]},
    ]  # fmt: skip


def test_the_report_the_mail_and_the_page_say_held_apart_from_quarantined():
    report = summarise(UNITS, outcomes())
    assert report.brief["valid"] == 1 and report.brief["held"] == 1
    assert report.brief["quarantined"] == 1
    assert report.brief["held_partitions"][0]["key"] == "990012"
    assert report.problems == [  # held is no problem: the run does not fail for it
        "students instelling/toegangsgroep 990013: "
        "expect_column_values_to_be_unique (personId): 3 unexpected"
    ]
    subject, body = alert_mail(report, "data")
    assert "1 partition(s) quarantined" in subject and "1 held for review" in subject
    assert "990012: held for review (valid, not quarantined): 0 added, 240 removed" in body
    page = report_html(outcomes(), DAY2)
    assert "<b>held</b> (awaiting review, not published" in page and HELD["changes"] in page
    assert "<b>quarantine</b>" in page
    cells = extract_day(report.summary)["cells"]
    assert cells["students/990012"]["state"] == "held"
    assert cells["students/990012"]["held"]["changes"] == HELD["changes"]
    assert cells["students/990012"]["held"]["run_id"] == "manual__1"
    assert cells["students/990013"]["state"] == "quarantined"
    # approved: published, counted as valid, its count the next baseline
    approved = summarise(UNITS, outcomes("approved"))
    assert approved.brief["valid"] == 2 and approved.brief["held"] == 0
    assert extract_day(approved.summary)["cells"]["students/990012"]["state"] == "clean"
    assert "approved and published" in report_html(outcomes("approved"), DAY2)
    assert new_last_good({}, outcomes("approved")) == {
        "students/990011": 80,
        "students/990012": 360,
    }
    assert new_last_good({"students/990012": 600}, outcomes()) == {
        "students/990011": 80, "students/990012": 600,
    }  # fmt: skip
    assert "no answer in time" in report_html(outcomes("timeout"), DAY2)


def test_the_review_and_its_mails_name_counts_and_keys_only():
    held = [(UNITS[1], outcomes()[1])]
    body = holds.review_body(held, "data")
    assert "| students | 990012 | 0 | 240 | 0 | 600 |" in body and HELD["changes"] in body
    subject, mail = holds.held_mail(held, "data", "http://airflow/x", 20)
    assert "1 partition(s) held for review" in subject and "http://airflow/x" in mail
    assert "not quarantined" in mail and "within 20 hours" in mail
    subject, mail = holds.kept_mail(held, decisions.TIMED_OUT)
    assert "not published" in subject and "nobody answered the review in time" in mail


def test_a_compound_key_is_compared_as_a_whole(tmp_path):
    """A pupil in two classes is two memberships: moving one of them is one change, not a
    record that vanished behind the other with the same pupil."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    old = {"registrationId": ["r1", "r1", "r2"], "classId": ["A", "B", "A"], "endDate": [None] * 3}
    new = {"registrationId": ["r1", "r1", "r2"], "classId": ["A", "C", "A"], "endDate": [None] * 3}
    pq.write_table(pa.table(old), tmp_path / "old.parquet")
    pq.write_table(pa.table(new), tmp_path / "new.parquet")
    key = ("registrationId", "classId")
    changes = holds.diff(tmp_path / "old.parquet", tmp_path / "new.parquet", key)
    assert [i for i, _ in changes.added] == ["r1/C"]
    assert [i for i, _ in changes.removed] == ["r1/B"] and changes.changed == []


def test_a_column_added_since_the_baseline_is_no_change(tmp_path):
    """The project reads a new key (a column the baseline lacks): the records are the same."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    old = {"personId": ["a", "b"], "name": ["x", "y"]}
    new = {"personId": ["a", "b"], "name": ["x", "z"], "classes": [["1A"], ["1B"]]}
    pq.write_table(pa.table(old), tmp_path / "old.parquet")
    pq.write_table(pa.table(new), tmp_path / "new.parquet")
    changes = holds.diff(tmp_path / "old.parquet", tmp_path / "new.parquet", "personId")
    assert [i for i, _ in changes.changed] == ["b"] and not changes.added and not changes.removed
