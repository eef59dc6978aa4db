"""The local stand-ins as Airflow sees them: the connections that point the DAGs at the Informat
sandbox, the local S3 endpoint, the mail catcher and a local drop zone; the settings Variables of
a local run; the pool. One description for both local topologies: the embedded default
(scripts/run_local.py imports the connections into its database, so they show under Admin >
Connections) and ``make e2e`` (scripts/e2e.py hands them to every component as ``AIRFLOW_CONN_``
and ``AIRFLOW_VAR_`` environment variables)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from informat_airflow.wiring import (
    AWS_CONN_ID,
    DROPZONE_CONN_ID,
    EXTRACT_SETTINGS_VARIABLE,
    INFORMAT_API_POOL,
    INFORMAT_CONN_ID,
    PREREGISTRATION_KEY_CONN_ID,
    PSEUDONYMISATION_CONN_ID,
    ROLLOVER_SETTINGS_VARIABLE,
    ROSTER_SETTINGS_VARIABLE,
    SMTP_CONN_ID,
    VOORINSCHRIJVINGEN_SETTINGS_VARIABLE,
)

HOST = "127.0.0.1"
CLIENT_ID = "sandbox-client"  # the sandbox's API client
DATA_TEAM = "datateam@example.org"
SENDER = "airflow@example.org"
# the sandbox's school 990016 has no pupils yet: declared, so that it is not a quarantine
EMPTY_INSTELLINGEN = ["990016"]
# slots, description
POOLS = {INFORMAT_API_POOL: (4, "Concurrent extractions against Informat")}


@dataclass(frozen=True)
class StandIns:
    """Where the stand-ins of one local run listen, and that run's secrets."""

    sandbox_url: str
    client_secret: str  # of the sandbox's API client
    s3_extra: dict[str, Any]  # LocalS3.connection_extra()
    smtp_port: int
    dropzone: Path  # the folder of the local CSV drop zone
    pseudonymisation_key: str
    preregistration_key: str
    # a generated school group of this many instellingen (INFORMAT_SANDBOX_INSTELLINGEN); 0: the
    # sandbox's default group
    instellingen: int = 0
    # the informat connection's client-side pacing (per task), if any
    pacing: dict[str, float] = field(default_factory=dict)


def toegangsgroepen(instellingen: int = 0) -> dict[str, dict[str, Any]]:
    """The connection's toegangsgroepen, each with the Rekeningen scope Informat handed out for
    it (a literal): the default school group's, or one per instelling of a generated one."""
    from informat_sandbox.data import instellingen_of, scope_of, toegangsgroep_of

    if instellingen:
        return {
            toegangsgroep_of(n): {
                "instellingsnummer": n,
                "admins": [f"boekhouding.{n}@example.org"],
                "payments": True,
                "scope": scope_of(toegangsgroep_of(n)),
            }
            for n, _, _ in instellingen_of(instellingen)
        }
    return {
        "SG-Noord": {
            "instellingsnummer": "990011",
            "admins": ["boekhouding.noord@example.org"],
            "payments": True,
            "scope": scope_of("SG-Noord"),
        },
        "SG-Zuid": {
            "instellingsnummer": "990013",
            "admins": ["boekhouding.zuid@example.org"],
            "payments": True,
            "scope": scope_of("SG-Zuid"),
        },
        "Internaat-De-Linde": {
            "instellingsnummer": "990015",
            "admins": ["internaat@example.org"],
            "scope": scope_of("Internaat-De-Linde"),
        },
    }


def connections(stand_ins: StandIns) -> dict[str, dict[str, Any]]:
    """conn_id -> the connection's fields, as ``airflow connections import`` reads them (the
    extra as JSON text)."""
    from informat_devtools.s3 import ACCESS_KEY, SECRET_KEY
    from informat_sandbox.data import instellingen_of

    extra = {
        "instellingsnummers": [n for n, _, _ in instellingen_of(stand_ins.instellingen)],
        "toegangsgroepen": toegangsgroepen(stand_ins.instellingen),
        **stand_ins.pacing,
    }
    return {
        INFORMAT_CONN_ID: {
            "conn_type": "informat",
            "description": f"The Informat sandbox on {HOST}",
            "host": stand_ins.sandbox_url,
            "login": CLIENT_ID,
            "password": stand_ins.client_secret,
            "extra": json.dumps(extra),
        },
        AWS_CONN_ID: {
            "conn_type": "aws",
            "description": f"Local S3-compatible endpoint (moto) on {HOST}",
            "login": ACCESS_KEY,
            "password": SECRET_KEY,
            "extra": json.dumps(stand_ins.s3_extra),
        },
        SMTP_CONN_ID: {
            "conn_type": "smtp",
            "description": "Local mail catcher",
            "host": HOST,
            "port": stand_ins.smtp_port,
            "extra": json.dumps({"disable_tls": True, "disable_ssl": True, "from_email": SENDER}),
        },
        DROPZONE_CONN_ID: {
            "conn_type": "fs",
            "description": "Drop zone of the CSV files of schools (a local folder)",
            "extra": json.dumps({"path": str(stand_ins.dropzone)}),
        },
        PSEUDONYMISATION_CONN_ID: {
            "conn_type": "generic",
            "description": "Key of the keyed hash that pseudonymises INSZ numbers",
            "password": stand_ins.pseudonymisation_key,
        },
        PREREGISTRATION_KEY_CONN_ID: {
            "conn_type": "generic",
            "description": "Key of the preRegistrationIds of pushed voorinschrijvingen",
            "password": stand_ins.preregistration_key,
        },
    }


# two secondary schools, whose pupils have a school e-mail (primary pupils rarely have an account)
ROSTER_INSTELLINGEN = ("990013", "990014")


def variables() -> dict[str, Any]:
    """Variable name -> the DAG settings of a local run (the rest keep their defaults)."""
    return {
        EXTRACT_SETTINGS_VARIABLE: {
            "empty_instellingen": EMPTY_INSTELLINGEN,
            "alert_recipients": [DATA_TEAM],
        },
        VOORINSCHRIJVINGEN_SETTINGS_VARIABLE: {"fallback_contact": "secretariaat@example.org"},
        ROLLOVER_SETTINGS_VARIABLE: {"fallback_recipients": [DATA_TEAM]},
        # two schools opted in to the Microsoft 365 export (the processing register); staff and
        # pupils sign in with their school e-mail
        ROSTER_SETTINGS_VARIABLE: {
            "instellingen": {
                nr: {"approved_by": "data team (local)", "approved_on": "2026-09-01"}
                for nr in ROSTER_INSTELLINGEN
            },
            "sign_in": "school_email",
            "alert_recipients": [DATA_TEAM],
        },
    }


def environment(
    conns: dict[str, dict[str, Any]], settings: dict[str, Any] | None = None
) -> dict[str, str]:
    """The connections and Variables as Airflow reads them from the environment:
    ``AIRFLOW_CONN_<ID>`` (the connection as JSON) and ``AIRFLOW_VAR_<NAME>`` (the value as
    JSON)."""
    env = {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(f) for conn_id, f in conns.items()}
    for name, value in (settings or {}).items():
        env[f"AIRFLOW_VAR_{name.upper()}"] = json.dumps(value)
    return env


def pool_commands() -> list[list[str]]:
    """The ``airflow pools set`` arguments that make the local pools."""
    return [
        ["pools", "set", name, str(slots), description]
        for name, (slots, description) in POOLS.items()
    ]
