"""The rollover DAG with Airflow's own machinery (dag.test on SQLite) against the sandbox, with a
real SMTP server and a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
import requests

from informat_devtools.mailcatcher import MailCatcher

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import (
    load_dag,
    migrate_db,
    set_connection,
    set_informat_connection,
    set_smtp_connection,
)

FALLBACK = "datateam@example.org"
STATE = "informat_rollover_state"


@pytest.fixture(scope="module")
def mail():
    with MailCatcher() as catcher:
        yield catcher


@pytest.fixture
def airflow_env(sandbox, client_secret, mail, webhook, monkeypatch):
    migrate_db()
    mail.clear()
    webhook[1].clear()
    set_informat_connection(
        monkeypatch,
        sandbox,
        client_secret,
        {
            "instellingsnummers": list(INSTELLINGSNUMMERS),
            "toegangsgroepen": {
                "SG-Noord": {
                    "instellingsnummer": "990011",
                    "admins": ["noord@example.org"],
                    "payments": True,
                },
                "SG-Zuid": {"instellingsnummer": "990013", "admins": ["zuid@example.org"]},
            },
        },
    )
    set_smtp_connection(monkeypatch, mail.port)
    set_connection(
        monkeypatch,
        "informat_alerts_webhook",
        conn_type="http",
        host="127.0.0.1",
        port=webhook[0],
        schema="http",
    )
    monkeypatch.setenv(
        "AIRFLOW_VAR_INFORMAT_ROLLOVER_SETTINGS",
        json.dumps({"remind_after_days": 7, "fallback_recipients": [FALLBACK]}),
    )
    sandbox.reset(today="2026-11-28")
    from airflow.models.variable import Variable as VariableRow  # the metadata database's

    for name in (STATE, STATE + "_manual"):  # the DAG's fixed state: each test starts clean
        VariableRow.delete(name)
    return {"state_variable": STATE}


def run(conf: dict, today: str):
    dag = load_dag("informat_toegangsgroep_rollover")
    dag_run = dag.test(run_conf={"today": today})
    assert str(dag_run.state) == "success"
    return dag_run


def test_alert_once_no_spam_reminder_then_resolved(airflow_env, mail, webhook, sandbox):
    run(airflow_env, "2026-11-28")
    mails = mail.wait_for(1)
    assert len(mails) == 1
    first = mails[0]
    assert first.recipients == ["zuid@example.org"]
    assert first.subject == (
        "[Informat] Nieuw: Toegangsgroep SG-Zuid is niet overgezet naar schooljaar 2026-27"
    )
    assert "Log in op toegangsgroep SG-Zuid via iRekeningen voor schooljaar 2026-27" in first.text
    assert "Sinds: 28/11/2026" in first.text
    assert len(webhook[1]) == 1 and "SG-Zuid" in webhook[1][0]["text"]

    run(airflow_env, "2026-11-29")
    assert len(mail.wait_for(2, timeout=1)) == 1  # the next day: nothing new, no second mail

    run(airflow_env, "2026-12-05")
    reminder = mail.wait_for(2)[1]
    assert reminder.subject.startswith("[Informat] Herinnering: Toegangsgroep SG-Zuid")
    assert "Sinds: 28/11/2026" in reminder.text

    requests.put(
        f"{sandbox.url}/_sandbox/accessgroups/SG-Zuid", json={"carry_over": "2026-27"}, timeout=5
    )
    run(airflow_env, "2026-12-06")
    solved = mail.wait_for(3)[2]
    assert solved.recipients == ["zuid@example.org"]
    assert solved.subject.startswith("[Informat] Opgelost: Toegangsgroep SG-Zuid")
    assert "opgelost" in solved.text
    # runs for a given date kept their own state; the real checks' state was never touched
    from airflow.models.variable import Variable as VariableRow  # the metadata database's

    real = VariableRow.get(airflow_env["state_variable"], default_var=None)
    manual = VariableRow.get(airflow_env["state_variable"] + "_manual", deserialize_json=True)
    assert real is None and manual["open"] == {}


def test_toegangsgroep_going_inactive_is_reported_by_the_next_watch(airflow_env, mail, sandbox):
    run(airflow_env, "2026-11-28")
    assert len(mail.wait_for(1)) == 1
    requests.put(f"{sandbox.url}/_sandbox/accessgroups/SG-Noord", json={"active": False}, timeout=5)
    run(airflow_env, "2026-11-29")
    inactive = mail.wait_for(2)[1]
    assert inactive.recipients == ["noord@example.org"]
    assert "Toegangsgroep SG-Noord is niet meer actief" in inactive.subject


def test_check_failure_is_worded_as_such_and_reaches_the_data_team(
    airflow_env, mail, monkeypatch, sandbox
):
    set_informat_connection(
        monkeypatch,
        sandbox,
        "revoked-secret",
        {"toegangsgroepen": {"SG-Noord": {"instellingsnummer": "990011", "admins": []}}},
    )
    run(airflow_env, "2026-11-28")
    failure = mail.wait_for(1)[0]
    assert failure.recipients == [FALLBACK]
    assert (
        "Controle van toegangsgroep SG-Noord mislukt: aanmeldgegevens geweigerd" in failure.subject
    )
    assert "Dit zegt niets over de toegangsgroep zelf" in failure.text
    assert "revoked-secret" not in failure.text
