"""The client secret and bearer tokens travel over TLS, with two exceptions: this machine (the
sandbox of the tests and ``make run``) and the one host an operator names in the connection
extra's ``allow_insecure_http`` (the compose network's sandbox service), which is logged once."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from airflow.sdk import Connection

from informat_airflow.hooks import config_from_connection
from informat_client import InformatClient, InformatConfig, InformatConfigError

from .recording import recording_session

# the sandbox profile's connection as .env.example writes it, with the opt-in added
SANDBOX_CONNECTION = {
    "conn_type": "informat",
    "host": "http://informat-sandbox:8765",
    "login": "sandbox-client",
    "password": "sandbox-secret",
    "extra": {"instellingsnummers": ["990011"], "allow_insecure_http": "informat-sandbox"},
}


def _fields(host, **extra):
    return {"host": host, "login": "id", "password": "client-secret-value", "extra": extra}


def test_the_compose_sandbox_needs_the_explicit_opt_in():
    with pytest.raises(ValueError, match="host: http:// is only for a sandbox on this machine"):
        InformatConfig.from_connection_fields(**_fields("http://informat-sandbox:8765"))
    config = InformatConfig.from_connection_fields(
        **_fields("http://informat-sandbox:8765", allow_insecure_http="informat-sandbox")
    )
    assert config.token_url == "http://informat-sandbox:8765/connect/token"
    assert config.base_urls["leerlingen"] == "http://informat-sandbox:8765/leerlingen/1/"


def test_the_airflow_connection_passes_the_opt_in_through():
    conn = Connection.from_json(json.dumps(SANDBOX_CONNECTION), conn_id="informat_default")
    config = config_from_connection(conn, "informat_default")
    assert config.allow_insecure_http == "informat-sandbox"
    assert (
        config.url("personeel", "employees") == "http://informat-sandbox:8765/personeel/employees"
    )
    without = {**SANDBOX_CONNECTION, "extra": {"instellingsnummers": ["990011"]}}
    conn = Connection.from_json(json.dumps(without), conn_id="informat_default")
    with pytest.raises(ValueError, match="'informat_default': host: http:// is only"):
        config_from_connection(conn, "informat_default")


@pytest.mark.parametrize(
    ("host", "extra"),
    [
        ("http://informat-sandbox.evil.example:8765", {}),  # a longer name is another host
        ("http://other-sandbox:8765", {}),
        (None, {"token_url": "http://id.example.org/connect/token"}),
        (None, {"base_urls": {"rekeningen": "http://rek.example.org/1/"}}),
    ],
)
def test_the_opt_in_is_honoured_for_exactly_that_host(host, extra):
    with pytest.raises(ValueError, match="http:// is only for a sandbox"):
        InformatConfig.from_connection_fields(
            **_fields(host, allow_insecure_http="informat-sandbox", **extra)
        )


@pytest.mark.parametrize(
    "value", ["*", "", "http://informat-sandbox", "informat-sandbox:8765", ["informat-sandbox"]]
)
def test_the_opt_in_names_one_host_not_a_pattern(value):
    with pytest.raises(ValueError, match="allow_insecure_http"):
        InformatConfig.from_connection_fields(
            **_fields("https://informat.example.org", allow_insecure_http=value)
        )


def test_the_opt_in_is_logged_once_naming_the_host(caplog):
    host = f"sandbox-{uuid.uuid4().hex[:8]}"  # a host this process has not warned about yet
    with caplog.at_level(logging.WARNING, logger="informat_client.config"):
        for _ in range(3):
            InformatConfig.from_connection_fields(
                **_fields(f"http://{host}:8765", allow_insecure_http=host)
            )
    warnings = [r.getMessage() for r in caplog.records if "allow_insecure_http" in r.getMessage()]
    assert len(warnings) == 1
    assert host in warnings[0] and "plain http" in warnings[0]


def test_no_secret_goes_over_plain_http_whatever_built_the_config(sleeps):
    """A config built without ``from_connection_fields`` (code, a test, a benchmark) is held to
    the same rule when a request is sent: nothing leaves, not even the token request."""
    config = InformatConfig.for_host(
        "http://informat.example.org", client_id="id", client_secret="client-secret-value"
    )
    session, recorder = recording_session()
    with (
        InformatClient(config, session=session, sleep=sleeps) as client,
        pytest.raises(InformatConfigError, match="http:// is only for a sandbox"),
    ):
        list(client.iter_students("990011", "2026-27"))
    assert recorder.sent == []
    # an https API with an identity server in clear: the client secret stays home as well
    config = InformatConfig(
        client_id="id",
        client_secret="client-secret-value",
        token_url="http://id.example.org/connect/token",
    )
    session, recorder = recording_session()
    with (
        InformatClient(config, session=session, sleep=sleeps) as client,
        pytest.raises(InformatConfigError, match="token_url: http://"),
    ):
        list(client.iter_students("990011", "2026-27"))
    assert recorder.sent == []


def test_the_named_host_is_reached_over_http_when_opted_in(sleeps):
    config = InformatConfig.for_host(
        "http://informat-sandbox:8765",
        client_id="id",
        client_secret="client-secret-value",
        allow_insecure_http="informat-sandbox",
    )
    session, recorder = recording_session()
    with InformatClient(config, session=session, sleep=sleeps) as client:
        job = "job1"
        with client.download_pdf("SG", job, instellingsnummer="990011") as chunks:
            assert b"".join(chunks).startswith(b"%PDF")
    assert [s.url for s in recorder.sent] == [
        "http://informat-sandbox:8765/connect/token",
        "http://informat-sandbox:8765/rekeningen/1/pdf-jobs/job1/download",
    ]
