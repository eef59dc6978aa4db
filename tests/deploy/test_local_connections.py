"""The one description of the local wiring (informat_devtools.local_connections) that the
embedded default and `make e2e` share: what Airflow reads from it is what the DAGs need, and its
settings are settings the DAGs accept."""

from __future__ import annotations

import importlib
import json
import sys

import pytest

from informat_airflow.wiring import (
    DROPZONE_CONN_ID,
    EXTRACT_SETTINGS_VARIABLE,
    INFORMAT_CONN_ID,
    PDF_ARCHIVE_SETTINGS_VARIABLE,
    PREREGISTRATION_KEY_CONN_ID,
    PSEUDONYMISATION_CONN_ID,
    ROLLOVER_SETTINGS_VARIABLE,
    ROSTER_SETTINGS_VARIABLE,
    SMTP_CONN_ID,
    VOORINSCHRIJVINGEN_SETTINGS_VARIABLE,
)
from informat_devtools import local_connections
from informat_devtools.local_connections import StandIns
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.pdf_archive.archive import ArchiveSettings
from informat_pipelines.rollover.checks import Settings as RolloverSettings
from informat_pipelines.roster_export.settings import RosterSettings
from informat_pipelines.voorinschrijvingen.settings import VoorinschrijvingenSettings

from ..support.airflow import ROOT

# the settings class each DAG reads its Variable into (the DAG files' from_variable calls)
SETTINGS_CLASSES = {
    EXTRACT_SETTINGS_VARIABLE: ExtractSettings,
    VOORINSCHRIJVINGEN_SETTINGS_VARIABLE: VoorinschrijvingenSettings,
    PDF_ARCHIVE_SETTINGS_VARIABLE: ArchiveSettings,
    ROLLOVER_SETTINGS_VARIABLE: RolloverSettings,
    ROSTER_SETTINGS_VARIABLE: RosterSettings,
}


def stand_ins(tmp_path, instellingen: int = 0) -> StandIns:
    return StandIns(
        sandbox_url="http://127.0.0.1:1",
        client_secret="client-secret-of-the-test",
        s3_extra={"endpoint_url": "http://127.0.0.1:2", "region_name": "eu-west-1"},
        smtp_port=3,
        dropzone=tmp_path / "dropzone",
        pseudonymisation_key="p" * 40,
        preregistration_key="r" * 40,
        instellingen=instellingen,
    )


def test_airflow_reads_the_local_connections_as_the_dags_need_them(tmp_path, monkeypatch):
    """As `make e2e` hands them over (environment variables), Airflow's own hooks read the
    sandbox's instellingen and toegangsgroepen, the mail catcher, the drop zone and the keys."""
    from airflow.models.connection import Connection
    from airflow.providers.standard.hooks.filesystem import FSHook

    from informat_airflow.hooks import InformatHook
    from informat_airflow.settings import connection_secret

    conns = local_connections.connections(stand_ins(tmp_path))
    for name, value in local_connections.environment(conns).items():
        monkeypatch.setenv(name, value)

    config = InformatHook(INFORMAT_CONN_ID).get_config()
    assert config.instellingsnummers[0] == "990011" and "990016" in config.instellingsnummers
    assert set(config.toegangsgroepen) == {"SG-Noord", "SG-Zuid", "Internaat-De-Linde"}
    assert config.toegangsgroepen["SG-Zuid"].admins == ("boekhouding.zuid@example.org",)
    smtp = Connection.get_connection_from_secrets(SMTP_CONN_ID)
    assert (smtp.host, smtp.port, smtp.extra_dejson["disable_tls"]) == ("127.0.0.1", 3, True)
    assert FSHook(DROPZONE_CONN_ID).get_path() == str(tmp_path / "dropzone")
    assert connection_secret(PSEUDONYMISATION_CONN_ID) == b"p" * 40
    assert connection_secret(PREREGISTRATION_KEY_CONN_ID) == b"r" * 40


def test_a_generated_school_group_gets_one_toegangsgroep_per_instelling(tmp_path):
    extra = json.loads(
        local_connections.connections(stand_ins(tmp_path, instellingen=20))[INFORMAT_CONN_ID][
            "extra"
        ]
    )
    assert len(extra["instellingsnummers"]) == 20
    assert len(extra["toegangsgroepen"]) == 20


def test_the_variables_reach_airflow_as_json(monkeypatch):
    from airflow.models.variable import Variable

    settings = local_connections.variables()
    for name, value in local_connections.environment({}, settings).items():
        monkeypatch.setenv(name, value)
    for name, value in settings.items():
        assert Variable.get(name, deserialize_json=True) == value


@pytest.mark.parametrize("source", ["local", "e2e"])
def test_every_local_setting_is_one_the_dag_accepts(source, monkeypatch):
    """A key a settings class does not know fails the DAG's task: the local description (and
    e2e's own: faster PDF polling, a small approval_rows, full reads) may only use fields the
    pipelines read."""
    settings = local_connections.variables()
    if source == "e2e":
        monkeypatch.syspath_prepend(str(ROOT / "scripts"))
        settings = importlib.import_module("e2e").settings()
        assert settings[PDF_ARCHIVE_SETTINGS_VARIABLE]
        for module in ("e2e", "e2e_checks", "e2e_holds"):
            monkeypatch.delitem(sys.modules, module)
    assert settings
    for name, values in settings.items():
        SETTINGS_CLASSES[name].from_mapping(values)


def test_a_setting_the_dag_does_not_know_is_refused():
    """The control of the test above: from_mapping does refuse an unknown key."""
    with pytest.raises(ValueError, match="unknown"):
        VoorinschrijvingenSettings.from_mapping(
            {"fallback_contact": "a@example.org", "alert_recipient": []}
        )
