"""Wiring only: the logic lives in informat_pipelines.roster_export."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Asset, dag, get_current_context, task

from informat_airflow.alerts import default_args
from informat_airflow.wiring import (
    INFORMAT_CONN_ID,
    ROSTER_SETTINGS_VARIABLE,
    SMTP_CONN_ID,
    data_bucket,
)

BUCKET = data_bucket()  # for the Assets; tasks read it again when they run
SETTINGS_VARIABLE = ROSTER_SETTINGS_VARIABLE
# how long a held export waits for a person; then it is rejected (the last good one stays)
REVIEW_HOURS = int(os.environ.get("INFORMAT_ROSTER_REVIEW_HOURS", "20"))
# the clean tables the export reads: the extraction's Assets, named and located as
# informat_daily_extract names them (a DAG file imports no other DAG file)
ENTITIES = (
    "students", "registrations", "employees", "classes", "class_memberships", "class_teachers",
    "staff_status", "pupil_status",
)  # fmt: skip
ASSETS = [
    Asset(
        name=f"informat_clean_{name}",
        uri=f"x-informat://clean/{name}",
        group="informat",
        extra={"location": f"s3://{BUCKET}/clean/{name}/"},
    )
    for name in ENTITIES
]

DOC = f"""
### Roster export: School Data Sync (SDS CSV v2.1) and OneRoster 1.2 CSV per school

Runs when the extraction has updated every clean table it reads ({", ".join(ENTITIES)}). For
each instellingsnummer of the `informat` connection that is **opted in** (the processing register
`instellingen` in the settings: who approved it and when) it builds, from the clean Parquet files
of the run's day (the newest on or before it), streamed in batches:

- `exports/sds/<day>/<instelling>.zip`: `orgs.csv`, `users.csv`, `roles.csv`, `classes.csv`,
  `enrollments.csv`, `academicSessions.csv` (and `demographics.csv` when `demographics` is on),
  as https://learn.microsoft.com/en-us/schooldatasync/sds-v2.1-csv-file-format says;
- `exports/oneroster/<day>/<instelling>.zip`: the same data as OneRoster 1.2 CSV with
  `manifest.csv` (https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv);
- the last good one per school at `exports/sds/latest/<instelling>.zip` (and `oneroster`).

sourcedIds: Informat's personId for people, `<instelling>-<schooljaar>-<classId>` for classes,
the instellingsnummer for the school, the schooljaar (`2026-27`, 1 September - 31 August) for
the session. Staff active today (`staff_status`), pupils in a class today (`pupil_status`); a
person without a sign-in name by the rule `sign_in` is reported, not exported. Never an INSZ;
birth date and sex only with `demographics`. Every zip is checked against the specifications
before it is published. Not opted in: nothing is read or written.

**Held exports.** SDS marks every user missing from the next upload inactive: an export that
would drop more than `max_drop_share` (0.2) and at least `min_drop` (5) of a school's users or
classes compared with its last good export is held (`exports/held/<day>/<instelling>/`, with
`dropped.csv`: the sourcedIds that would go) and the task `review` asks a person (Required
actions): Approve publishes it, Reject - or no answer within {REVIEW_HOURS} h - keeps the last
good export. The other schools go out meanwhile.

Per-school status (rows per file, people left out and why, held or published, the register):
`reports/roster/date=<day>/summary.json`, `status/roster.json` (the Informat page), and a mail to
`alert_recipients`. Upload to SDS: manual (docs/dags/informat_roster_export.md).

Settings (JSON Variable `{SETTINGS_VARIABLE}`): `instellingen`, `sign_in`, `demographics`,
`staff_on_leave`, `pupils_without_class`, `group_types`, `max_drop_share`, `min_drop`,
`alert_recipients`, `batch_rows`.

#### Als het faalt / When it fails
- **`finish` failed, "not built"**: a school's clean table is missing (the extraction skipped or
  quarantined it) or its files failed the specification check; the summary names the table or
  the check. Nothing of that school was published; its last good export stays. Fix the cause,
  then run the DAG again for the day.
- **`review` waits**: a school's export is held. Read `dropped.csv` and the mail; a school that
  really lost its pupils (a new schooljaar, a merger) is approved, a broken extraction rejected.
- **`export` failed**: the data bucket or the settings (an unknown key is refused, naming it).
"""


def _slim(summary: dict) -> dict:
    """What goes to XCom and the review: states, reasons and counts (no sourcedId lists)."""
    return {
        "date": summary["date"],
        "held": summary["held"],
        "failed": summary["failed"],
        "reasons": {s["instelling"]: s.get("reason") or s.get("problem", "") for s in
                    summary["schools"] if s["state"] in ("held", "failed")},
    }  # fmt: skip


@dag(
    dag_id="informat_roster_export",
    schedule=ASSETS,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["informat", "leerlingen", "personeel", "extract"],
    doc_md=DOC,
    # no deadline alert: a run may rightly wait up to REVIEW_HOURS for a person's answer
    default_args=default_args(timedelta(minutes=5)),
)
def informat_roster_export():
    @task
    def export() -> dict:
        from informat_airflow import notify
        from informat_airflow.context import run_day, run_schooljaar
        from informat_airflow.hooks import InformatHook
        from informat_airflow.settings import from_variable
        from informat_airflow.storage import s3_client
        from informat_pipelines.roster_export import report
        from informat_pipelines.roster_export.export import Target, run
        from informat_pipelines.roster_export.settings import RosterSettings

        context = get_current_context()
        settings = from_variable(SETTINGS_VARIABLE, RosterSettings)
        day = run_day(context)
        target = Target(s3_client(), data_bucket(), run_schooljaar(context, day), day)
        numbers = InformatHook(INFORMAT_CONN_ID).get_config().instellingsnummers
        summary = run(target, numbers, settings)
        report.record(target.s3, target.bucket, summary)
        if settings.alert_recipients:
            notify.send_mail(SMTP_CONN_ID, settings.alert_recipients, *report.mail(summary))
        return _slim(summary)

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def any_held(outcome: dict) -> bool:
        return bool(outcome["held"])

    review = ApprovalOperator(
        task_id="review",
        subject="Roster export held: approve publishing it?",
        body=(
            "{% set o = ti.xcom_pull(task_ids='export') %}"
            "Held roster exports of {{ o['date'] }} (SDS marks the dropped users inactive at "
            "the next upload):\n\n{% for nr, why in o['reasons'].items() %}"
            "{% if nr in o['held'] %}- instelling {{ nr }}: {{ why }}; who: "
            "`exports/held/{{ o['date'] }}/{{ nr }}/dropped.csv`\n{% endif %}{% endfor %}\n"
            f"Approve publishes them as the last good export; Reject (or no answer within "
            f"{REVIEW_HOURS} h) keeps the last good one."
        ),
        defaults="Reject",
        response_timeout=timedelta(hours=REVIEW_HOURS),
    )

    @task
    def publish_held(outcome: dict) -> list[str]:
        from informat_airflow.context import run_day
        from informat_airflow.storage import s3_client
        from informat_pipelines.roster_export import report
        from informat_pipelines.roster_export.export import Target, release

        day = run_day(get_current_context())
        target = Target(s3_client(), data_bucket(), "", day)
        for instelling in outcome["held"]:
            release(target, instelling)
        report.approve(target.s3, target.bucket, outcome["date"], outcome["held"])
        return outcome["held"]

    @task
    def finish(outcome: dict) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        if outcome["failed"]:  # the others were published; this run shows what was not
            raise AirflowFailException(
                "roster export not built for: "
                + "; ".join(f"{nr} ({outcome['reasons'][nr]})" for nr in outcome["failed"])
            )

    outcome = export()
    any_held(outcome) >> review >> publish_held(outcome)
    finish(outcome)


informat_roster_export()
