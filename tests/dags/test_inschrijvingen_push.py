"""The voorinschrijvingen push DAG (informat_inschrijvingen_push) with dag.test(): from a file
dropped in a school's folder to Informat, the report in its outbox and the mail with the report
attached; the state in a folder of its own, beside the drop zone."""

from __future__ import annotations

import json
from datetime import timedelta

from informat_devtools.mailcatcher import MailCatcher
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import (
    ROOT,
    Answer,
    load_dag,
    migrate_db,
    set_connection,
    set_informat_connection,
    set_smtp_connection,
    task_states,
)
from ..support.voorinschrijvingen import ID_KEY, drop, make_csv, read_report, row

DAG_ID = "informat_inschrijvingen_push"


def _attachments(mail) -> dict[str, bytes]:
    return {
        p.get_filename(): p.get_payload(decode=True)
        for p in mail.message.walk()
        if p.get_filename()
    }


def _setup(sandbox, client_secret, tmp_path, monkeypatch):
    """The push's connections and settings on a local drop zone with its state beside it."""
    migrate_db()
    zone_root, state_root = tmp_path / "dropzone", tmp_path / "state"
    monkeypatch.setenv("INFORMAT_DROP_ZONE", "local")
    set_connection(
        monkeypatch, "informat_dropzone", conn_type="fs",
        extra={"path": str(zone_root), "state_path": str(state_root)},
    )  # fmt: skip
    set_connection(
        monkeypatch, "informat_preregistration_key", conn_type="generic", password=ID_KEY.decode()
    )
    set_informat_connection(
        monkeypatch, sandbox, client_secret, {"instellingsnummers": list(INSTELLINGSNUMMERS)}
    )
    settings = {"contacts": {"990011": "secretariaat@example.org"},
                "alert_recipients": ["data@example.org"]}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_VAR_INFORMAT_INSCHRIJVINGEN_SETTINGS", json.dumps(settings))
    LocalDropZone(zone_root, state=state_root)
    return zone_root, state_root


def _run(monkeypatch, answer: Answer | None, mails: int, timeout_s: float | None = None):
    """A dag.test() run of the push, its review answered by ``answer`` (None: none expected),
    and the ``mails`` it sent."""
    dag = load_dag(DAG_ID)
    for task in dag.tasks:
        task.retries = 0
    if timeout_s is not None:
        dag.get_task("review").response_timeout = timedelta(seconds=timeout_s)
    with MailCatcher() as mail:
        set_smtp_connection(monkeypatch, mail.port)
        if answer:
            answer.start()
        try:
            dag_run = dag.test()
        finally:
            if answer:
                answer.done.set()
        assert str(dag_run.state) == "success", task_states(dag_run)
        return dag_run, mail.wait_for(mails) if mails else []


def test_dag_from_drop_to_report_and_mail(sandbox, client_secret, tmp_path, monkeypatch):
    zone_root, state_root = _setup(sandbox, client_secret, tmp_path, monkeypatch)
    template = (ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_bytes()
    drop(zone_root, "sjabloon.csv", template)
    drop(
        zone_root,
        "school.csv",
        make_csv([row(1), row(2, geslacht="?"), row(3, naam="=cmd|' /C calc'!A0")]),
    )
    stored = sandbox.state.group.instellingen["990011"].preregistrations
    # 990011 never pushed: its files wait for the data team's yes, and Informat has nothing yet
    answer = Answer(DAG_ID, "Approve", at_question=lambda: len(stored))
    dag_run, mails = _run(monkeypatch, answer, 3)
    assert answer.seen == 0 and len(stored) == 2
    assert task_states(dag_run)["push_held"] == "success"
    body = answer.detail["body"]
    assert "inbox/990011/school.csv" in body and "nog nooit doorgestuurd" in body
    assert "| 3 | geweigerd | geslacht" in body  # the per-row preview
    assert "Peeters" not in body and "calc" not in body  # statuses and reasons, no cell value
    assert answer.detail["defaults"] == ["Reject"]
    [asked] = [m for m in mails if m.recipients == ["data@example.org"]]
    assert "wachten op goedkeuring" in asked.subject and "school.csv" in asked.text
    assert "Peeters" not in asked.text
    mails = [m for m in mails if m is not asked]
    assert {tuple(m.recipients) for m in mails} == {("secretariaat@example.org",)}
    school = next(m for m in mails if "school.csv" in m.subject)
    # a formula as a name is refused here: Informat never receives it as a name
    assert "1 doorgestuurd, 2 geweigerd, 0 mislukt" in school.subject
    assert "Peeters" not in school.text  # counts only, no personal data
    [report] = sorted((zone_root / "outbox" / "990011").glob("school.*.rapport.csv"))
    rows = read_report(str(report))
    assert [r["status"] for r in rows] == ["doorgestuurd", "geweigerd", "geweigerd"]
    assert "calc" not in rows[2]["reden"]  # the cell's value is not echoed
    # the report rides along; the mail names the school's own folder, never a server path
    assert _attachments(school) == {report.name: report.read_bytes()}
    assert f"outbox/990011/{report.name}" in school.text and str(tmp_path) not in school.text
    # the originals end in the pipeline's state, out of the schools' reach
    assert sorted(p.name for p in (state_root / "processed").rglob("*.csv")) == [
        "school.csv",
        "sjabloon.csv",
    ]
    assert not list((state_root / "held").rglob("*.csv"))
    assert sorted(p.name for p in zone_root.iterdir()) == ["inbox", "outbox"]
    assert list((zone_root / "inbox" / "990011").iterdir()) == []
    # 990011 has pushed now: a small file goes out in push_drops, without a question
    drop(zone_root, "klein.csv", make_csv([row(4)]))
    dag_run, [told] = _run(monkeypatch, None, 1)
    states = task_states(dag_run)
    assert states["push_drops"] == "success" and states["review"] == "skipped"
    assert "klein.csv" in told.subject and len(stored) == 3

    # the secretariat accepts one in Informat; the next morning's follow-up tells the school
    accepted = sorted(stored)[0]
    stored[accepted]["status"] = "geaccepteerd"
    with MailCatcher() as mail:
        set_smtp_connection(monkeypatch, mail.port)
        followup = load_dag("informat_inschrijvingen_opvolging").test()
        assert str(followup.state) == "success", task_states(followup)
        [told] = mail.wait_for(1)
    assert told.recipients == ["secretariaat@example.org"]
    assert "1 geaccepteerd, 0 geweigerd" in told.subject
    [report] = (zone_root / "outbox" / "990011").glob("opvolging-*.csv")
    [line] = read_report(str(report))
    assert line["status"] == "geaccepteerd" and line["informat_id"] == accepted
    assert f"outbox/990011/{report.name}" in told.text and str(tmp_path) not in told.text


def test_a_rejected_file_ends_in_failed_and_the_school_is_told(
    sandbox, client_secret, tmp_path, monkeypatch
):
    zone_root, state_root = _setup(sandbox, client_secret, tmp_path, monkeypatch)
    drop(zone_root, "school.csv", make_csv([row(1), row(2)]))
    answer = Answer(DAG_ID, "Reject")
    dag_run, mails = _run(monkeypatch, answer, 2)
    states = task_states(dag_run)
    assert states["push_held"] == "skipped" and states["settle_held"] == "success"
    assert sandbox.state.group.instellingen["990011"].preregistrations == {}
    [failed] = (state_root / "failed").rglob("school.csv")
    assert failed.parent.name == "990011"
    [report] = (zone_root / "outbox" / "990011").glob("school.*.rapport.csv")
    [line] = read_report(str(report))
    assert "afgewezen door het data-team" in line["reden"]
    [school] = [m for m in mails if m.recipients == ["secretariaat@example.org"]]
    assert "niet verwerkt" in school.subject and "afgewezen door het data-team" in school.text


def test_no_answer_in_time_takes_the_default_reject(sandbox, client_secret, tmp_path, monkeypatch):
    """The scheduler's timeout sweep applies the review's default (Reject): the file is not
    pushed, and the school and the data team hear it was not approved in time."""
    zone_root, state_root = _setup(sandbox, client_secret, tmp_path, monkeypatch)
    drop(zone_root, "school.csv", make_csv([row(1)]))
    dag_run, mails = _run(monkeypatch, Answer(DAG_ID, None), 3, timeout_s=2)
    assert task_states(dag_run)["push_held"] == "skipped"
    assert sandbox.state.group.instellingen["990011"].preregistrations == {}
    assert list((state_root / "failed").rglob("school.csv"))
    [school] = [m for m in mails if m.recipients == ["secretariaat@example.org"]]
    assert "niet op tijd goedgekeurd" in school.text
    told = [m for m in mails if m.recipients == ["data@example.org"]]
    assert any("probleem" in m.subject and "not approved in time" in m.text for m in told)


def test_the_data_teams_mail_failing_never_fails_the_review(
    sandbox, client_secret, tmp_path, monkeypatch
):
    """The question stands in Required actions whether or not its mail went out: a mail server
    that refuses does not fail the review (which would leave the held files unasked)."""
    import socket

    _setup(sandbox, client_secret, tmp_path, monkeypatch)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once closed
    set_smtp_connection(monkeypatch, port)
    review = load_dag(DAG_ID).get_task("review")
    [notifier] = review.notifiers
    notifier.notify({"run_id": "manual__held", "task": None})  # no link: names the task


def test_the_local_sensor_fires_on_what_the_push_takes(tmp_path, monkeypatch):
    """The sensor asks the drop zone, as the push does: SCHOOL.CSV and a file in another format
    (which the push answers with a report) make it fire; a .part still being uploaded, or a file
    still being written (not settled), do not."""
    import os

    monkeypatch.setenv("INFORMAT_DROP_ZONE", "local")
    root = tmp_path / "dropzone"
    set_connection(monkeypatch, "informat_dropzone", conn_type="fs", extra={"path": str(root)})
    sensor = load_dag(DAG_ID).get_task("wait_for_drop")
    zone = LocalDropZone(root)
    drop(root, "SCHOOL.CSV.part", b"half")
    (root / "inbox" / "990011" / "SCHOOL.CSV").write_bytes(b"x")
    assert not sensor.poke({})  # written a moment ago: perhaps not whole yet
    os.utime(root / "inbox" / "990011" / "SCHOOL.CSV", (0, 0))
    assert sensor.poke({}) and zone.inbox() == ["990011/SCHOOL.CSV"]
    (root / "inbox" / "990011" / "SCHOOL.CSV").unlink()
    drop(root, "inschrijvingen.xlsx", b"PK")
    assert sensor.poke({}) and zone.inbox() == ["990011/inschrijvingen.xlsx"]
    # the state is beside the drop zone by default, not in it
    assert zone.state.root == tmp_path / "dropzone.state"
