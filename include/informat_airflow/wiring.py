"""The one place that names what the DAGs are wired to: connection ids, Variable names, the pool
and the buckets. Everything else (DAGs, hooks, the page, the local tooling) imports them from here,
so that a rename cannot leave one side behind (tested in tests/test_wiring.py).

Deliberately not DAG params: anyone allowed to trigger a DAG could otherwise point a run at
another school group's connection or write children's data to a bucket of their choosing. The
connection ids are fixed names; the buckets come from the deployment's environment, read when a
task runs (and when a DAG is parsed, for its Assets and its documentation)."""

from __future__ import annotations

import os

INFORMAT_CONN_ID = "informat_default"
AWS_CONN_ID = "informat_s3"
# optional: raw answers written with credentials of their own (compose: a MinIO user that can
# reach only the raw bucket); without it raw/ is written through informat_s3
RAW_AWS_CONN_ID = "informat_s3_raw"
SMTP_CONN_ID = "smtp_default"
PSEUDONYMISATION_CONN_ID = "informat_pseudonymisation"
# the key of the preRegistrationIds: its own secret, so that rotating the pseudonymisation key
# never gives every pupil a new voorinschrijving
PREREGISTRATION_KEY_CONN_ID = "informat_preregistration_key"
WEBHOOK_CONN_ID = "informat_alerts_webhook"
# optional: a dead man's switch monitor pinged when a scheduled run succeeds (heartbeat.py)
HEARTBEAT_CONN_ID = "informat_heartbeat"
# the CSV drop zone of the voorinschrijvingen push when it is a local folder (FSHook)
DROPZONE_CONN_ID = "informat_dropzone"

# bounds how many extraction tasks call Informat at once (created by the deployment)
INFORMAT_API_POOL = "informat_api"

DEFAULT_DATA_BUCKET = "informat-data"
DEFAULT_ARCHIVE_BUCKET = "informat-archive"


def data_bucket() -> str:
    """Where the extraction writes raw/, clean/, quarantine/ and reports/."""
    return os.environ.get("INFORMAT_DATA_BUCKET", DEFAULT_DATA_BUCKET)


def raw_bucket() -> str:
    """Where Informat's raw answers go (``raw/``, ``quarantine/``); by default the data bucket."""
    return os.environ.get("INFORMAT_RAW_BUCKET") or data_bucket()


def archive_bucket() -> str:
    """Where the PDF archive keeps the invoices (object lock in the compose topology)."""
    return os.environ.get("INFORMAT_ARCHIVE_BUCKET", DEFAULT_ARCHIVE_BUCKET)


# the DAGs' settings (JSON Variables); the push and its follow-up share theirs
EXTRACT_SETTINGS_VARIABLE = "informat_extract_settings"
VOORINSCHRIJVINGEN_SETTINGS_VARIABLE = "informat_inschrijvingen_settings"
PDF_ARCHIVE_SETTINGS_VARIABLE = "informat_pdf_archive_settings"
# the rollover checks' state and settings (JSON Variables), read by the DAG and the Informat page
ROLLOVER_STATE_VARIABLE = "informat_rollover_state"
ROLLOVER_SETTINGS_VARIABLE = "informat_rollover_settings"
# the roster export's settings (JSON Variable): the processing register of opted-in instellingen,
# the sign-in rule, demographics and the drop check's thresholds
ROSTER_SETTINGS_VARIABLE = "informat_roster_settings"
