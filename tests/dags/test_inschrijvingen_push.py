"""The voorinschrijvingen push DAG (informat_inschrijvingen_push) with dag.test(): from a file
dropped in a school's folder to Informat, the report in its outbox and the mail with the report
attached; the state in a folder of its own, beside the drop zone."""

from __future__ import annotations

import json

from informat_devtools.mailcatcher import MailCatcher
from informat_pipelines.voorinschrijvingen.dropzone import LocalDropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import (
    ROOT,
    load_dag,
    migrate_db,
    set_connection,
    set_informat_connection,
    set_smtp_connection,
    task_states,
)
from ..support.voorinschrijvingen import ID_KEY, drop, make_csv, read_report, row


def _attachments(mail) -> dict[str, bytes]:
    return {
        p.get_filename(): p.get_payload(decode=True)
        for p in mail.message.walk()
        if p.get_filename()
    }


def test_dag_from_drop_to_report_and_mail(sandbox, client_secret, tmp_path, monkeypatch):
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
    monkeypatch.setenv(
        "AIRFLOW_VAR_INFORMAT_INSCHRIJVINGEN_SETTINGS",
        json.dumps({"contacts": {"990011": "secretariaat@example.org"}}),
    )
    LocalDropZone(zone_root, state=state_root)
    template = (ROOT / "templates" / "inschrijvingen_sjabloon.csv").read_bytes()
    drop(zone_root, "sjabloon.csv", template)
    drop(
        zone_root,
        "school.csv",
        make_csv([row(1), row(2, geslacht="?"), row(3, naam="=cmd|' /C calc'!A0")]),
    )
    with MailCatcher() as mail:
        set_smtp_connection(monkeypatch, mail.port)
        dag = load_dag("informat_inschrijvingen_push")
        assert dag.get_task("wait_for_drop").kind == "local"
        dag_run = dag.test()
        assert str(dag_run.state) == "success", task_states(dag_run)
        mails = mail.wait_for(2)
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
    assert sorted(p.name for p in zone_root.iterdir()) == ["inbox", "outbox"]
    assert list((zone_root / "inbox" / "990011").iterdir()) == []
    held = sandbox.state.group.instellingen["990011"].preregistrations
    assert len(held) == 2

    # the secretariat accepts one in Informat; the next morning's follow-up tells the school
    accepted = sorted(held)[0]
    held[accepted]["status"] = "geaccepteerd"
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


def test_the_local_sensor_fires_on_what_the_push_takes(tmp_path, monkeypatch):
    """The sensor asks the drop zone, as the push does: SCHOOL.CSV and a file in another format
    (which the push answers with a report) make it fire; a .part still being uploaded, or a file
    still being written (not settled), do not."""
    import os

    monkeypatch.setenv("INFORMAT_DROP_ZONE", "local")
    root = tmp_path / "dropzone"
    set_connection(monkeypatch, "informat_dropzone", conn_type="fs", extra={"path": str(root)})
    sensor = load_dag("informat_inschrijvingen_push").get_task("wait_for_drop")
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
