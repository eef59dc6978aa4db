"""Small summaries the DAGs write for the Informat page in Airflow's UI, so that the page reads a
handful of objects instead of scanning reports, ledgers and manifests on every load. Each is
bounded by construction: the extraction keeps its last ``KEEP_EXTRACT_DAYS`` days in one object,
the archive one object (with a bounded coverage history), the push one object per handled file
(pruned after ``KEEP_PUSH_DAYS`` days) and the follow-up one object. Counts, ids and codes only:
never a name or an INSZ. No Airflow import."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from .object_store import read_json

EXTRACT_KEY = "status/extract.json"
ARCHIVE_KEY = "status/archive.json"
PUSH_PREFIX = "status/inschrijvingen/"
FOLLOWUP_KEY = "status/inschrijvingen-opvolging.json"
KEEP_EXTRACT_DAYS = 90
KEEP_PUSH_DAYS = 35
KEEP_ARCHIVE_DAYS = 400
INFORMAT_KEEPS_PDF_DAYS = 365  # Informat deletes a PDF a year after it made it


def _put(s3: Any, bucket: str, key: str, value: Any) -> None:
    body = json.dumps(value, sort_keys=True).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


# -- the daily extraction ----------------------------------------------------------------------


def extract_day(summary: Mapping[str, Any]) -> dict[str, Any]:
    """One day of the extraction as the page shows it: a cell per entity and instelling."""
    cells: dict[str, dict[str, Any]] = {}
    for o in summary.get("outcomes", []):
        state = "skipped" if o.get("skipped") else "clean" if o["success"] else "quarantined"
        held = o.get("held")
        if state == "clean" and held and held.get("decision") != "approved":
            state = "held"  # valid, not published: awaiting review, rejected or unanswered
        cells[f"{o['entity']}/{o['key']}"] = {
            "state": state,
            "rows": None if o.get("skipped") else o["rows"],
            "failed": list(o.get("failed", [])),
        }
        if held:  # counts, the decision, the changes CSV's key (pseudonymised ids only) and
            # the run whose task `review` decides (the page links its required action)
            keep = ("added", "removed", "changed", "changes", "decision", "run_id")
            cells[f"{o['entity']}/{o['key']}"]["held"] = {k: held.get(k) for k in keep}
    for errored in summary.get("errored", []):
        entity, _, key = errored.partition(" ")
        cells[f"{entity}/{key}"] = {"state": "failed", "rows": None, "failed": []}
    day = summary["date"]
    return {"day": day, "report": f"reports/date={day}/report.html", "cells": cells}


def record_extract(s3: Any, bucket: str, summary: Mapping[str, Any]) -> None:
    """Add (or replace, on a rerun of the day) the day in the extraction's summary."""
    if summary.get("date") in (None, "none"):
        return
    history = read_json(s3, bucket, EXTRACT_KEY) or {"days": []}
    today = extract_day(summary)
    days = [d for d in history["days"] if d["day"] != today["day"]] + [today]
    days.sort(key=lambda d: d["day"])
    _put(s3, bucket, EXTRACT_KEY, {"version": 1, "days": days[-KEEP_EXTRACT_DAYS:]})


# -- the PDF archive ---------------------------------------------------------------------------


def archive_months(
    invoices: Mapping[str, str | None],
    archived: Iterable[str],
    lost: Iterable[str],
    failed: Iterable[str] = (),
) -> dict[str, Any]:
    """Per month in which Informat made the PDF: invoices, archived (and verified), pending,
    failed (the last attempt) and lost; and the day each unarchived PDF leaves Informat (a year
    after it was made)."""
    archived, lost, failed = set(archived), set(lost), set(failed)
    months: dict[str, Counter] = defaultdict(Counter)
    leaving = []
    for invoice_id, made in invoices.items():
        month = (made or "")[:7] or "nog niet gemaakt"
        months[month]["invoices"] += 1
        if invoice_id in archived:
            months[month]["archived"] += 1
        elif invoice_id in lost:
            months[month]["lost"] += 1
        else:
            months[month]["failed" if invoice_id in failed else "pending"] += 1
            if made:
                leaves = datetime.fromisoformat(made).replace(tzinfo=None) + timedelta(
                    days=INFORMAT_KEEPS_PDF_DAYS
                )
                leaving.append({"invoice": invoice_id, "leaves_on": leaves.date().isoformat()})
    leaving.sort(key=lambda item: item["leaves_on"])
    return {
        "months": {m: dict(c) for m, c in sorted(months.items())},
        "leaving": leaving[:200],  # the earliest first; a person acts on these, not on 2,000
        "leaving_count": len(leaving),
    }


def record_archive(s3: Any, bucket: str, groups: list[dict[str, Any]], day: date) -> None:
    """The archive's state per toegangsgroep and schooljaar, and one point of coverage history
    per day (archived / invoices, per toegangsgroep)."""
    previous = read_json(s3, bucket, ARCHIVE_KEY) or {"history": []}
    coverage: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for g in groups:
        coverage[g["toegangsgroep"]][0] += g["archived"]
        coverage[g["toegangsgroep"]][1] += g["invoices"]
    point = {"day": day.isoformat(), "coverage": dict(coverage)}
    history = [h for h in previous["history"] if h["day"] != point["day"]] + [point]
    history.sort(key=lambda h: h["day"])
    _put(
        s3,
        bucket,
        ARCHIVE_KEY,
        {
            "version": 1,
            "day": day.isoformat(),
            "groups": groups,
            "history": history[-KEEP_ARCHIVE_DAYS:],
        },
    )


# -- the inschrijvingen push and its follow-up ---------------------------------------------------


def record_push(zone: Any, outcome: Mapping[str, Any], day: date) -> None:
    """One object per handled file (counts only) in the drop zone's state, and the objects
    older than ``KEEP_PUSH_DAYS`` removed, so that the page's listing stays bounded. ``report``
    is the report's key as the school sees it (``outbox/<instellingsnummer>/<file>``, for
    ``read_push_report``), or "" when none was written."""
    school = outcome.get("instelling", "") or "_"
    name = f"{PUSH_PREFIX}{day.isoformat()}--{outcome['run']}--{school}--{outcome['name']}.json"
    keep = {k: outcome[k] for k in ("name", "run", "accepted", "counts", "instellingsnummers")}
    report = outcome["report"]  # a path or URL: the page links the key inside the drop zone
    keep.update(day=day.isoformat(), report=report[report.rfind("outbox/") :] if report else "")
    keep.update(problem=outcome.get("problem", ""), instelling=outcome.get("instelling", ""))
    zone.write_key(name, json.dumps(keep, sort_keys=True).encode())
    oldest = (day - timedelta(days=KEEP_PUSH_DAYS)).isoformat()
    for key in zone.list_keys(PUSH_PREFIX):
        if key[len(PUSH_PREFIX) :][:10] < oldest:
            zone.delete_key(key)


def read_pushes(zone: Any) -> list[dict[str, Any]]:
    return [json.loads(zone.read_key(k)) for k in sorted(zone.list_keys(PUSH_PREFIX))]


def read_push_report(zone: Any, key: str) -> bytes | None:
    """A per-row report of the push by its key as ``record_push`` keeps it
    (``outbox/<instellingsnummer>/<file>``), read from the school's outbox without following a
    link (``zone.read_report``); None for any other key or a report that is not there."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "outbox":
        return None
    return zone.read_report(parts[1], parts[2])


def read_key_or_none(zone: Any, key: str) -> bytes | None:
    """A drop zone's object, or None when there is none (only a missing one: other errors are
    raised)."""
    from .object_store import is_missing

    try:
        return zone.read_key(key)
    except FileNotFoundError:
        return None
    except Exception as exc:
        if is_missing(exc):
            return None
        raise


def read_followup(zone: Any) -> dict[str, Any] | None:
    body = read_key_or_none(zone, FOLLOWUP_KEY)
    return json.loads(body) if body else None


def record_followup(zone: Any, entries: Iterable[Mapping[str, Any]], day: date) -> None:
    """What Informat answered so far for the voorinschrijvingen of each recent file: open,
    geaccepteerd, geweigerd (from the ledger's latest entry per voorinschrijving)."""
    oldest = (day - timedelta(days=KEEP_PUSH_DAYS)).isoformat()
    files: dict[str, Counter] = defaultdict(Counter)
    for entry in entries:
        if entry.get("status") != "pushed" or str(entry.get("at", ""))[:10] < oldest:
            continue
        files[f"{entry.get('run', '')}/{entry.get('file', '')}"][
            entry.get("informat_status", "open")
        ] += 1
    value = {"version": 1, "day": day.isoformat(), "files": {k: dict(v) for k, v in files.items()}}
    zone.write_key(FOLLOWUP_KEY, json.dumps(value, sort_keys=True).encode())


# -- files held for the data team's approval (the push) -----------------------------------------

HELD_PUSH_PREFIX = "held-review/"  # voorinschrijvingen.held.REVIEW_PREFIX (one per waiting file)
MAX_HELD_PUSHES = 200  # a person acts on these, not on thousands: the page lists at most this


def read_held_pushes(zone: Any) -> list[dict[str, Any]]:
    """The push's files that wait for the data team's approval now (a held file's preview is
    kept until its answer is settled, then removed): per file its name, instelling, run, the
    reasons it waits and the counts of what a push would do; never its rows. A preview that
    cannot be read is listed by its key's parts alone."""
    found = []
    for key in zone.list_keys(HELD_PUSH_PREFIX)[:MAX_HELD_PUSHES]:
        parts = key[len(HELD_PUSH_PREFIX) :].split("/")
        if len(parts) != 3 or not parts[2].endswith(".json"):
            continue
        run, instelling, name = parts[0], parts[1], parts[2][: -len(".json")]
        entry: dict[str, Any] = {"run": run, "instelling": instelling, "name": name}
        try:
            record = json.loads(zone.read_key(key))
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict):
            entry.update({k: record.get(k) for k in ("reasons", "counts")})
        found.append(entry)
    return found
