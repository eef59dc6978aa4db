"""Wiring only: the logic lives in informat_pipelines.extract.partition and .schemas."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.bases.notifier import BaseNotifier

from informat_airflow.alerts import deadline_alerts, default_args
from informat_airflow.review import Review
from informat_airflow.wiring import (
    EXTRACT_SETTINGS_VARIABLE,
    INFORMAT_API_POOL,
    INFORMAT_CONN_ID,
    PSEUDONYMISATION_CONN_ID,
    SMTP_CONN_ID,
    data_bucket,
)

HOUR = int(os.environ.get("INFORMAT_EXTRACT_HOUR", "5"))
BUCKET = data_bucket()  # for the Assets; tasks read it again when they run
SETTINGS_VARIABLE = EXTRACT_SETTINGS_VARIABLE
POOL = INFORMAT_API_POOL  # bounds how many extractions call Informat at once
# partitions a task reads from Informat at once (it takes as many slots of the pool)
THREADS = int(os.environ.get("INFORMAT_EXTRACT_THREADS", "2"))
# extract tasks, each taking every TASKS-th partition: as many as the pool lets run at once
# (its slots / THREADS), so that Airflow's start-up and the GX import are paid once per task
# and no second wave of tasks waits for the first
TASKS = int(os.environ.get("INFORMAT_EXTRACT_TASKS", "2"))
# every clean table: read from Informat, then built from those (batch.ENTITY_ORDER, DERIVED_ORDER)
ENTITY_NAMES = (
    "students", "registrations", "employees", "assignments", "interruptions", "own_fields",
    "invoices", "class_memberships", "pupil_status", "classes", "class_teachers", "staff_status",
)  # fmt: skip
# how long the review of held partitions waits for a person: it must end before the next day's
# run (one run at a time), then the default (Reject) keeps the old data
REVIEW_HOURS = float(os.environ.get("INFORMAT_EXTRACT_REVIEW_HOURS", "20"))
# named Assets with an "x-" URI, which Airflow takes as it is: an s3:// URI would load the amazon
# provider (boto3) to normalise it each time this file is parsed; where the data lives is in extra
ASSETS = {
    name: Asset(
        name=f"informat_clean_{name}",
        uri=f"x-informat://clean/{name}",
        group="informat",
        extra={"location": f"s3://{BUCKET}/clean/{name}/"},
    )
    for name in ENTITY_NAMES
}

DOC = f"""
### Daily extraction with data-quality tests

Every day at {HOUR:02d}:00 Europe/Brussels (no catch-up), for the schooljaar of the run's date (it
turns on 1 September; the params `schooljaar` and `ref_date` override it): students, registrations,
employees and their assignments, interruptions and own fields of every instellingsnummer in the
`informat` connection, and invoices of every toegangsgroep. After them `derive` builds, per
instelling, classes, class_memberships and class_teachers (from the registrations' classes) and
staff_status and pupil_status (who is at school today) from the clean tables of the day.
{TASKS} mapped extract tasks plan the run's partitions themselves and each takes every
{TASKS}th of them (of every entity), {THREADS} reading Informat at a time, taking {THREADS} slots
of the pool `{POOL}` (its slots bound how many partitions call Informat at once): Airflow's
start-up and the Great Expectations import are paid once per task. Each finished partition leaves
a marker (`state/partitions/`): a retry redoes only the partitions that failed, and a later run of
the same day skips what is already clean (param `refresh`: read it again). An entity outside the
client's scopes is skipped with a log line.

Each partition is streamed into `raw/` (gzipped JSON lines, as Informat answered but for the INSZ,
handled as `insz_mode` says; kept `raw_retention_days`, 30, then deleted) and, typed and with the
INSZ pseudonymised (keyed hash; key in the connection `informat_pseudonymisation`), validated with
Great Expectations: required columns, keys not null and unique, INSZ check digits, `sex` in M/V,
plausible dates, `instituteNo` as asked, and the row count within a band of the last good run
(never zero unless the instelling is known to be empty). A valid partition is published to
`clean/` (one Parquet file per entity, instelling and date); a failing one goes to `quarantine/`,
the data team gets a mail with counts, and the run fails naming the entity, instelling and failing
expectations. `reports/date=<day>/summary.json` and `report.html` describe every run. Each clean
entity is an Asset, updated only when all its partitions passed.

A valid partition that changes more than its threshold against what was last published (at
least `hold_min_changes`, 5, and more than `hold_share`, 20 %, a removal counting
`hold_removal_weight`, 2, times) is **held**: stored under `held/` with a CSV of the changes by
pseudonymised id, not published. The task `review` (an approval, skipped when nothing is held)
mails the data team a link: Approve publishes the held partitions (Assets and baseline move),
Reject keeps the old data; no answer within {REVIEW_HOURS:g} hours takes Reject and says so.

Settings (JSON Variable `informat_extract_settings`): `insz_mode` (`pseudonymise`, `keep`,
`drop`), `row_count_band` (0.5), `empty_instellingen`, `batch_rows`, `alert_recipients`,
`snapshot_weekday`, `raw_retention_days` (30), `hold_share` (0.2, `null`: never held),
`hold_min_changes` (5), `hold_removal_weight` (2), `hold_entities` (per entity).

#### Als het faalt / When it fails
- **`report` failed, "Data quality: not published"**: a partition was quarantined. Nothing wrong
  reached `clean/`; the data team got a mail naming entity, instelling and expectations. Read
  `reports/date=<day>/report.html`, fix the cause at the school or in Informat, then run the DAG
  again for that day: the clean partitions are skipped, the quarantined ones read again.
- **an `extract` task failed**: Informat unreachable or refused for a partition (the log names
  the instelling, API and Informat's code; the others of the task went on). Clear that task once
  Informat answers again: it redoes only the partitions that failed.
- **`derive` failed**: a table it builds from had no clean partition today (quarantined or
  failed: see that one first); after fixing it, run the DAG again for that day.
- An entity outside the client's scopes is skipped, not failed: ask Informat for the scope.
- **the run waits at `review`**: partitions are held (not quarantined: they are valid, but change
  more than their threshold). Read their `changes.csv` under `held/`, then Approve or Reject under
  Required actions. A real change (1 September, a merged school): Approve. Nobody answers: after
  {REVIEW_HOURS:g} hours the old data stays and the next run compares again.
- **`settle` failed, "approved but not published"**: `publish_held` failed after an approval:
  clear `publish_held` (and what follows).
"""


def _units(context) -> list:
    """Every partition of this run, from the params and the `informat` connection (each task
    plans them itself; the plan is cheap and the same for all)."""
    from informat_airflow.context import run_day, run_schooljaar
    from informat_airflow.hooks import InformatHook
    from informat_pipelines.extract.batch import plan

    config = InformatHook(INFORMAT_CONN_ID).get_config()
    day = run_day(context)
    schooljaar = run_schooljaar(context, day)
    return plan(config.instellingsnummers, config.toegangsgroepen, schooljaar, day, derived=True)


def _run(context, validator=None):
    """What every partition of this run shares: the data bucket, settings, raw store and the
    run's markers; with ``validator`` (an extract task's GX process) also the pseudonymisation
    key, which only the tasks that land data read."""
    from informat_airflow.settings import connection_secret, from_variable
    from informat_airflow.storage import raw_store, s3_client
    from informat_pipelines.extract.settings import ExtractSettings
    from informat_pipelines.extract.shapes import RunContext

    settings = from_variable(SETTINGS_VARIABLE, ExtractSettings)
    key = None
    if validator is not None and settings.insz_mode == "pseudonymise":
        key = connection_secret(PSEUDONYMISATION_CONN_ID)
    params = context["params"]
    return RunContext(
        s3=s3_client(),
        bucket=data_bucket(),
        settings=settings,
        pseudonymisation_key=key,
        ref_date=params["ref_date"],
        raw=raw_store(),
        validator=validator,
        run_id=context["run_id"],
        reuse_clean=not params["refresh"],
    )


def _waiting(context, run) -> list:
    """This run's held partitions that wait for the review, with their outcomes."""
    from informat_pipelines.extract.holds import waiting

    return waiting(run, _units(context))


class HeldMail(BaseNotifier):
    """The data team's mail (``alert_recipients``) that partitions are held, with the link to the
    review in Airflow's UI (``[api] base_url``)."""

    def notify(self, context) -> None:
        from informat_airflow import notify
        from informat_pipelines.extract.holds import held_mail

        run = _run(context)
        if not run.settings.alert_recipients:
            self.log.warning("held partitions, but no alert_recipients to tell")
            return
        try:
            link = ApprovalOperator.generate_link_to_ui_from_context(context=context)
        except ValueError:  # no [api] base_url: the mail names the task instead
            link = None
        subject, body = held_mail(_waiting(context, run), run.bucket, link, REVIEW_HOURS)
        notify.send_mail(SMTP_CONN_ID, run.settings.alert_recipients, subject, body)


def _review_body(context) -> str:
    """The review's text listing the held partitions; "" (the review is skipped) when none."""
    from informat_pipelines.extract.holds import review_body

    run = _run(context)
    waiting = _waiting(context, run)
    return review_body(waiting, run.bucket) if waiting else ""


def _publish_held(context) -> int:
    """Approved: every held partition of the run published."""
    from informat_pipelines.extract.holds import release

    run = _run(context)
    return len([release(run, part, outcome) for part, outcome in _waiting(context, run)])


def _settle(context) -> dict:
    """After the review (answered, defaulted or skipped): the held partitions still waiting were
    not approved (their old data stays, the data team hears it), and the report is written again
    with the decisions."""
    from informat_airflow import notify
    from informat_pipelines.core.decisions import APPROVED, TIMED_OUT
    from informat_pipelines.extract.holds import keep_old, kept_mail
    from informat_pipelines.extract.report import write_report

    run = _run(context)
    waiting = _waiting(context, run)
    decision = context["ti"].xcom_pull(task_ids="review", key="decision") or TIMED_OUT
    units, outcomes = _outcomes(context, run)
    if waiting and decision == APPROVED:  # publish_held failed: clear it to publish them
        write_report(run.s3, run.bucket, units, outcomes)
        names = ", ".join(f"{p.entity} {p.key}" for p, _ in waiting)
        raise RuntimeError(f"approved but not published (clear publish_held): {names}")
    if waiting:
        kept = [(p, keep_old(run, p, o, decision)) for p, o in waiting]
        if run.settings.alert_recipients:
            subject, body = kept_mail(kept, decision)
            notify.send_mail(SMTP_CONN_ID, run.settings.alert_recipients, subject, body)
        units, outcomes = _outcomes(context, run)
    return write_report(run.s3, run.bucket, units, outcomes).brief


def _outcomes(context, run, entity: str | None = None) -> tuple[list, list[dict]]:
    """This run's partitions (of ``entity``, or all) and the outcomes their markers hold."""
    from informat_pipelines.extract.batch import collect

    units = [u for u in _units(context) if entity in (None, u.entity)]
    return units, collect(run, units)


def _review(extracted):
    """The review of held partitions, after the extract tasks: ``settle`` (returned) ends it,
    whatever the answer; the report runs beside it (a leaf: a quarantine fails the run), the
    assets after it."""

    # held partitions: the review runs only when there are any (the body lists them)
    @task.short_circuit(trigger_rule="all_done", ignore_downstream_trigger_rules=False)
    def held() -> str:
        return _review_body(get_current_context())

    # Approve: publish_held runs; Reject (or no answer in time: the default) skips it
    review = Review(
        task_id="review",
        subject="Informat extraction: partition(s) held for review",
        body="{{ ti.xcom_pull(task_ids='held') }}",
        defaults=ApprovalOperator.REJECT,
        response_timeout=timedelta(hours=REVIEW_HOURS),
        notifiers=[HeldMail()],
    )

    @task
    def publish_held() -> int:
        return _publish_held(get_current_context())

    # after the review (answered, defaulted or skipped): what is still waiting was not approved;
    # the report is written again with the decisions
    @task(trigger_rule="all_done")
    def settle() -> dict:
        return _settle(get_current_context())

    settled = settle()
    extracted >> held() >> review >> publish_held() >> settled
    return settled


def _fail_on(failed: list[str]) -> None:
    """Fail the task naming the partitions that failed (a retry redoes these alone: the others
    left their markers)."""
    if failed:
        raise RuntimeError(f"{len(failed)} partition(s) failed: " + "; ".join(failed))


@dag(
    dag_id="informat_daily_extract",
    schedule=CronTriggerTimetable(f"0 {HOUR} * * *", timezone="Europe/Brussels"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["informat", "leerlingen", "personeel", "rekeningen", "extract", "data-quality"],
    doc_md=DOC,
    default_args=default_args(timedelta(minutes=5)),
    **deadline_alerts(timedelta(hours=3)),
    params={
        "schooljaar": Param(None, type=["null", "string"], description="e.g. 2025-26"),
        "ref_date": Param(None, type=["null", "string"], description="YYYY-MM-DD"),
        "refresh": Param(
            False, type="boolean", description="read again what is already clean today"
        ),
    },
)
def informat_daily_extract():
    # a task extracts its share of the partitions, THREADS at once, and takes as many slots of
    # the pool: the pool still bounds how many partitions call Informat at once
    @task(pool=POOL, pool_slots=THREADS)
    def extract(share: int) -> int:
        from informat_airflow.hooks import InformatHook
        from informat_pipelines.extract.batch import extract_batch, extractor, is_derived, share_of
        from informat_pipelines.extract.validation_process import ValidationProcess

        context = get_current_context()
        units = share_of([u for u in _units(context) if not is_derived(u)], share, TASKS)
        # GX imports and validates in a process of its own, beside the landing
        with ValidationProcess() as validate:
            run = _run(context, validate)
            make_client = InformatHook(INFORMAT_CONN_ID).get_conn
            done, failed = extract_batch(units, run, extractor(run), make_client, THREADS)
        _fail_on(failed)
        return len(done)

    # the tables built from the clean files the extract tasks published (classes from the
    # registrations, who is at school today); a source that failed fails only what it feeds
    @task(trigger_rule="all_done")
    def derive() -> int:
        import contextlib

        from informat_pipelines.extract.batch import extract_batch, is_derived
        from informat_pipelines.extract.derived import deriver
        from informat_pipelines.extract.validation_process import ValidationProcess

        context = get_current_context()
        units = [u for u in _units(context) if is_derived(u)]
        with ValidationProcess() as validate:
            run = _run(context, validate)
            done, failed = extract_batch(units, run, deriver(run), contextlib.nullcontext, THREADS)
        _fail_on(failed)
        return len(done)

    @task(trigger_rule="all_done")
    def report() -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from informat_airflow import notify
        from informat_pipelines.extract.raw_retention import expire_everywhere
        from informat_pipelines.extract.report import alert_mail, write_report

        context = get_current_context()
        run = _run(context)
        units, outcomes = _outcomes(context, run)
        report = write_report(run.s3, run.bucket, units, outcomes)
        if units:  # raw answers are kept raw_retention_days, not forever
            days = run.settings.raw_retention_days
            expire_everywhere(run.s3, run.bucket, run.raw, units[0].day, days)
        if (report.problems or report.skipped) and run.settings.alert_recipients:
            subject, body = alert_mail(report, run.bucket)
            notify.send_mail(SMTP_CONN_ID, run.settings.alert_recipients, subject, body)
        if report.problems:  # final for this run: a retry cannot change what Informat answered
            raise AirflowFailException("Not published to clean/:\n" + "\n".join(report.problems))
        return report.brief

    def mark(entity: str):
        @task(task_id=f"asset_{entity}", outlets=[ASSETS[entity]], trigger_rule="all_done")
        def update_asset() -> int:
            from airflow.sdk.exceptions import AirflowSkipException

            from informat_pipelines.extract.holds import is_published

            context = get_current_context()
            units, outcomes = _outcomes(context, _run(context), entity)
            # a partition skipped for lack of access was not extracted, one held and not
            # approved not published: no asset update either
            passed = all(is_published(o) for o in outcomes)
            if len(outcomes) != len(units) or not passed:
                raise AirflowSkipException(f"{entity}: not every partition passed; asset unchanged")
            return sum(o["rows"] for o in outcomes)

        return update_asset

    # no planning task before the extract tasks (they start with the run), and no collecting
    # task after them: the report and each asset read the partitions' markers themselves
    extracted = extract.expand(share=list(range(TASKS))) >> derive()
    extracted >> report()
    settled = _review(extracted)
    for name in ENTITY_NAMES:
        settled >> mark(name)()


informat_daily_extract()
