"""DAG integrity (every DAG parses, and carries tags, an owner, retries and a doc) and the
connection-check DAG run with dag.test() against the sandbox."""

from __future__ import annotations

import pytest

from .airflow_support import (
    ROOT,
    load_dag,
    migrate_db,
    set_informat_connection,
    task_states,
)
from .conftest import INSTELLINGSNUMMERS


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "informat_connection_check" in dagbag.dags


def test_every_dag_is_documented_owned_tagged_and_retried(dagbag):
    assert dagbag.dags
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md and len(dag.doc_md.strip()) > 80, f"{dag_id} has no doc_md"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id}: no owner"
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_dag_files_import_no_heavy_library_at_parse_time():
    import os
    import subprocess
    import sys

    modules = sorted(p.stem for p in (ROOT / "dags").glob("*.py"))
    assert len(modules) >= 3
    probe = (
        "import importlib, sys; sys.path.insert(0, 'dags');"
        f"[importlib.import_module(m) for m in {modules!r}];"
        "heavy = [m for m in ('great_expectations', 'pyarrow', 'pandas', 'numpy', 'fastapi',"
        " 'ijson', 'informat_client.client') if m in sys.modules]; print(heavy)"
    )
    # (boto3 does come with the amazon provider: its S3KeySensor and its normaliser of the
    # s3:// URIs of the extraction's Assets; about 0.1 s, see `make bench`)
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    local = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "INFORMAT_DROP_ZONE": "local"},
    )
    assert local.stdout.strip() == "[]"


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
