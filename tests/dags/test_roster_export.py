"""The roster export DAG with Airflow's own machinery (dag.test on SQLite), a real S3 endpoint and
a real SMTP server on 127.0.0.1. The review is answered the way Airflow resumes a waiting
Human-in-the-loop task: a response recorded as the Core API's HITL route records it, or no
response and the scheduler's own timeout sweep, which applies the task's default (Reject)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from informat_devtools.mailcatcher import MailCatcher

from ..pipelines.test_roster_export import APPROVED, DAY, PUPIL_PATTERN, write_school
from ..support.airflow import (
    Answer,
    load_dag,
    migrate_db,
    set_connection,
    set_s3_connection,
    set_smtp_connection,
    task_states,
)

DAG_ID = "informat_roster_export"


@pytest.fixture
def dag_env(s3, monkeypatch):
    migrate_db()
    bucket = f"data-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    monkeypatch.setenv("INFORMAT_DATA_BUCKET", bucket)
    set_s3_connection(monkeypatch, s3)
    # the export reads only the connection's instellingsnummers: Informat itself is not called
    set_connection(
        monkeypatch, "informat_default", conn_type="informat", host="http://127.0.0.1:9",
        login="sandbox-client", password="unused",
        extra={"instellingsnummers": ["990011", "990013", "990015"]},
    )  # fmt: skip
    mail = MailCatcher().start()
    set_smtp_connection(monkeypatch, mail.port)
    monkeypatch.setenv(
        "AIRFLOW_VAR_INFORMAT_ROSTER_SETTINGS",
        json.dumps({
            "instellingen": {"990011": APPROVED, "990013": APPROVED},  # 990015 not opted in
            "sign_in": {"student": PUPIL_PATTERN, "teacher": "school_email"},
            "alert_recipients": ["datateam@example.org"],
        }),
    )  # fmt: skip
    yield {"bucket": bucket, "mail": mail, "client": s3.client()}
    mail.stop()


def run(day, answer=None, timeout=False):
    """One run for ``day``; ``answer`` ("Approve"/"Reject") given to the review when it waits,
    or with ``timeout`` nobody answers and the scheduler's sweep applies the default. Returns
    the run and what the review asked (an empty list: it never asked)."""
    dag = load_dag(DAG_ID)
    for task in dag.tasks:
        task.retries = 0
    if timeout:
        dag.task_dict["review"].response_timeout = timedelta(seconds=1)
    helper = Answer(DAG_ID, None if timeout else answer)
    helper.start()
    try:
        logical = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        dag_run = dag.test(logical_date=logical)
    finally:
        helper.done.set()
        helper.join(10)
    return dag_run, [helper.detail] if helper.detail else []


def keys(env) -> dict[str, bytes]:
    client = env["client"]
    found = client.list_objects_v2(Bucket=env["bucket"], Prefix="exports/").get("Contents", [])
    return {
        o["Key"]: client.get_object(Bucket=env["bucket"], Key=o["Key"])["Body"].read()
        for o in found
    }


def summary(env, day) -> dict:
    body = (
        env["client"]
        .get_object(Bucket=env["bucket"], Key=f"reports/roster/date={day}/summary.json")["Body"]
        .read()
    )
    return json.loads(body)


def test_held_school_waits_for_approval_while_the_others_go_out(dag_env):
    client, bucket = dag_env["client"], dag_env["bucket"]
    for nr in ("990011", "990013", "990015"):
        write_school(client, bucket, nr)
    dag_run, seen = run(DAY)
    states = task_states(dag_run)
    assert str(dag_run.state) == "success", states
    assert states["review"] == "skipped" and states["publish_held"] == "skipped"  # nothing held
    first = keys(dag_env)
    assert f"exports/sds/{DAY}/990011.zip" in first
    assert f"exports/oneroster/{DAY}/990013.zip" in first
    assert not [k for k in first if "990015" in k]  # not opted in: nothing written
    assert summary(dag_env, DAY)["register"] == {"990011": APPROVED, "990013": APPROVED}

    nextday = DAY + timedelta(days=1)
    write_school(client, bucket, "990011", day=nextday, pupils=20)  # half its pupils gone
    write_school(client, bucket, "990013", day=nextday)
    dag_run, seen = run(nextday, answer="Approve")
    states = task_states(dag_run)
    assert str(dag_run.state) == "success", states
    assert states["review"] == "success" and states["publish_held"] == "success"
    assert (
        "990011" in seen[0]["body"]
        and f"exports/held/{nextday}/990011/dropped.csv" in (seen[0]["body"])
    )
    after = keys(dag_env)
    assert after["exports/sds/latest/990011.zip"] == after[f"exports/held/{nextday}/990011/sds.zip"]
    assert f"exports/sds/{nextday}/990013.zip" in after
    approved = summary(dag_env, nextday)
    assert approved["held"] == [] and approved["schools"][0]["approved"] is True

    mails = dag_env["mail"].wait_for(2)
    assert "1 school(s) held for approval" in mails[1].subject
    assert "Émile" not in mails[1].text and "P1" not in mails[1].text  # counts, never people


def test_a_held_export_nobody_answers_keeps_the_last_good_one(dag_env):
    client, bucket = dag_env["client"], dag_env["bucket"]
    write_school(client, bucket, "990011")
    dag_run, _ = run(DAY)  # 990013 is opted in but has no clean tables: that school fails
    states = task_states(dag_run)
    assert str(dag_run.state) == "failed" and states["finish"] == "failed", states
    assert states["export"] == "success"  # ... and the other one went out
    good = keys(dag_env)["exports/sds/latest/990011.zip"]

    nextday = DAY + timedelta(days=1)
    write_school(client, bucket, "990011", day=nextday, pupils=10)
    write_school(client, bucket, "990013", day=nextday)
    dag_run, seen = run(nextday, timeout=True)
    states = task_states(dag_run)
    assert str(dag_run.state) == "success", states
    assert seen and states["review"] == "success"  # resolved by the default: Reject
    assert states["publish_held"] == "skipped"
    after = keys(dag_env)
    assert after["exports/sds/latest/990011.zip"] == good
    assert f"exports/sds/{nextday}/990011.zip" not in after
    assert summary(dag_env, nextday)["held"] == ["990011"]


def test_scheduled_on_the_extractions_assets_of_every_table_it_reads(dagbag):
    """The existing entities' Assets are the very ones the extraction updates (same name and
    URI), and every clean table the export reads is among the Assets it waits for."""
    from informat_pipelines.roster_export.clean import ENTITIES

    roster = dagbag.dags[DAG_ID]
    waits = {(a.name, a.uri) for a in roster.timetable.asset_condition.objects}
    extract = dagbag.dags["informat_daily_extract"]
    updated = {(a.name, a.uri) for t in extract.tasks for a in t.outlets}
    for entity in ("students", "registrations", "employees"):
        assert (f"informat_clean_{entity}", f"x-informat://clean/{entity}") in updated & waits
    assert {f"informat_clean_{e}" for e in ENTITIES} <= {name for name, _ in waits}
