"""The connection-check DAG run with dag.test() against the sandbox."""

from __future__ import annotations

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import load_dag, migrate_db, set_informat_connection, task_states


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
    dag = load_dag("informat_connection_check")
    for task in dag.tasks:
        task.retries = 0  # the failure is permanent; do not wait for the retry delay
    run = dag.test()
    assert str(run.state) == "failed"
    assert task_states(run)["check_instelling[0]"] == "failed"
