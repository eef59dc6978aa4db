"""The connection-check DAG run with dag.test() against the sandbox."""

from __future__ import annotations

from informat_devtools.mailcatcher import MailCatcher

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import (
    load_dag,
    migrate_db,
    set_informat_connection,
    set_smtp_connection,
    task_states,
)


def test_connection_check_dag_against_the_sandbox(sandbox, client_secret, monkeypatch):
    migrate_db()
    set_informat_connection(
        monkeypatch,
        sandbox,
        client_secret,
        {
            "instellingsnummers": list(INSTELLINGSNUMMERS),
            "toegangsgroepen": {"SG-Noord": "990011", "SG-Zuid": "990013"},
        },
    )
    dag = load_dag("informat_connection_check")
    run = dag.test()
    assert str(run.state) == "success"
    states = task_states(run)
    assert states["instellingsnummers"] == "success"
    assert sum(1 for k, v in states.items() if k.startswith("check_instelling[")) == len(
        INSTELLINGSNUMMERS
    )
    assert set(states.values()) == {"success"}


def test_connection_check_dag_fails_on_refused_credentials(sandbox, monkeypatch):
    migrate_db()
    set_informat_connection(
        monkeypatch, sandbox, "not-the-secret", {"instellingsnummers": ["990011"]}
    )
    monkeypatch.setenv("INFORMAT_DATA_TEAM", "data@example.org")
    with MailCatcher() as mail:
        set_smtp_connection(monkeypatch, mail.port)
        dag = load_dag("informat_connection_check")
        for task in dag.tasks:
            task.retries = 0  # the failure is permanent; do not wait for the retry delay
        run = dag.test()
        assert str(run.state) == "failed"
        assert task_states(run)["check_instelling[0]"] == "failed"
        # the data team hears of it: DAG, task and run, never a stack trace or data
        told = mail.wait_for(1)[0]
    assert told.recipients == ["data@example.org"]
    assert told.subject == "[Informat] informat_connection_check: task check_instelling failed"
    assert "Als het faalt" in told.text and "Traceback" not in told.text
