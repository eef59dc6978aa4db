"""Rollover checks (Airflow-free core) against the sandbox: findings, durable state, messages."""

from __future__ import annotations

import socket
from datetime import date, timedelta

import pytest
import requests

from informat_client import InformatClient, ToegangsgroepConfig
from informat_pipelines.rollover.checks import Settings, check_all, reconcile, summary_rows
from informat_pipelines.rollover.messages import compose, render

from ..conftest import TOEGANGSGROEPEN

TODAY = date(2026, 11, 28)


def kinds(reports) -> dict[str, list[str]]:
    return {r.toegangsgroep: [f.kind for f in r.findings] for r in reports}


def run_check(client, today=TODAY, settings=None, groups=None):
    groups = (groups or TOEGANGSGROEPEN).values()
    return check_all(client, groups, today, settings or Settings())


def control(sandbox, group: str, **changes) -> None:
    requests.put(
        f"{sandbox.url}/_sandbox/accessgroups/{group}", json=changes, timeout=5
    ).raise_for_status()


@pytest.fixture(autouse=True)
def sandbox_today(sandbox):
    sandbox.reset(today=TODAY.isoformat())


def test_today_one_toegangsgroep_not_carried_over(client):
    reports = run_check(client)
    assert kinds(reports) == {
        "SG-Noord": [],
        "SG-Zuid": ["not_carried_over"],
        "Internaat-De-Linde": [],
    }
    assert {r.toegangsgroep: r.state for r in reports}["SG-Zuid"] == "problem"


def test_announced_once_reminded_after_the_period_then_resolved(client, sandbox):
    settings = Settings(remind_after_days=7)
    state, sent = reconcile(None, run_check(client), TODAY, settings)
    assert [(n.event, n.finding.toegangsgroep) for n in sent] == [("new", "SG-Zuid")]

    state, sent = reconcile(
        state, run_check(client, TODAY + timedelta(1)), TODAY + timedelta(1), settings
    )
    assert sent == []  # no daily spam

    day7 = TODAY + timedelta(7)
    state, sent = reconcile(state, run_check(client, day7), day7, settings)
    assert [(n.event, n.since) for n in sent] == [("reminder", TODAY.isoformat())]

    control(sandbox, "SG-Zuid", carry_over="2026-27")
    day8 = TODAY + timedelta(8)
    state, sent = reconcile(state, run_check(client, day8), day8, settings)
    assert [(n.event, n.finding.kind) for n in sent] == [("resolved", "not_carried_over")]
    assert state["open"] == {}
    assert state["resolved"][-1]["first_seen"] == TODAY.isoformat()
    assert {row["state"] for row in summary_rows(state)} == {"ok"}


def test_toegangsgroep_going_inactive_mid_year_is_reported(client, sandbox):
    state, _ = reconcile(None, run_check(client), TODAY, Settings())
    control(sandbox, "SG-Noord", active=False)
    tomorrow = TODAY + timedelta(1)
    state, sent = reconcile(state, run_check(client, tomorrow), tomorrow, Settings())
    assert [(n.event, n.finding.toegangsgroep, n.finding.kind) for n in sent] == [
        ("new", "SG-Noord", "inactive")
    ]


def test_payment_preconditions_each_a_distinct_finding(client, sandbox):
    control(sandbox, "SG-Noord", journals=[{"code": "Kas"}])
    assert kinds(run_check(client))["SG-Noord"] == ["missing_journal"]
    control(
        sandbox,
        "SG-Noord",
        journals=[{"code": "Extern"}],
        users=[{"userId": "u", "active": False, "valid": True}],
    )
    assert kinds(run_check(client))["SG-Noord"] == ["no_active_user"]
    # payments not configured for the internaat: its users are not checked
    control(sandbox, "Internaat-De-Linde", users=[])
    assert kinds(run_check(client))["Internaat-De-Linde"] == []


def test_unknown_toegangsgroep_in_the_configuration(client):
    groups = {"Bestaat-Niet": ToegangsgroepConfig("Bestaat-Niet", "990011")}
    assert kinds(run_check(client, groups=groups)) == {"Bestaat-Niet": ["unknown_toegangsgroep"]}


def test_api_unreachable_is_a_check_failure_not_a_toegangsgroep_problem(config, sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = config.for_host(
        f"http://127.0.0.1:{port}", client_id="x", client_secret="unused-secret", max_attempts=2
    )
    with InformatClient(down, sleep=sleeps) as client:
        reports = run_check(client)
    assert {tuple(k) for k in kinds(reports).values()} == {("check_unreachable",)}
    assert {r.state for r in reports} == {"check failed"}


def test_credentials_refused_is_a_check_failure(config, sleeps):
    with InformatClient(config.with_overrides(client_secret="wrong"), sleep=sleeps) as client:
        reports = run_check(client)
    assert {tuple(k) for k in kinds(reports).values()} == {("check_credentials_refused",)}


def test_failed_check_neither_resolves_nor_reminds_open_problems(client, config, sleeps):
    state, _ = reconcile(None, run_check(client), TODAY, Settings(remind_after_days=1))
    with InformatClient(config.with_overrides(client_secret="wrong"), sleep=sleeps) as broken:
        failed = run_check(broken, TODAY + timedelta(3))
    state, sent = reconcile(state, failed, TODAY + timedelta(3), Settings(remind_after_days=1))
    assert "SG-Zuid|not_carried_over|2026-27" in state["open"]
    assert {(n.event, n.finding.kind) for n in sent} == {("new", "check_credentials_refused")}
    # the check works again: the check failure is resolved, the real problem stays open
    state, sent = reconcile(
        state,
        run_check(client, TODAY + timedelta(4)),
        TODAY + timedelta(4),
        Settings(remind_after_days=1),
    )
    assert ("resolved", "check_credentials_refused") in {(n.event, n.finding.kind) for n in sent}
    assert ("reminder", "not_carried_over") in {(n.event, n.finding.kind) for n in sent}


def test_next_schooljaar_checked_from_mid_august(client, sandbox):
    sandbox.reset(today="2027-08-20")  # schooljaar 2026-27; nobody carried over to 2027-28 yet
    reports = run_check(client, date(2027, 8, 20))
    assert kinds(reports)["SG-Noord"] == ["next_not_carried_over"]
    assert reports[0].findings[0].schooljaar == "2027-28"
    early = run_check(client, date(2027, 8, 10))  # before the window: not yet
    assert kinds(early)["SG-Noord"] == []
    control(sandbox, "SG-Noord", carry_over="2027-28")
    assert kinds(run_check(client, date(2027, 8, 21)))["SG-Noord"] == []


def test_alert_in_dutch_says_what_since_when_what_it_blocks_and_what_to_do(client):
    _, sent = reconcile(None, run_check(client), TODAY, Settings())
    text = render(sent[0], "nl")
    assert "niet overgezet naar schooljaar 2026-27" in text
    assert "Sinds: 28/11/2026" in text
    assert "registreren van betalingen" in text
    assert "Log in op toegangsgroep SG-Zuid via iRekeningen voor schooljaar 2026-27" in text
    english = render(sent[0], "en")
    assert "Log in on toegangsgroep SG-Zuid via iRekeningen for schooljaar 2026-27" in english


def test_mails_go_to_admins_with_fallback_and_check_failures_to_both():
    from informat_pipelines.rollover.checks import Finding, Notification

    admins = {"A": ["a@example.org"], "B": []}
    notes = [
        Notification("new", Finding("A", "inactive", "2026-27"), "2026-11-28"),
        Notification("new", Finding("B", "missing_journal", "2026-27"), "2026-11-28"),
        Notification("new", Finding("A", "check_unreachable", "2026-27", "HTTP 503"), "2026-11-28"),
    ]
    mails, orphaned = compose(notes, admins, ["data@example.org"])
    by_to = {m.recipients: m for m in mails}
    assert set(by_to) == {
        ("a@example.org",),
        ("data@example.org",),
        ("a@example.org", "data@example.org"),
    }
    assert (
        "Controle van toegangsgroep A mislukt"
        in by_to[("a@example.org", "data@example.org")].subject
    )
    assert orphaned == []
    _, orphaned = compose(notes[1:2], admins, [])
    assert len(orphaned) == 1


def test_settings_are_validated():
    with pytest.raises(ValueError, match="unknown rollover settings"):
        Settings.from_mapping({"remind_every": 3})
    with pytest.raises(ValueError, match="language"):
        Settings.from_mapping({"language": "fr"})
    assert Settings.from_mapping({"fallback_recipients": "a@x.be, b@x.be"}).fallback_recipients == (
        "a@x.be",
        "b@x.be",
    )


def test_deliver_sends_through_the_given_channels_and_returns_the_new_state(client):
    from informat_pipelines.rollover.alerts import check, deliver, recipients_of

    checked = check(client, TOEGANGSGROEPEN, TODAY, Settings())
    admins = recipients_of(TOEGANGSGROEPEN, Settings())
    mails, posts = [], []
    state, rows = deliver(checked, None, admins, lambda *m: mails.append(m), posts.append)
    assert [(to, "SG-Zuid" in subject) for to, subject, _ in mails] == [
        (("zuid@example.org",), True)
    ]
    assert len(posts) == 1 and "SG-Zuid" in posts[0]
    assert {r["toegangsgroep"]: r["state"] for r in rows}["SG-Zuid"] == "problem"
    # the next day, from that state: nothing new to tell
    mails.clear()
    next_day = {**checked, "today": (TODAY + timedelta(1)).isoformat()}
    deliver(next_day, state, admins, mails.append, print)
    assert mails == []


def test_the_checks_xcom_carries_no_e_mail_address(client):
    """What travels between the tasks (an XCom, kept in Airflow's database and shown in its UI)
    names no admin: the recipients are read from the connection when the mails go out."""
    import json

    from informat_pipelines.rollover.alerts import check

    checked = check(client, TOEGANGSGROEPEN, TODAY, Settings(fallback_recipients=("d@x.be",)))
    assert "@" not in json.dumps(checked)


def test_check_refuses_a_connection_without_toegangsgroepen(client):
    from informat_pipelines.rollover.alerts import check

    with pytest.raises(ValueError, match="no toegangsgroepen"):
        check(client, {}, TODAY, Settings())


def test_a_broken_webhook_neither_fails_the_run_nor_loses_the_state(client):
    from informat_pipelines.rollover.alerts import check, deliver, recipients_of

    checked = check(client, TOEGANGSGROEPEN, TODAY, Settings())
    admins = recipients_of(TOEGANGSGROEPEN, Settings())
    saved, mails = [], []

    def broken(text):
        raise ConnectionError("webhook down")

    state, _ = deliver(checked, None, admins, lambda *m: mails.append(m), broken, saved.append)
    assert len(mails) == 1 and saved == [state]  # saved once the mails were out
    # the next day, from the saved state: no mail again
    again = []
    next_day = {**checked, "today": (TODAY + timedelta(1)).isoformat()}
    deliver(next_day, saved[0], admins, lambda *m: again.append(m), broken, saved.append)
    assert again == []
