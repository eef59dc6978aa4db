"""The production topology: docker-compose.yaml against the Compose specification's JSON schema
(Docker does not run on these machines, so the file is validated, not started), and the
properties the production issue asks of it."""

from __future__ import annotations

import importlib.util
import json
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
    assert "--with-lock local/informat-archive" in services["minio-buckets"]["command"][1]
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
