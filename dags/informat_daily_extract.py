"""Wiring only: the logic lives in informat_pipelines.extract and .schemas."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, get_current_context, task

HOUR = int(os.environ.get("INFORMAT_EXTRACT_HOUR", "5"))
BUCKET = os.environ.get("INFORMAT_DATA_BUCKET", "informat-data")
POOL = "informat_api"  # bounds how many extractions call Informat at once
ENTITY_NAMES = ("students", "registrations", "employees", "invoices")
ASSETS = {name: Asset(f"s3://{BUCKET}/clean/{name}", group="informat") for name in ENTITY_NAMES}

DOC = f"""
### Daily extraction with data-quality tests

Every day at {HOUR:02d}:00 Europe/Brussels (no catch-up), for the schooljaar of the run's date (it
turns on 1 September; the params `schooljaar` and `ref_date` override it): students,
registrations and employees of every instellingsnummer in the `informat` connection, and invoices
of every toegangsgroep, one mapped task each in the pool `{POOL}` (its slots bound how many
calls Informat gets at once). An entity outside the client's scopes is skipped with a log line.

Each partition is streamed into `raw/` (gzipped JSON lines, as Informat answered) and, typed and
with the INSZ pseudonymised (keyed hash; key in the connection `informat_pseudonymisation`),
validated with Great Expectations: required columns, keys not null and unique, INSZ check digits,
`sex` in M/V, plausible dates, `instituteNo` as asked, and the row count within a band of the last
good run (never zero unless the instelling is known to be empty). A valid partition is published
to `clean/` (one Parquet file per entity, instelling and date); a failing one goes to
`quarantine/`, the data team gets a mail with counts, and the run fails naming the entity,
instelling and failing expectations. `reports/date=<day>/summary.json` and `report.html` describe
every run. Each clean entity is an Asset, updated only when all its partitions passed.

Settings (JSON Variable `informat_extract_settings`): `insz_mode` (`pseudonymise`, `keep`,
`drop`), `row_count_band` (0.5), `empty_instellingen`, `batch_rows`, `alert_recipients`.
"""


@dag(
    dag_id="informat_daily_extract",
    schedule=CronTriggerTimetable(f"0 {HOUR} * * *", timezone="Europe/Brussels"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["informat", "extract", "data-quality"],
    doc_md=DOC,
    default_args={
        "owner": "data-team",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": 2.0,
    },
    params={
        "schooljaar": Param(None, type=["null", "string"], description="e.g. 2025-26"),
        "ref_date": Param(None, type=["null", "string"], description="YYYY-MM-DD"),
        "informat_conn_id": "informat_default",
        "aws_conn_id": "informat_s3",
        "bucket": BUCKET,
        "smtp_conn_id": "smtp_default",
        "pseudonymisation_conn_id": "informat_pseudonymisation",
    },
)
def informat_daily_extract():
    @task
    def plan() -> list[dict]:
        from informat_airflow.context import run_day
        from informat_airflow.hooks import InformatHook
        from informat_client.schooljaar import is_valid, schooljaar_for

        context = get_current_context()
        params = context["params"]
        day = run_day(context)
        schooljaar = params["schooljaar"] or schooljaar_for(day)
        if not is_valid(schooljaar):
            raise ValueError(f"schooljaar {schooljaar!r} is not of the form 2025-26")
        config = InformatHook(params["informat_conn_id"]).get_config()
        units = [  # the long listings first, so that no pool slot idles at the end
            {"entity": entity, "key": number, "schooljaar": schooljaar, "day": day.isoformat()}
            for entity in ("students", "registrations", "employees")
            for number in config.instellingsnummers
        ]
        units += [
            {"entity": "invoices", "key": name, "schooljaar": schooljaar, "day": day.isoformat()}
            for name in sorted(config.toegangsgroepen)
        ]
        return units

    @task(pool=POOL)
    def extract(unit: dict) -> dict:
        import json
        from datetime import date

        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.sdk import BaseHook, Variable
        from botocore.exceptions import ClientError

        from informat_airflow.hooks import InformatHook
        from informat_client import InformatForbiddenError
        from informat_pipelines.extract import ExtractSettings, extract_one

        params = get_current_context()["params"]
        settings = ExtractSettings.from_mapping(
            {
                k: v
                for k, v in Variable.get(
                    "informat_extract_settings", default={}, deserialize_json=True
                ).items()
                if k != "alert_recipients"
            }
        )
        key = None
        if settings.insz_mode == "pseudonymise":
            key = BaseHook.get_connection(params["pseudonymisation_conn_id"]).password.encode()
        s3 = S3Hook(aws_conn_id=params["aws_conn_id"]).get_conn()
        try:
            body = s3.get_object(Bucket=params["bucket"], Key="state/last_good_counts.json")
            last_good = json.loads(body["Body"].read()).get(f"{unit['entity']}/{unit['key']}")
        except ClientError:
            last_good = None
        try:
            with InformatHook(params["informat_conn_id"]).get_conn() as client:
                return extract_one(
                    client, s3, params["bucket"], unit["entity"], unit["key"], unit["schooljaar"],
                    date.fromisoformat(unit["day"]), settings, key, last_good, params["ref_date"],
                )  # fmt: skip
        except InformatForbiddenError as exc:
            print(f"SKIPPED {unit['entity']} {unit['key']}: no access ({exc})")
            return {**unit, "rows": 0, "success": True, "skipped": str(exc), "failed": []}

    @task(trigger_rule="all_done")
    def report(units: list[dict], outcomes: list[dict]) -> dict:
        import json

        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.sdk import Variable
        from botocore.exceptions import ClientError

        from informat_airflow import notify
        from informat_pipelines.extract import new_last_good, report_html

        params = get_current_context()["params"]
        outcomes = [o for o in outcomes if o]
        done = {(o["entity"], o["key"]) for o in outcomes}
        errored = [u for u in units if (u["entity"], u["key"]) not in done]
        day = units[0]["day"] if units else "none"
        s3 = S3Hook(aws_conn_id=params["aws_conn_id"]).get_conn()
        bucket = params["bucket"]
        quarantined = [o for o in outcomes if not o["success"]]
        summary = {
            "date": day,
            "partitions": len(units),
            "valid": sum(1 for o in outcomes if o["success"] and not o.get("skipped")),
            "skipped": sum(1 for o in outcomes if o.get("skipped")),
            "quarantined": len(quarantined),
            "errored": [f"{u['entity']} {u['key']}" for u in errored],
            "rows": {
                f"{o['entity']}/{o['key']}": o["rows"] for o in outcomes if not o.get("skipped")
            },
            "outcomes": outcomes,
        }
        s3.put_object(
            Bucket=bucket,
            Key=f"reports/date={day}/summary.json",
            Body=json.dumps(summary, indent=1).encode(),
            ContentType="application/json",
        )
        from datetime import date

        s3.put_object(
            Bucket=bucket,
            Key=f"reports/date={day}/report.html",
            Body=report_html(
                [o for o in outcomes if not o.get("skipped")], date.fromisoformat(day)
            ).encode(),
            ContentType="text/html; charset=utf-8",
        )
        try:
            body = s3.get_object(Bucket=bucket, Key="state/last_good_counts.json")
            previous = json.loads(body["Body"].read())
        except ClientError:
            previous = {}
        s3.put_object(
            Bucket=bucket,
            Key="state/last_good_counts.json",
            Body=json.dumps(
                new_last_good(previous, [o for o in outcomes if not o.get("skipped")])
            ).encode(),
        )
        problems = [
            f"{o['entity']} instelling/toegangsgroep {o['key']}: {'; '.join(o['failed'])}"
            for o in quarantined
        ] + [f"{u['entity']} {u['key']}: extraction failed (see its task log)" for u in errored]
        recipients = Variable.get(
            "informat_extract_settings", default={}, deserialize_json=True
        ).get("alert_recipients")
        if problems and recipients:
            items = "".join(
                f"<li>{o['entity']} {o['key']}: {o['rows']} rows, {len(o['failed'])} failed "
                "expectation(s)</li>"
                for o in quarantined
            ) + "".join(f"<li>{u['entity']} {u['key']}: extraction failed</li>" for u in errored)
            notify.send_mail(
                params["smtp_conn_id"],
                tuple(recipients),
                f"[Informat] Extraction {day}: {len(quarantined)} partition(s) quarantined, "
                f"{len(errored)} failed",
                f"<html><body><p>Not published to clean/:</p><ul>{items}</ul><p>Details: "
                f"s3://{bucket}/reports/date={day}/report.html</p></body></html>",
            )
        print(json.dumps({k: v for k, v in summary.items() if k != "outcomes"}, indent=1))
        if problems:
            raise RuntimeError("Data quality: not published to clean/:\n" + "\n".join(problems))
        return {k: v for k, v in summary.items() if k != "outcomes"}

    def mark(entity: str):
        @task(task_id=f"asset_{entity}", outlets=[ASSETS[entity]], trigger_rule="all_done")
        def update_asset(units: list[dict], outcomes: list[dict]) -> int:
            from airflow.sdk.exceptions import AirflowSkipException

            planned = {u["key"] for u in units if u["entity"] == entity}
            mine = {o["key"]: o for o in outcomes if o and o["entity"] == entity}
            if set(mine) != planned or not all(o["success"] for o in mine.values()):
                raise AirflowSkipException(f"{entity}: not every partition passed; asset unchanged")
            return sum(o["rows"] for o in mine.values())

        return update_asset

    units = plan()
    outcomes = extract.expand(unit=units)
    report(units, outcomes)
    for name in ENTITY_NAMES:
        mark(name)(units, outcomes)


informat_daily_extract()
