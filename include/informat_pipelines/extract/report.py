"""The report of a daily extraction: what every partition became (clean, quarantined, skipped or
errored), written next to the data as ``reports/date=<day>/summary.json`` and ``report.html``,
the last good row counts that the next run compares against, and the data team's mail. No
Airflow import; counts, ids and expectation names only, never personal data."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from informat_client.masking import get_logger
from informat_pipelines.core.decisions import APPROVED, TIMED_OUT
from informat_pipelines.core.object_store import read_json
from informat_pipelines.core.status import record_extract

from .holds import is_published
from .shapes import Partition

log = get_logger(__name__)

LAST_GOOD_KEY = "state/last_good_counts.json"


def read_last_good(s3: Any, bucket: str) -> dict[str, int]:
    """The last good row count per ``entity/key``; empty when no run has written them yet.

    Only a missing object means "no baseline": any other error (no access, the store down) is
    raised, so that a validation never runs against a baseline it could not read.
    """
    return read_json(s3, bucket, LAST_GOOD_KEY) or {}


def new_last_good(
    previous: Mapping[str, int], outcomes: Iterable[dict[str, Any]]
) -> dict[str, int]:
    counts = dict(previous)
    for o in outcomes:
        if is_published(o):  # a held partition's count moves when it is approved
            counts[f"{o['entity']}/{o['key']}"] = o["rows"]
    return counts


def _result(outcome: Mapping[str, Any]) -> str:
    """The report's word for a partition: held (and what became of it) apart from quarantined."""
    held = outcome.get("held")
    if not outcome["success"]:
        return "<b>quarantine</b>"
    if not held:
        return "ok"
    counts = f"{held['added']} added, {held['removed']} removed, {held['changed']} changed"
    decision = held.get("decision")
    if decision == APPROVED:
        return f"ok: held, approved and published ({counts})"
    what = {
        None: "awaiting review, not published",
        TIMED_OUT: "no answer in time, not published: old data kept",
    }.get(decision, "rejected, not published: old data kept")
    return f"<b>held</b> ({what}; {counts}; changes: {html.escape(held['changes'])})"


def report_html(outcomes: list[dict[str, Any]], day: dt.date) -> str:
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(o["entity"]),
            html.escape(o["key"]),
            html.escape(o.get("schooljaar", "")),
            o["rows"],
            _result(o),
            html.escape("; ".join([*o["failed"], o.get("note") or ""]).strip("; ")) or "-",
        )
        for o in outcomes
    )
    return (
        "<html><head><meta charset='utf-8'><title>Informat extraction "
        f"{day}</title></head><body><h1>Informat extraction {day}</h1>"
        "<table border='1' cellpadding='4'><tr><th>entity</th><th>instelling / toegangsgroep</th>"
        "<th>schooljaar</th><th>rows</th><th>result</th><th>failed expectations / note</th></tr>"
        f"{rows}</table></body></html>"
    )


@dataclass
class RunReport:
    """The outcome of one day's extraction."""

    day: str
    summary: dict[str, Any]
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    errored: list[Partition] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # no access: not extracted
    # valid but held for review and not (or not yet) published: apart from the quarantined
    held: list[dict[str, Any]] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per partition that was not published to clean/."""
        return [
            f"{o['entity']} instelling/toegangsgroep {o['key']}: {'; '.join(o['failed'])}"
            for o in self.quarantined
        ] + [f"{u.entity} {u.key}: extraction failed (see its task log)" for u in self.errored]

    @property
    def brief(self) -> dict[str, Any]:
        """The summary without the per-partition outcomes (for the task's return value)."""
        return {k: v for k, v in self.summary.items() if k != "outcomes"}


def summarise(units: list[Partition], outcomes: list[dict[str, Any] | None]) -> RunReport:
    """What became of every planned partition; one without an outcome errored."""
    done_outcomes = [o for o in outcomes if o]
    done = {(o["entity"], o["key"]) for o in done_outcomes}
    errored = [u for u in units if (u.entity, u.key) not in done]
    day = units[0].day.isoformat() if units else "none"
    quarantined = [o for o in done_outcomes if not o["success"]]
    held = [o for o in done_outcomes if o.get("held") and not is_published(o)]
    summary = {
        "date": day,
        "partitions": len(units),
        "valid": sum(1 for o in done_outcomes if is_published(o)),
        "held": len(held),
        "skipped": sum(1 for o in done_outcomes if o.get("skipped")),
        "quarantined": len(quarantined),
        "errored": [f"{u.entity} {u.key}" for u in errored],
        "rows": {
            f"{o['entity']}/{o['key']}": o["rows"] for o in done_outcomes if not o.get("skipped")
        },
        "outcomes": done_outcomes,
    }
    skipped = [o for o in done_outcomes if o.get("skipped")]
    summary["skipped_partitions"] = [f"{o['entity']} {o['key']}" for o in skipped]
    summary["held_partitions"] = [
        {"entity": o["entity"], "key": o["key"], **o["held"]} for o in held
    ]
    return RunReport(day, summary, quarantined, errored, skipped, held)


def write_report(
    s3: Any, bucket: str, units: list[Partition], outcomes: list[dict[str, Any] | None]
) -> RunReport:
    """Summarise the run, write its summary and HTML report, and move the last good counts on."""
    report = summarise(units, outcomes)
    published = [o for o in report.summary["outcomes"] if not o.get("skipped")]
    prefix = f"reports/date={report.day}"
    s3.put_object(
        Bucket=bucket,
        Key=f"{prefix}/summary.json",
        Body=json.dumps(report.summary, indent=1).encode(),
        ContentType="application/json",
    )
    if report.day != "none":
        s3.put_object(
            Bucket=bucket,
            Key=f"{prefix}/report.html",
            Body=report_html(published, dt.date.fromisoformat(report.day)).encode(),
            ContentType="text/html; charset=utf-8",
        )
    record_extract(s3, bucket, report.summary)  # the Informat page's summary of the day
    counts = new_last_good(read_last_good(s3, bucket), published)
    s3.put_object(Bucket=bucket, Key=LAST_GOOD_KEY, Body=json.dumps(counts).encode())
    log.info("extraction %s: %s", report.day, json.dumps(report.brief))
    return report


def alert_mail(report: RunReport, bucket: str) -> tuple[str, str]:
    """Subject and HTML body of the data team's mail about partitions not published."""
    items = (
        "".join(
            f"<li>{html.escape(o['entity'])} {html.escape(o['key'])}: {o['rows']} rows, "
            f"{len(o['failed'])} failed expectation(s)</li>"
            for o in report.quarantined
        )
        + "".join(
            f"<li>{html.escape(u.entity)} {html.escape(u.key)}: extraction failed</li>"
            for u in report.errored
        )
        + "".join(
            f"<li>{html.escape(o['entity'])} {html.escape(o['key'])}: skipped, no access "
            "(scope not granted)</li>"
            for o in report.skipped
        )
        + "".join(
            f"<li>{html.escape(o['entity'])} {html.escape(o['key'])}: held for review (valid, "
            f"not quarantined): {o['held']['added']} added, {o['held']['removed']} removed, "
            f"{o['held']['changed']} changed</li>"
            for o in report.held
        )
    )
    subject = (
        f"[Informat] Extraction {report.day}: {len(report.quarantined)} partition(s) "
        f"quarantined, {len(report.errored)} failed"
        + (f", {len(report.skipped)} skipped (no access)" if report.skipped else "")
        + (f", {len(report.held)} held for review" if report.held else "")
    )
    body = (
        f"<html><body><p>Not published to clean/:</p><ul>{items}</ul><p>Details: "
        f"s3://{html.escape(bucket)}/reports/date={report.day}/report.html</p></body></html>"
    )
    return subject, body
