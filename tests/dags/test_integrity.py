"""DAG integrity (every DAG parses, and carries tags, an owner, retries and a doc) and the
connection-check DAG run with dag.test() against the sandbox."""

from __future__ import annotations

from ..support.airflow import (
    ROOT,
)


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
        " 'ijson', 'informat_client.client', 'boto3') if m in sys.modules]; print(heavy)"
    )
    # boto3 neither, with either drop zone (the S3 one's sensor imports it when it runs) nor for
    # the extraction's Assets ("x-" URIs, see `make bench`)
    for zone in ("s3", "local"):
        out = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "INFORMAT_DROP_ZONE": zone},
        )
        assert out.stdout.strip() == "[]", zone


def test_tags_come_from_the_vocabulary(dagbag):
    from informat_airflow.tags import API_TAGS, PURPOSE_TAGS, TAGS

    for dag_id, dag in dagbag.dags.items():
        tags = set(dag.tags)
        assert tags <= TAGS, f"{dag_id}: tags outside the vocabulary: {sorted(tags - TAGS)}"
        assert "informat" in tags, f"{dag_id}: no 'informat' tag"
        assert tags & API_TAGS, f"{dag_id}: no tag of the API's it calls"
        assert tags & PURPOSE_TAGS, f"{dag_id}: no tag of what it does"


def test_every_dag_says_what_to_do_when_it_fails(dagbag):
    for dag_id, dag in dagbag.dags.items():
        doc = dag.doc_md or ""
        assert "Als het faalt / When it fails" in doc, f"{dag_id}: no triage notes"
        triage = doc.split("Als het faalt / When it fails", 1)[1]
        assert len(triage.strip()) > 150, f"{dag_id}: triage notes too thin"


def _dag_files():
    return sorted((ROOT / "dags").glob("*.py"))


def test_dag_files_import_nothing_from_other_dag_files():
    import ast

    names = {p.stem for p in _dag_files()}
    for path in _dag_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [(node.module or "").split(".")[0]]
            else:
                continue
            assert not set(imported) & names, f"{path.name} imports another DAG file"
            assert "dags" not in imported, f"{path.name} imports from dags/"


def test_task_bodies_are_a_few_lines():
    """A task reads its params and settings and calls one function: no body over 25 lines."""
    import ast

    for path in _dag_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if not any(d.startswith(("task", "task(")) for d in decorators):
                continue
            body = node.body[1:] if ast.get_docstring(node) else node.body
            lines = body[-1].end_lineno - body[0].lineno + 1
            assert lines <= 25, f"{path.name}: task {node.name} is {lines} lines long"


def test_every_task_tells_the_data_team_when_it_fails(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("INFORMAT_DATA_TEAM", "data@example.org")
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.dags and not bag.import_errors
    for dag_id, dag in bag.dags.items():
        for task in dag.tasks:
            callbacks = task.on_failure_callback or []
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            told = [c for c in callbacks if isinstance(c, SmtpNotifier)]
            assert told, f"{dag_id}.{task.task_id}: nobody told on failure"


def test_no_run_param_chooses_a_connection_or_a_bucket(dagbag):
    """Whoever may trigger a DAG must not be able to point it at another
    connection (another school group's Informat) or another bucket (children's data written
    where they choose). Those come from the deployment (``informat_airflow.wiring``)."""
    for dag_id, dag in dagbag.dags.items():
        for name in dag.params:
            assert not any(word in name for word in ("conn", "bucket", "variable")), (
                dag_id,
                name,
            )
