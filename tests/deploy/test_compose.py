"""The production topology: docker-compose.yaml against the Compose specification's JSON schema
(Docker does not run on these machines, so the file is validated, not started), and the
properties the production issue asks of it."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from ..support.airflow import ROOT


@pytest.fixture(scope="module")
def schema() -> dict:
    spec = importlib.util.find_spec("compose")
    assert spec is not None, "make test installs docker-compose==1.29.2 for its schema file"
    folder = Path(next(iter(spec.submodule_search_locations)))
    return json.loads((folder / "config" / "compose_spec.json").read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_compose_file_is_valid_against_the_compose_specification(schema, compose):
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(compose))
    assert errors == [], [e.message for e in errors]


def test_the_schema_check_catches_a_mistake(schema, compose):
    broken = json.loads(json.dumps(compose))
    broken["services"]["airflow-worker"]["restart_policy"] = "always"  # not a service key
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_topology_has_every_component_with_a_health_check(compose):
    services = compose["services"]
    for name in (
        "postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
        "airflow-triggerer", "airflow-worker", "airflow-init", "minio", "minio-buckets",
        "mailpit", "informat-sandbox",
    ):  # fmt: skip
        assert name in services, name
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == (
        "CeleryExecutor"
    )
    assert services["informat-sandbox"]["profiles"] == ["sandbox"]  # production leaves it out
    assert services["mailpit"]["profiles"] == ["dev"]  # no mail catcher in production
    # the sandbox gets only its own variable, none of Airflow's secrets
    sandbox = services["informat-sandbox"]
    assert "env_file" not in sandbox and set(sandbox["environment"]) == {
        "INFORMAT_SANDBOX_CLIENT_SECRET", "PYTHONPATH",
    }  # fmt: skip
    assert "retention set --default GOVERNANCE" in services["minio-buckets"]["command"][1]
    assert "--with-lock local/informat-archive" in services["minio-buckets"]["command"][1]
    # review 6: raw answers in their own bucket, reached by a user of their own; Airflow's users
    # are not root and cannot lift the archive's lock
    buckets = services["minio-buckets"]["command"][1]
    assert "mc mb --ignore-existing local/informat-raw" in buckets
    assert "policy informat-raw > " in buckets and "BypassGovernance" not in buckets
    assert compose["x-airflow-common"]["environment"]["INFORMAT_RAW_BUCKET"] == "informat-raw"
    common = compose["x-airflow-common"]["environment"]
    assert common["INFORMAT_DROP_ZONE_BUCKET"] == "informat-dropzone"  # the CSVs apart too
    assert "mc mb --ignore-existing local/informat-dropzone" in buckets
    example = (ROOT / ".env.example").read_text()
    assert "AIRFLOW_CONN_INFORMAT_S3_RAW=" in example and '"login": "informat-raw"' in example
    assert '"login": "informat"' not in example  # not the root user
    for service in services.values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


def test_image_and_secrets(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM apache/airflow:3.3.2-python3.11" in dockerfile
    assert "requirements.txt" in dockerfile
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert (ROOT / ".env.example").exists() and not (ROOT / ".env").exists()
    assert compose["x-airflow-common"]["env_file"] == [".env"]


def test_secrets_are_required_and_the_admin_password_takes_effect(compose):
    text = (ROOT / "docker-compose.yaml").read_text()
    for name in (
        "POSTGRES_PASSWORD", "AIRFLOW_SECRET_KEY", "AIRFLOW_FERNET_KEY", "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "INFORMAT_DATA_TEAM",
        "MINIO_APP_PASSWORD", "MINIO_RAW_PASSWORD",
    ):  # fmt: skip
        # compose's own interpolations (a $${…} is the shell's, inside a command)
        uses = re.findall(r"(?<!\$)\$\{" + name + r"([^}]*)\}", text)
        assert uses and all(u.startswith(":?") for u in uses), name
    common = compose["x-airflow-common"]["environment"]
    assert common["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:?")
    shared = common["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    assert shared.startswith("/opt/airflow/auth/")
    assert "airflow-auth:/opt/airflow/auth" in compose["x-airflow-common"]["volumes"]
    init = compose["services"]["airflow-init"]["command"][1]
    assert "write_passwords.py" in init and "AIRFLOW_ADMIN_PASSWORD" not in init


def test_the_password_file_is_written_private_and_a_placeholder_refused(tmp_path, monkeypatch):
    import json
    import stat as stat_module

    from informat_airflow.write_passwords import main

    target = tmp_path / "auth" / "passwords.json"
    monkeypatch.setenv("AIRFLOW_ADMIN_PASSWORD", 'a "quoted" $pass`word')
    main(str(target))
    assert json.loads(target.read_text()) == {"admin": 'a "quoted" $pass`word'}
    assert stat_module.S_IMODE(target.stat().st_mode) == 0o600
    monkeypatch.setenv("AIRFLOW_ADMIN_PASSWORD", "change-me")
    with pytest.raises(SystemExit):
        main(str(target))
