"""Where the Informat page reads, through the project's own connections and Variables (in the API
server: Airflow's metadata database and secrets backends). Never Informat itself: a page request
reads only what the DAGs wrote. Each source is one object, one Variable or one bounded listing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from informat_airflow.wiring import (
    AWS_CONN_ID,
    ROLLOVER_SETTINGS_VARIABLE,
    ROLLOVER_STATE_VARIABLE,
    data_bucket,
)
from informat_client.masking import get_logger
from informat_pipelines.core import status
from informat_pipelines.core.object_store import read_json
from informat_pipelines.rollover.checks import Settings as RolloverSettings
from informat_pipelines.roster_export import report as roster_report

from . import views
from .page import SECTIONS, Sections

log = get_logger(__name__)

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fullmatch: a whole ISO day, nothing more
# the per-row reports of the push, and nothing else of the drop zone, can be opened from the page
_PUSH_REPORT = re.compile(r"^outbox/\d{6}/[^/]+\.rapport\.csv$")


def _variable(name: str) -> Any:
    from airflow.models.variable import Variable  # the metadata database's, in the API server

    return Variable.get(name, default_var=None, deserialize_json=True)


def _s3() -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=AWS_CONN_ID).get_conn()


def _zone() -> Any:
    from informat_airflow.dropzones import drop_zone

    return drop_zone()


def _guarded(what: str, read: Any) -> Any:
    """A source that cannot be read shows as such on the page, instead of failing it whole."""
    try:
        return read()
    except Exception as exc:  # the page still shows the other sections
        log.warning("Informat page: %s not readable: %s", what, type(exc).__name__)
        return what


def sections(
    today: date,
    s3: Any = None,
    zone: Any = None,
    variable: Callable[[str], Any] = _variable,
    bucket: str | None = None,
    shown: frozenset[str] = SECTIONS,
) -> Sections:
    """What the page shows of ``shown`` (the sections the viewer may see: the others are not
    read). ``s3``, ``zone``, ``variable`` and ``bucket`` default to the project's connections,
    Variables and data bucket (given in tests and the benchmark)."""
    bucket = bucket or data_bucket()
    if shown & {"datakwaliteit", "archief", "roster"}:
        s3 = s3 if s3 is not None else _guarded("S3", _s3)
    if "inschrijvingen" in shown:
        zone = zone if zone is not None else _guarded("drop zone", _zone)

    def groups() -> list[views.GroupRow]:
        settings = RolloverSettings.from_mapping(variable(ROLLOVER_SETTINGS_VARIABLE))
        state = variable(ROLLOVER_STATE_VARIABLE)
        return views.toegangsgroepen(state, today, settings.remind_after_days)

    def from_s3(key: str) -> Any:
        if isinstance(s3, str):
            raise LookupError(s3)
        return read_json(s3, bucket, key)

    def schools() -> dict[str, list[views.FileRow]]:
        if isinstance(zone, str):
            raise LookupError(zone)
        followup = status.read_followup(zone) if "opvolging" in shown else None
        return views.inschrijvingen(status.read_pushes(zone), followup, today)

    def held_files() -> list[views.HeldFile]:
        if isinstance(zone, str):
            raise LookupError(zone)
        return views.held_pushes(status.read_held_pushes(zone))

    def roster() -> views.RosterView | None:
        current = from_s3(roster_report.STATUS_KEY)
        day = str(current.get("day")) if isinstance(current, dict) else ""
        # the rows per file are in that day's summary (the status keeps the page's counts)
        summary = from_s3(roster_report.summary_key(day)) if is_day(day) else None
        return views.roster(current, summary)

    def read(section: str, what: str, source: Callable[[], Any]) -> Any:
        return _guarded(what, source) if section in shown else None

    return Sections(
        today=today,
        groups=read("toegangsgroepen", "rollover state", groups),
        quality=read(
            "datakwaliteit", "extraction", lambda: views.data_quality(from_s3(status.EXTRACT_KEY))
        ),
        schools=read("inschrijvingen", "inschrijvingen", schools),
        archive=read(
            "archief", "archive", lambda: views.archive(from_s3(status.ARCHIVE_KEY), today)
        ),
        shown=frozenset(shown),
        roster=read("roster", "roster export", roster),
        held_files=read("inschrijvingen", "held files", held_files) or [],
    )


def is_day(day: str) -> bool:
    """Whether ``day`` is an ISO day (the only thing a report's key is made of)."""
    return _DAY.fullmatch(day) is not None


def extraction_report(day: str) -> bytes | None:
    """The HTML report of a day's extraction, or None."""
    if not is_day(day):
        return None
    from botocore.exceptions import ClientError

    from informat_pipelines.core.object_store import is_missing

    try:
        answer = _s3().get_object(Bucket=data_bucket(), Key=f"reports/date={day}/report.html")
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise
    return answer["Body"].read()


def push_report(key: str) -> bytes | None:
    """A per-row report of the push (``outbox/<instellingsnummer>/….rapport.csv``), read from
    that school's outbox without following a link; None for any other key."""
    if not _PUSH_REPORT.fullmatch(key) or ".." in key:
        return None
    return status.read_push_report(_zone(), key)
