"""What the roster export tells people: ``reports/roster/date=<day>/summary.json`` (every school's
counts, who was left out and why, held or published, and the processing register),
``status/roster.json`` for the Informat page, and the data team's mail (counts only, never a
sourcedId list or a name). No Airflow import."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from informat_pipelines.core.object_store import read_json

STATUS_KEY = "status/roster.json"


def summary_key(day: str) -> str:
    return f"reports/roster/date={day}/summary.json"


def _put(s3: Any, bucket: str, key: str, value: Any) -> None:
    body = json.dumps(value, sort_keys=True, indent=1).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def page_status(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The page's view: per school its state and counts (no sourcedIds), and the register."""
    keep = ("instelling", "state", "users", "classes", "left_out", "reason", "problem", "held")
    return {
        "version": 1,
        "day": summary["date"],
        "register": summary["register"],
        "schools": [{k: s[k] for k in keep if k in s} for s in summary["schools"]],
    }


def record(s3: Any, bucket: str, summary: Mapping[str, Any]) -> str:
    """Write the day's summary and the page's status; returns the summary's key."""
    key = summary_key(summary["date"])
    _put(s3, bucket, key, summary)
    _put(s3, bucket, STATUS_KEY, page_status(summary))
    return key


def approve(s3: Any, bucket: str, day: str, instellingen: list[str]) -> dict[str, Any]:
    """Mark held schools of ``day`` as published by approval, in the summary and the status."""
    summary = read_json(s3, bucket, summary_key(day))
    if summary is None:
        raise ValueError(f"no roster summary for {day}")
    for school in summary["schools"]:
        if school["instelling"] in instellingen and school["state"] == "held":
            school["state"] = "published"
            school["approved"] = True
    summary["held"] = [i for i in summary["held"] if i not in instellingen]
    record(s3, bucket, summary)
    return summary


def mail(summary: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, HTML) of the data team's mail."""
    day, held = summary["date"], summary["held"]
    subject = f"[Informat] Roster export {day}: " + (
        f"{len(held)} school(s) held for approval" if held else "published"
    )
    if summary["failed"]:
        subject += f", {len(summary['failed'])} failed"
    items = []
    for school in summary["schools"]:
        nr, state = html.escape(school["instelling"]), school["state"]
        line = f"<li>{nr}: {html.escape(state)}"
        if "users" in school:
            line += f", {school['users']} users, {school['classes']} classes"
        if school.get("left_out"):
            reasons = ", ".join(
                f"{html.escape(k)}: {v}" for k, v in sorted(school["left_out"].items())
            )
            line += f"; left out: {reasons}"
        if school.get("reason") and state == "held":
            line += f" (held: {html.escape(school['reason'])}; who: {school['held']}dropped.csv)"
        if school.get("problem"):
            line += f" ({html.escape(school['problem'])})"
        items.append(line + "</li>")
    body = (
        f"<html><body><p>Roster export (SDS v2.1 and OneRoster 1.2) of {day}, schooljaar "
        f"{html.escape(summary['schooljaar'])}:</p><ul>{''.join(items)}</ul>"
        f"<p>Details: {summary_key(day)}.</p>"
    )
    if held:
        body += (
            "<p>A held export is not published: approve or reject it in Airflow (Required "
            "actions, task <code>review</code> of DAG informat_roster_export). Rejecting, or "
            "no answer in time, keeps the last good export.</p>"
        )
    return subject, body + "</body></html>"
