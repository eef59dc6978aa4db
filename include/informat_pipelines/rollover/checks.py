"""Toegangsgroep rollover checks: what is wrong with each toegangsgroep today, and which alerts
that warrants given what was already announced. No Airflow import.

Every school year the API rights of each toegangsgroep must be carried over (someone logs in on
it via iRekeningen). :func:`check_all` asks Informat about every configured toegangsgroep and
returns :class:`Finding` s; :func:`reconcile` compares them with the durable state of earlier runs
and returns the notifications to send: a problem is announced once when it appears, reminded
after ``remind_after_days`` while it lasts, and closed with an "opgelost" message when it is gone.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from informat_client import (
    InformatAuthError,
    InformatClient,
    InformatError,
    InformatForbiddenError,
    InformatNotFoundError,
    ToegangsgroepConfig,
)
from informat_client.masking import get_logger
from informat_client.schooljaar import schooljaar_for, shift
from informat_pipelines.core.settings import known_values

log = get_logger(__name__)

PAYMENT_JOURNALS = ("Extern", "Extern_Dubieus")

# What each kind of finding is about; check_* findings are failures of the check itself.
KINDS = (
    "not_carried_over",  # current schooljaar: rights not carried over
    "next_not_carried_over",  # next schooljaar, before 1 September
    "inactive",  # the toegangsgroep is no longer active
    "probe_no_data",  # active, but a probe call returns nothing
    "no_active_user",  # payments: no active and valid user
    "missing_journal",  # payments: no journal Extern / Extern_Dubieus
    "unknown_toegangsgroep",  # configured, but Informat does not know it for this client
    "check_unreachable",  # the check failed: Informat unreachable or failing
    "check_credentials_refused",  # the check failed: client credentials refused
)
CHECK_FAILURES = ("check_unreachable", "check_credentials_refused")


@dataclass(frozen=True)
class Settings:
    """What a school group can tune; defaults are what most will want."""

    remind_after_days: int = 7
    language: str = "nl"
    fallback_recipients: tuple[str, ...] = ()
    # from this day (MM-DD) until 1 September the next schooljaar is checked too
    next_schooljaar_from: str = "08-15"
    probe: bool = True

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Settings:
        values = known_values(cls, values, "rollover")
        if isinstance(values.get("fallback_recipients"), str):
            values["fallback_recipients"] = tuple(
                v.strip() for v in values["fallback_recipients"].split(",") if v.strip()
            )
        settings = cls(**values)
        if settings.language not in ("nl", "en"):
            raise ValueError("language must be 'nl' or 'en'")
        if settings.remind_after_days < 1:
            raise ValueError("remind_after_days must be at least 1")
        month, day = (int(p) for p in settings.next_schooljaar_from.split("-"))
        date(2000, month, day)  # raises on a day that does not exist
        return settings

    def checks_next_schooljaar(self, today: date) -> bool:
        month, day = (int(p) for p in self.next_schooljaar_from.split("-"))
        start = date(today.year, month, day)
        return start <= today < date(today.year, 9, 1)


@dataclass(frozen=True)
class Finding:
    toegangsgroep: str
    kind: str
    schooljaar: str
    detail: str = ""  # technical detail for the data team (codes, no personal data)

    @property
    def key(self) -> str:
        return f"{self.toegangsgroep}|{self.kind}|{self.schooljaar}"


@dataclass
class GroupReport:
    """The state of one toegangsgroep after a check, for the run's summary."""

    toegangsgroep: str
    instellingsnummer: str
    schooljaar: str
    state: str  # "ok", "problem" or "check failed"
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


def _first(records: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
    with closing(records):  # type: ignore[type-var]
        return next(records, None)


def _check_failure(group: str, year: str, exc: InformatError) -> Finding:
    kind = (
        "check_credentials_refused" if isinstance(exc, InformatAuthError) else "check_unreachable"
    )
    return Finding(group, kind, year, detail=str(exc))


def _forbidden_kind(exc: InformatForbiddenError) -> str | None:
    if "ACCESSGROUP_NOT_CARRIED_OVER" in exc.codes:
        return "not_carried_over"
    if "ACCESSGROUP_INACTIVE" in exc.codes:
        return "inactive"
    if "ACCESSGROUP_NOT_IN_SCOPE" in exc.codes:
        return "unknown_toegangsgroep"
    return None


def check_toegangsgroep(
    client: InformatClient, group: ToegangsgroepConfig, today: date, settings: Settings
) -> GroupReport:
    year = schooljaar_for(today)
    report = GroupReport(group.name, group.instellingsnummer, year, "ok")
    findings = report.findings
    try:
        listed = {g["name"]: g for g in client.iter_accessgroups(group.instellingsnummer, year)}
        report.checked.append(f"active {year}")
        entry = listed.get(group.name)
        if entry is None:
            findings.append(Finding(group.name, "unknown_toegangsgroep", year))
        else:
            usable = True
            if settings.probe:
                report.checked.append("probe")
                try:
                    if _first(client.iter_invoices(group.name, year)) is None:
                        findings.append(Finding(group.name, "probe_no_data", year))
                except InformatForbiddenError as exc:
                    usable = False
                    kind = _forbidden_kind(exc)
                    if kind is None:
                        raise
                    findings.append(Finding(group.name, kind, year, detail=", ".join(exc.codes)))
                except InformatNotFoundError:
                    usable = False
                    findings.append(Finding(group.name, "unknown_toegangsgroep", year))
            elif not entry.get("active"):
                usable = False
                findings.append(Finding(group.name, "not_carried_over", year))
            if usable and group.payments:
                report.checked.append("payments")
                findings.extend(_payment_findings(client, group, year))
        if settings.checks_next_schooljaar(today) and entry is not None:
            following = shift(year, 1)
            report.checked.append(f"active {following}")
            ahead = {
                g["name"]: g for g in client.iter_accessgroups(group.instellingsnummer, following)
            }
            if not ahead.get(group.name, {}).get("active"):
                findings.append(Finding(group.name, "next_not_carried_over", following))
    except InformatError as exc:
        findings[:] = [_check_failure(group.name, year, exc)]
        report.state = "check failed"
        return report
    report.state = "problem" if findings else "ok"
    return report


def _payment_findings(
    client: InformatClient, group: ToegangsgroepConfig, year: str
) -> list[Finding]:
    found = []
    users = list(client.iter_accessgroup_users(group.name))
    if not any(u.get("active") and u.get("valid", True) for u in users):
        found.append(Finding(group.name, "no_active_user", year, detail=f"{len(users)} user(s)"))
    journals = {j.get("code") for j in client.iter_accessgroup_journals(group.name)}
    if not journals & set(PAYMENT_JOURNALS):
        found.append(Finding(group.name, "missing_journal", year))
    return found


def check_all(
    client: InformatClient,
    groups: Iterable[ToegangsgroepConfig],
    today: date,
    settings: Settings,
) -> list[GroupReport]:
    reports = []
    for group in groups:
        report = check_toegangsgroep(client, group, today, settings)
        log.info(
            "toegangsgroep %s (instelling %s), schooljaar %s: %s %s",
            group.name,
            group.instellingsnummer,
            report.schooljaar,
            report.state,
            ", ".join(f.kind for f in report.findings) or "",
        )
        reports.append(report)
    return reports


# ------------------------------------------------------------------- state


@dataclass(frozen=True)
class Notification:
    """One thing to tell: ``event`` is "new", "reminder" or "resolved"."""

    event: str
    finding: Finding
    since: str  # ISO date the problem was first seen
    times_reminded: int = 0


def empty_state() -> dict[str, Any]:
    return {"version": 1, "open": {}, "resolved": [], "groups": {}}


def reconcile(
    state: Mapping[str, Any] | None,
    reports: Iterable[GroupReport],
    today: date,
    settings: Settings,
    keep_resolved: int = 200,
) -> tuple[dict[str, Any], list[Notification]]:
    """The new state and the notifications that the change from ``state`` warrants.

    A problem of a toegangsgroep whose check failed this time is neither resolved nor reminded:
    nothing is known about it today. The failure of the check is a finding of its own.
    """
    new = copy.deepcopy(dict(state)) if state else empty_state()
    new.setdefault("open", {})
    new.setdefault("resolved", [])
    new.setdefault("groups", {})
    today_iso = today.isoformat()
    notifications: list[Notification] = []
    current: dict[str, Finding] = {}
    unknown_groups: set[str] = set()
    for report in reports:
        if report.state == "check failed":
            unknown_groups.add(report.toegangsgroep)
        for finding in report.findings:
            current[finding.key] = finding
        previous = new["groups"].get(report.toegangsgroep, {})
        new["groups"][report.toegangsgroep] = {
            "instellingsnummer": report.instellingsnummer,
            "schooljaar": report.schooljaar,
            "state": report.state,
            "findings": [f.kind for f in report.findings],
            "checked_on": today_iso,
            "ok_since": (previous.get("ok_since") or today_iso if report.state == "ok" else None),
        }

    for key, finding in current.items():
        entry = new["open"].get(key)
        if entry is None:
            new["open"][key] = {
                **asdict(finding),
                "first_seen": today_iso,
                "last_seen": today_iso,
                "last_notified": today_iso,
                "reminders": 0,
            }
            notifications.append(Notification("new", finding, today_iso))
            continue
        entry["last_seen"] = today_iso
        entry["detail"] = finding.detail
        last = date.fromisoformat(entry["last_notified"])
        if (today - last).days >= settings.remind_after_days:
            entry["last_notified"] = today_iso
            entry["reminders"] += 1
            notifications.append(
                Notification("reminder", finding, entry["first_seen"], entry["reminders"])
            )

    for key in sorted(set(new["open"]) - set(current)):
        entry = new["open"][key]
        is_check_failure = entry["kind"] in CHECK_FAILURES
        if entry["toegangsgroep"] in unknown_groups and not is_check_failure:
            continue  # not checked today: still open
        del new["open"][key]
        finding = Finding(entry["toegangsgroep"], entry["kind"], entry["schooljaar"])
        notifications.append(Notification("resolved", finding, entry["first_seen"]))
        new["resolved"].append({**entry, "resolved_on": today_iso})
    new["resolved"] = new["resolved"][-keep_resolved:]
    new["last_run"] = today_iso
    return new, notifications


def summary_rows(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every toegangsgroep with its state: the run's summary for a person."""
    rows = []
    for name, group in sorted(state.get("groups", {}).items()):
        open_items = [e for e in state.get("open", {}).values() if e["toegangsgroep"] == name]
        rows.append(
            {
                "toegangsgroep": name,
                "instellingsnummer": group["instellingsnummer"],
                "schooljaar": group["schooljaar"],
                "state": group["state"],
                "open": sorted(
                    f"{e['kind']} ({e['schooljaar']}) since {e['first_seen']}" for e in open_items
                ),
            }
        )
    return rows


def format_summary(rows: list[dict[str, Any]]) -> str:
    lines = [
        "toegangsgroep | instelling | schooljaar | state | open problems",
        "--- | --- | --- | --- | ---",
    ]
    for row in rows:
        lines.append(
            f"{row['toegangsgroep']} | {row['instellingsnummer']} | {row['schooljaar']} | "
            f"{row['state']} | {'; '.join(row['open']) or '-'}"
        )
    return "\n".join(lines)
