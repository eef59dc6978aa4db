"""`airflow dags test` ends with the run's real state on a DAG with deadline alerts,
through the CLI itself, with the documented switch ``INFORMAT_DEADLINES=off``; without it,
Airflow 3.3.2 still crashes when the run ends. The deadlines stay on the DAGs as the scheduler
loads them, counted from the logical date, and a task of such a run can be cleared (with a
queued-at deadline, 3.3.2's clear fails: apache/airflow#70368)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from informat_airflow.wiring import INFORMAT_API_POOL
from informat_devtools.mailcatcher import MailCatcher
from informat_pipelines.voorinschrijvingen.ledger import PUSHED, Ledger
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import (
    ROOT,
    airflow_dags_test,
    dag_run_states,
    migrate_db,
    set_connection,
    set_informat_connection,
    set_s3_connection,
    set_smtp_connection,
)
from ..support.pdf import FAST
from ..support.voorinschrijvingen import ID_KEY, drop

# one task, and with no voorinschrijving sent yet it asks Informat nothing: quick and cheap
DAG_ID = "informat_inschrijvingen_opvolging"
INTERVAL = timedelta(hours=1)
HEX_CRASH = "'dict' object has no attribute 'hex'"


def _dags_test(monkeypatch, tmp_path, sandbox, client_secret, logical_date: str, switch: bool):
    """``airflow dags test DAG_ID logical_date`` in a subprocess on the tests' Airflow home
    (SQLite in a temporary folder), with the connections the DAG needs; (exit status, output)."""
    monkeypatch.setenv("INFORMAT_DROP_ZONE", "local")
    set_connection(monkeypatch, "informat_dropzone", conn_type="fs", extra={"path": str(tmp_path)})
    set_informat_connection(
        monkeypatch, sandbox, client_secret, {"instellingsnummers": list(INSTELLINGSNUMMERS)}
    )
    return airflow_dags_test(DAG_ID, logical_date, deadlines_off=switch)


def _run_state(logical_date: str) -> str:
    return dag_run_states(DAG_ID, logical_date)[0]


def test_airflow_dags_test_with_the_switch_exits_0_with_the_run_success(
    monkeypatch, tmp_path, sandbox, client_secret
):
    logical_date = "2026-03-02T05:30:00+00:00"
    status, output = _dags_test(monkeypatch, tmp_path, sandbox, client_secret, logical_date, True)
    assert status == 0, output[-3000:]
    assert HEX_CRASH not in output
    assert _run_state(logical_date) == "success"


def test_without_the_switch_airflow_3_3_2_dags_test_still_crashes(
    monkeypatch, tmp_path, sandbox, client_secret
):
    """Why the switch exists. When an upgrade of Airflow makes this fail, dag.test() handles
    deadlines: drop ``INFORMAT_DEADLINES`` and load_dag's use of it."""
    logical_date = "2026-03-03T05:30:00+00:00"
    status, output = _dags_test(monkeypatch, tmp_path, sandbox, client_secret, logical_date, False)
    assert status == 1
    assert HEX_CRASH in output
    assert _run_state(logical_date) == "running"  # every task ran; the run never ended


def _sync_as_the_dag_processor(monkeypatch):
    """The project's DAGs parsed and written to the metadata database as the DAG processor
    does (the switch unset, as it is for the DAG processor)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    migrate_db()
    monkeypatch.delenv("INFORMAT_DEADLINES", raising=False)
    monkeypatch.setenv("INFORMAT_DATA_TEAM", "data@example.org")
    # written even within 30 s of the last write (`airflow dags test` re-syncs the DAGs too)
    monkeypatch.setenv("AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL", "0")
    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        assert not bag.import_errors, bag.import_errors
        sync_bag_to_db(bag, bundle.name, bundle.version)


def test_the_scheduler_loads_the_deadlines_counted_from_the_logical_date(monkeypatch):
    from airflow.models.dagbag import DBDagBag
    from airflow.models.deadline_alert import DeadlineAlert
    from airflow.sdk.serde import deserialize
    from airflow.utils.session import create_session

    _sync_as_the_dag_processor(monkeypatch)
    with create_session() as session:
        dag = DBDagBag().get_latest_version_of_dag(DAG_ID, session=session)
        assert dag.deadline, "the scheduler's DAG has no deadline"
        alerts = [DeadlineAlert.get_by_id(alert_id, session=session) for alert_id in dag.deadline]
        assert {a.reference["reference_type"] for a in alerts} == {"DagRunLogicalDateDeadline"}
        assert {deserialize(a.interval) for a in alerts} == {INTERVAL}
        assert len(alerts) == 3  # the record, the webhook, the mail (INFORMAT_DATA_TEAM is set)


def test_a_task_of_a_run_with_deadlines_can_be_cleared(monkeypatch):
    """Clearing a task is how a data engineer redoes it (the DAGs' "When it fails" notes): it
    must work on a run with the DAG's deadlines, as the scheduler made them."""
    from airflow.models.dagbag import DBDagBag
    from airflow.models.deadline import Deadline
    from airflow.models.taskinstance import TaskInstance, clear_task_instances
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType
    from sqlalchemy import select

    _sync_as_the_dag_processor(monkeypatch)
    logical_date = datetime(2026, 1, 5, 5, 30, tzinfo=UTC)
    with create_session() as session:
        dag = DBDagBag().get_latest_version_of_dag(DAG_ID, session=session)
        run = dag.create_dagrun(
            run_id=f"scheduled__{logical_date.isoformat()}",
            logical_date=logical_date,
            data_interval=(logical_date, logical_date),
            run_after=logical_date,
            run_type=DagRunType.SCHEDULED,
            triggered_by=DagRunTriggeredByType.TIMETABLE,
            state=DagRunState.RUNNING,
            session=session,
        )
        session.flush()
        deadlines = session.scalars(select(Deadline).where(Deadline.dagrun_id == run.id)).all()
        assert len(deadlines) == 3 and not any(d.missed for d in deadlines)
        assert {d.deadline_time for d in deadlines} == {logical_date + INTERVAL}
        tis = session.scalars(select(TaskInstance).where(TaskInstance.run_id == run.run_id)).all()
        clear_task_instances(tis, session)  # 3.3.2 with DAGRUN_QUEUED_AT: TypeError here
        session.rollback()  # the run is not to be scheduled by anything


# Every DAG of dags/ through `airflow dags test`, one subprocess each, against a small sandbox,
# moto's S3 server, a mail catcher and a local drop zone, all on 127.0.0.1. No DAG here is meant
# to fail: each gets what a deployment gives it. Per DAG: the run's state and the task states
# that show it did its work (not an early skip).
EVERY_DAG = {
    "informat_connection_check": {
        "instellingsnummers": "success",
        "check_toegangsgroepen": "success",
    },
    "informat_toegangsgroep_rollover": {"check_toegangsgroepen": "success", "alert": "success"},
    # the file in the inbox: the deferrable sensor finds it at once, no wait in the trigger
    "informat_inschrijvingen_push": {"wait_for_drop": "success", "push_drops": "success"},
    "informat_inschrijvingen_opvolging": {},
    "informat_daily_extract": {"report": "success", "asset_students": "success"},
    # the PDFs are made after the sandbox's pdf_delay: the archive tasks defer, and the trigger
    # runs in the `dags test` process
    "informat_pdf_archive": {"retention_guard": "success", "archive_complete": "success"},
    # no school opted in: nothing exported, and nothing held, so the review is skipped
    "informat_roster_export": {"export": "success", "review": "skipped", "finish": "success"},
}
LOGICAL_DATE = "2026-11-28T06:00:00+00:00"  # the small sandbox's today
NUMBERS = ["990011", "990015", "990016"]  # two with pupils, one known to be empty
GROUP = "Internaat-De-Linde"  # one instelling (990015): the smallest toegangsgroep


@pytest.fixture(scope="module")
def mail():
    with MailCatcher() as catcher:
        yield catcher


@pytest.fixture
def deployment(small_sandbox, client_secret, s3, bucket, mail, tmp_path, monkeypatch):
    """What a deployment gives every DAG, as each DAG's own test sets it up."""
    migrate_db()
    from airflow.models.pool import Pool

    # the pool the extraction's tasks take their slots from, as a deployment has it
    Pool.create_or_update_pool(INFORMAT_API_POOL, 4, "Informat API", include_deferred=False)
    set_informat_connection(
        monkeypatch,
        small_sandbox,
        client_secret,
        {"instellingsnummers": NUMBERS, "toegangsgroepen": {GROUP: "990015"}},
    )
    set_smtp_connection(monkeypatch, mail.port)
    set_s3_connection(monkeypatch, s3)
    data = f"data-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(
        Bucket=data, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    monkeypatch.setenv("INFORMAT_DATA_BUCKET", data)
    monkeypatch.setenv("INFORMAT_ARCHIVE_BUCKET", bucket)  # object lock on
    set_connection(
        monkeypatch,
        "informat_pseudonymisation",
        conn_type="generic",
        password="test-pseudonymisation-key-of-32-bytes-or-more",
    )
    set_connection(
        monkeypatch, "informat_preregistration_key", conn_type="generic", password=ID_KEY.decode()
    )
    zone = tmp_path / "dropzone"
    monkeypatch.setenv("INFORMAT_DROP_ZONE", "local")
    set_connection(
        monkeypatch, "informat_dropzone", conn_type="fs",
        extra={"path": str(zone), "state_path": str(tmp_path / "state")},
    )  # fmt: skip
    # 990011 pushed before (a decided voorinschrijving, which the follow-up asks nothing of), so
    # the template's one row goes out at once: a first file of a school waits for a person's
    # approval, which `airflow dags test` has nobody to give
    state = LocalDropZone(zone, state=tmp_path / "state")
    Ledger(state.list_keys, state.read_key, state.write_key).record(
        "earlier",
        [
            {
                "preRegistrationId": "earlier-1",
                "status": PUSHED,
                "instelling": "990011",
                "informat_status": "geaccepteerd",
                "at": "2026-11-01T10:00:00",
            }
        ],
    )
    drop(zone, "sjabloon.csv", (ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_bytes())
    settings = {
        "INFORMAT_EXTRACT_SETTINGS": {"empty_instellingen": ["990016"]},
        "INFORMAT_INSCHRIJVINGEN_SETTINGS": {"contacts": {"990011": "secretariaat@example.org"}},
        "INFORMAT_PDF_ARCHIVE_SETTINGS": FAST,
        "INFORMAT_ROLLOVER_SETTINGS": {"fallback_recipients": ["datateam@example.org"]},
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_{name}", json.dumps(value))


@pytest.mark.parametrize("dag_id", sorted(EVERY_DAG))
def test_airflow_dags_test_ends_with_the_run_success_on_every_dag(deployment, dag_id):
    status, output = airflow_dags_test(dag_id, LOGICAL_DATE)
    state, tasks = dag_run_states(dag_id, LOGICAL_DATE)
    assert (status, state) == (0, "success"), f"{tasks}\n{output[-3000:]}"
    assert HEX_CRASH not in output
    assert {t: tasks.get(t) for t in EVERY_DAG[dag_id]} == EVERY_DAG[dag_id], tasks
    assert tasks and "failed" not in tasks.values(), tasks
    if dag_id == "informat_pdf_archive":  # the wait went through the trigger, in this process
        summaries = _return_values(dag_id, "archive_pdfs")
        assert summaries and all(s["deferrals"] >= 1 and s["lost"] == [] for s in summaries)


def _return_values(dag_id: str, task_id: str) -> list:
    """What every map index of ``task_id`` returned in the run at LOGICAL_DATE."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run_id = session.scalars(
            select(DagRun.run_id).where(
                DagRun.dag_id == dag_id,
                DagRun.logical_date == datetime.fromisoformat(LOGICAL_DATE),
            )
        ).one()
        values = session.scalars(
            select(XComModel.value).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
        ).all()
    return [json.loads(v) if isinstance(v, str) else v for v in values]


def test_every_dag_of_the_dag_folder_is_among_them():
    """A new DAG file is tested here too, or this fails."""
    assert {p.stem for p in (ROOT / "dags").glob("informat_*.py")} == set(EVERY_DAG)
