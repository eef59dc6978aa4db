"""Nobody learns of a failure by chance: every scheduled DAG has deadline alerts (the
rollover check that has not finished by 08:00 is itself an alert), by mail and by the optional
webhook; failure notices go to the webhook too, which stays silent without its connection."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ..support.airflow import ROOT, set_connection

INTERVALS = {
    "informat_toegangsgroep_rollover": timedelta(hours=1),
    "informat_daily_extract": timedelta(hours=3),
    "informat_pdf_archive": timedelta(hours=4),
    "informat_inschrijvingen_push": timedelta(minutes=45),
    "informat_inschrijvingen_opvolging": timedelta(hours=1),
}


def test_every_scheduled_dag_has_deadline_alerts_by_mail_and_webhook(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("INFORMAT_DATA_TEAM", "data@example.org")
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors
    for dag_id, dag in bag.dags.items():
        if dag_id not in INTERVALS:  # the manual connection check has no schedule
            assert dag_id == "informat_connection_check", f"{dag_id} has no deadline"
            continue
        alerts = dag.deadline or []
        callbacks = sorted(str(a.callback.path).rsplit(".", 1)[-1] for a in alerts)
        assert callbacks == ["MailNotifier", "WebhookNotifier"], dag_id
        assert {a.interval for a in alerts} == {INTERVALS[dag_id]}, dag_id
        assert all(type(a.reference).__name__ == "DagRunLogicalDateDeadline" for a in alerts)


def test_the_rollover_deadline_is_eight_oclock():
    """Scheduled at 07:00 Europe/Brussels: one hour after its logical date is 08:00."""
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
