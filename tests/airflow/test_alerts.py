"""Nobody learns of a failure by chance: every scheduled DAG has deadline alerts (the rollover
check of 07:00 that has not finished by 08:00 is itself an alert), by mail and by the
optional webhook; failure notices go to the webhook too, which stays silent without its
connection. No false alarms: a deadline counts from the logical date and tells nothing of a run
made after it (a first unpause, a catch-up), and a late run that finishes after all says so
once. `INFORMAT_DEADLINES=off` (for `airflow dags test`, which crashes on deadlines in Airflow
3.3.2) leaves the deadlines off."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ..support.airflow import ROOT, set_connection, set_smtp_connection

INTERVALS = {
    "informat_toegangsgroep_rollover": timedelta(hours=1),
    "informat_daily_extract": timedelta(hours=3),
    "informat_pdf_archive": timedelta(hours=4),
    "informat_inschrijvingen_push": timedelta(hours=20, minutes=45),  # a review may wait 20 h
    "informat_inschrijvingen_opvolging": timedelta(hours=1),
}

NO_DEADLINE = ("informat_connection_check", "informat_roster_export")


def _parse(monkeypatch, switch: str | None = None):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("INFORMAT_DATA_TEAM", "data@example.org")
    if switch is None:
        monkeypatch.delenv("INFORMAT_DEADLINES", raising=False)
    else:
        monkeypatch.setenv("INFORMAT_DEADLINES", switch)
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors
    return bag.dags


def test_every_scheduled_dag_has_deadline_alerts_by_mail_and_webhook(monkeypatch):
    from informat_airflow.heartbeat import HeartbeatPing
    from informat_airflow.late_runs import LateRunEnd

    for dag_id, dag in _parse(monkeypatch).items():
        if dag_id not in INTERVALS:
            # the manual connection check has no schedule; the roster export runs when the
            # extraction's data changes (Assets), with no time of its own to be late against
            assert dag_id in NO_DEADLINE, f"{dag_id} has no deadline"
            continue
        alerts = dag.deadline or []
        callbacks = sorted(str(a.callback.path).rsplit(".", 1)[-1] for a in alerts)
        assert callbacks == ["DeadlineMissedRecord", "MailNotifier", "WebhookNotifier"], dag_id
        assert {a.interval for a in alerts} == {INTERVALS[dag_id]}, dag_id
        # from the logical date (queued-at breaks clearing a task in 3.3.2)
        assert all(type(a.reference).__name__ == "DagRunLogicalDateDeadline" for a in alerts)
        # the late run that succeeds after all is told by both channels; a failed one only
        # removes the record
        late_end, heartbeat = dag.on_success_callback
        assert isinstance(late_end, LateRunEnd), dag_id
        told = sorted(type(n).__name__ for n in late_end.notifiers)
        assert told == ["MailNotifier", "WebhookNotifier"], dag_id
        assert isinstance(heartbeat, HeartbeatPing), dag_id
        assert isinstance(dag.on_failure_callback, LateRunEnd), dag_id
        assert dag.on_failure_callback.notifiers == [], dag_id


def _succeed(dag, run_id):
    """What Airflow does when a run succeeds: each of the DAG's success callbacks."""
    for callback in dag.on_success_callback:
        callback({"dag": dag, "run_id": run_id})


def _deadline_context(logical: str, queued: str) -> dict:
    """What the scheduler hands a deadline's callbacks (models/deadline.py handle_miss)."""
    run = {
        "dag_id": "informat_daily_extract",
        "run_id": f"scheduled__{logical}",
        "logical_date": logical,
        "queued_at": queued,
    }
    return {"dag_run": run, "deadline": {"id": "d1", "deadline_time": "2026-12-02T07:00:00Z"}}


def test_a_run_made_after_its_logical_date_gets_no_deadline_notice(webhook, monkeypatch):
    """A first unpause at 14:00 makes the 04:00 run: its 3-hour deadline passed before it
    existed. Neither channel tells, and no record is kept; a run queued on time is told."""
    port, received = webhook
    received.clear()
    set_connection(
        monkeypatch, "informat_alerts_webhook", conn_type="http", host="127.0.0.1", port=port
    )
    from informat_airflow.late_runs import DeadlineMissedRecord
    from informat_airflow.mail import MailNotifier
    from informat_airflow.webhook import WebhookNotifier
    from informat_devtools.mailcatcher import MailCatcher

    store = _record_store(monkeypatch)
    made_late = _deadline_context("2026-12-02T04:00:00+00:00", "2026-12-02T14:00:05+00:00")
    on_time = _deadline_context("2026-12-02T04:00:00+00:00", "2026-12-02T04:00:02+00:00")
    with MailCatcher() as mail:
        set_smtp_connection(monkeypatch, mail.port)
        notifiers = [
            DeadlineMissedRecord(),
            WebhookNotifier(text="late"),
            MailNotifier(to="data@example.org", subject="late", html_content="<p>late</p>"),
        ]
        for notifier in notifiers:
            asyncio.run(notifier.async_notify(made_late))
        assert received == [] and store == {} and mail.wait_for(1, timeout=1) == []
        for notifier in notifiers:
            asyncio.run(notifier.async_notify(on_time))
        assert len(received) == 1 and len(store) == 1 and len(mail.wait_for(1)) == 1


def test_the_switch_leaves_the_deadlines_off_and_only_when_off(monkeypatch):
    for value in ("off", "OFF", " false ", "0", "no"):
        for dag_id, dag in _parse(monkeypatch, value).items():
            assert not dag.deadline, (value, dag_id)
            assert dag.on_success_callback is None, (value, dag_id)
    for value in ("on", ""):
        dags = _parse(monkeypatch, value)
        assert all(dags[dag_id].deadline for dag_id in INTERVALS), value


def test_the_rollover_deadline_is_eight_oclock():
    """Queued at 07:00 Europe/Brussels by the scheduler: one hour after that is 08:00."""
    source = (ROOT / "dags" / "informat_toegangsgroep_rollover.py").read_text()
    assert 'CronTriggerTimetable("0 7 * * *", timezone="Europe/Brussels")' in source
    assert INTERVALS["informat_toegangsgroep_rollover"] == timedelta(hours=1)


def test_the_webhook_notifier_posts_and_is_silent_without_its_connection(webhook, monkeypatch):
    from informat_airflow.webhook import WebhookNotifier

    port, received = webhook
    received.clear()
    notifier = WebhookNotifier(text="[Informat] {{ dag_id_text }} failed")
    notifier.context = {"dag_id_text": "informat_daily_extract"}
    asyncio.run(_await(notifier))  # as the triggerer runs a deadline alert: no connection yet
    assert received == []
    set_connection(
        monkeypatch, "informat_alerts_webhook", conn_type="http", host="127.0.0.1", port=port
    )
    notifier = WebhookNotifier(text="[Informat] {{ dag_id_text }} failed")
    notifier.context = {"dag_id_text": "informat_daily_extract"}
    asyncio.run(_await(notifier))
    assert received == [{"text": "[Informat] informat_daily_extract failed"}]


async def _await(notifier):
    await notifier


def _record_store(monkeypatch) -> dict:
    """The Variables a triggerer or DAG processor reaches through the Task SDK, as a dict (this
    process has no supervisor to talk to)."""
    from airflow.sdk import Variable
    from airflow.sdk.definitions._internal.types import NOTSET

    store: dict = {}

    def get(key, default=NOTSET, deserialize_json=False):
        if key in store:
            return store[key]
        if default is NOTSET:
            raise KeyError(key)
        return default

    monkeypatch.setattr(Variable, "get", staticmethod(get))
    monkeypatch.setattr(
        Variable,
        "set",
        staticmethod(
            lambda key, value, description=None, serialize_json=False: store.update({key: value})
        ),
    )
    monkeypatch.setattr(Variable, "delete", staticmethod(lambda key: store.pop(key)))
    return store


def _deadline_fires(run_id: str) -> None:
    """The deadline callback as the triggerer runs it: the notifier's class called with the
    context the scheduler hands it (``Deadline.handle_miss``), then awaited."""
    from informat_airflow.late_runs import DeadlineMissedRecord

    context = {
        "dag_run": {"dag_id": "informat_daily_extract", "run_id": run_id},
        "deadline": {"id": "x", "deadline_time": "2026-12-02T09:00:00+00:00"},
    }
    asyncio.run(_await(DeadlineMissedRecord(context=context)))


def test_a_late_run_that_finishes_after_all_says_so_once(webhook, monkeypatch):
    from informat_devtools.mailcatcher import MailCatcher

    port, received = webhook
    received.clear()
    set_connection(
        monkeypatch, "informat_alerts_webhook", conn_type="http", host="127.0.0.1", port=port
    )
    dag = _parse(monkeypatch)["informat_daily_extract"]  # the data team: data@example.org
    store = _record_store(monkeypatch)
    late, on_time = "scheduled__2026-12-02T06:00:00+00:00", "scheduled__2026-12-01T06:00:00+00:00"

    _deadline_fires(late)
    assert list(store) == [f"informat_deadline_missed__informat_daily_extract__{late}"]

    with MailCatcher() as mail:
        set_smtp_connection(monkeypatch, mail.port)
        # a run whose deadline never fired succeeds in silence
        _succeed(dag, on_time)
        assert received == [] and mail.wait_for(1, timeout=1) == []
        # the late one: one notice by each channel, and the record is gone
        _succeed(dag, late)
        [told] = mail.wait_for(1)
        text = f"[Informat] informat_daily_extract: run {late}, reported late, finished after all."
        assert received == [{"text": text}]
        assert store == {}
        _succeed(dag, late)
        assert len(received) == 1 and len(mail.wait_for(2, timeout=1)) == 1  # once
    assert told.recipients == ["data@example.org"]
    assert told.subject == "[Informat] informat_daily_extract: the late run finished after all"
    assert late in told.text


def test_a_late_run_that_fails_only_forgets_its_record(webhook, monkeypatch):
    port, received = webhook
    received.clear()
    set_connection(
        monkeypatch, "informat_alerts_webhook", conn_type="http", host="127.0.0.1", port=port
    )
    dag = _parse(monkeypatch)["informat_daily_extract"]
    store = _record_store(monkeypatch)
    late = "scheduled__2026-12-02T06:00:00+00:00"
    _deadline_fires(late)
    dag.on_failure_callback({"dag": dag, "run_id": late})
    assert store == {} and received == []  # its failure has its own notice
