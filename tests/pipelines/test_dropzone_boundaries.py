"""The drop zone belongs to the schools, the state to the pipeline (issue 22; security review 2,
findings N3, N6, N8 and the first review's 25). The review's reproduction scripts
(``pending.py``, ``symlinks.py``, ``newline_name.py``) live on here, adapted to the layout of
per-school folders, and show the fixed behaviour."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import pytest

from informat_pipelines.core import status
from informat_pipelines.voorinschrijvingen import (
    PushRun,
    VoorinschrijvingenSettings,
    deliver_pending,
    handle_drops,
)
from informat_pipelines.voorinschrijvingen.drops import BAD_NAME, NOT_A_SCHOOL
from informat_pipelines.voorinschrijvingen.dropzone import Claimed, UnsafePath, report_name
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
from informat_pipelines.voorinschrijvingen.s3_zone import S3DropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.airflow import ROOT
from ..support.voorinschrijvingen import ID_KEY, drop, make_csv, read_report, row

CONTACTS = {"990011": "sec@school-a.example", "990012": "sec@school-b.example"}


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _s3_zone(s3, prefix: str = "inschrijvingen") -> S3DropZone:
    drop_bucket, data_bucket = f"drop-{uuid.uuid4().hex[:8]}", f"data-{uuid.uuid4().hex[:8]}"
    for name in (drop_bucket, data_bucket):
        s3.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    return S3DropZone(s3.client(), drop_bucket, prefix, state_bucket=data_bucket)


def _put(zone, name: str, data: bytes) -> None:
    """A file in 990011's inbox, as the school puts it (settled long ago)."""
    if isinstance(zone, LocalDropZone):
        drop(zone.root, name, data)
    else:
        zone.zone.write_key(f"inbox/990011/{name}", data)


def _keys(client, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


# -- 1. a school writes only its own inbox; the state is where no school can write (N3) ----------


def test_the_pipelines_state_lies_beside_the_drop_zone_never_in_it(client, tmp_path):
    root = tmp_path / "dropzone"
    zone = LocalDropZone(root, settle_seconds=0)
    drop(root, "a.csv", make_csv([row(1)]))
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-s", ID_KEY))
    assert outcome.counts["pushed"] == 1
    # the drop zone holds only the schools' folders: what a school's account may see
    assert _tree(root) == [
        "inbox", "inbox/990011", "outbox", "outbox/990011", "outbox/990011/a.run-s.rapport.csv",
    ]  # fmt: skip
    assert zone.state.root == tmp_path / "dropzone.state"
    assert {"processed", "ledger", "pending", "status"} <= {
        p.name for p in zone.state.root.iterdir()
    }
    assert (zone.state.root / "processed" / "run-s" / "990011" / "a.csv").exists()
    for inside in (root, root / "state", root / "inbox"):
        with pytest.raises(ValueError, match="beside the drop zone"):
            LocalDropZone(root, state=inside)
    with pytest.raises(ValueError, match="beside the drop zone"):
        LocalDropZone(tmp_path / "outer" / "dropzone", state=tmp_path / "outer")


def test_an_s3_drop_zone_keeps_its_state_in_the_data_bucket(client, s3):
    zone = _s3_zone(s3)
    s3.client().put_object(
        Bucket=zone.bucket, Key="inschrijvingen/inbox/990011/a.csv", Body=make_csv([row(1)])
    )
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-s", ID_KEY))
    assert outcome.counts["pushed"] == 1
    assert outcome.report == f"s3://{zone.bucket}/inschrijvingen/outbox/990011/a.run-s.rapport.csv"
    assert _keys(s3.client(), zone.bucket) == ["inschrijvingen/outbox/990011/a.run-s.rapport.csv"]
    state = _keys(s3.client(), zone.state.bucket)
    assert all(k.startswith("dropzone-state/") for k in state)
    for part in ("claims", "processed", "ledger", "pending", "status"):
        assert any(k.startswith(f"dropzone-state/{part}/") for k in state), part
    for prefix, state_prefix in (("x", "x/state"), ("x", "x"), ("", "dropzone-state")):
        with pytest.raises(ValueError, match="must not overlap"):
            S3DropZone(s3.client(), "b", prefix, state_prefix=state_prefix)
    S3DropZone(s3.client(), "b", "", state_bucket="another")  # another bucket: apart


def test_a_school_pushes_only_for_its_own_instelling(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", make_csv([row(1), row(2, instellingsnummer="990012")]))
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-o", ID_KEY))
    assert outcome.counts["pushed"] == 1 and outcome.counts["rejected"] == 1
    assert outcome.instellingsnummers == ["990011"]
    lines = read_report(outcome.report)
    assert lines[1]["status"] == "geweigerd"
    assert "990012 hoort niet bij deze map (inbox/990011/)" in lines[1]["reden"]
    assert sandbox.state.group.instellingen["990012"].preregistrations == {}
    assert len(sandbox.state.group.instellingen["990011"].preregistrations) == 1


def test_a_file_outside_a_school_folder_of_the_connection_is_not_read(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "plat.csv", make_csv([row(1)]), instelling="")  # today's flat inbox
    drop(tmp_path, "vreemd.csv", make_csv([row(2, instellingsnummer="990019")]), "990019")
    outcomes = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-n", ID_KEY))
    assert sorted(o.name for o in outcomes) == ["plat.csv", "vreemd.csv"]
    for o in outcomes:
        assert (o.accepted, o.message, o.report) == (False, NOT_A_SCHOOL, "")
        assert o.problem == "not in a school's folder" and o.instellingsnummers == []
    assert _tree(tmp_path / "outbox") == []  # no outbox for a folder of no school
    failed = zone.state.root / "failed" / "run-n"
    assert (failed / "_" / "plat.csv").exists() and (failed / "990019" / "vreemd.csv").exists()
    assert sandbox.state.group.instellingen["990011"].preregistrations == {}
    sent = []
    settings = VoorinschrijvingenSettings(
        contacts=CONTACTS, fallback_contact="data@example.org", alert_recipients=("t@example.org",)
    )
    deliver_pending(
        zone, settings, lambda *m, **a: sent.append(m[0]), instellingsnummers=["990011"]
    )
    assert sorted(sent) == [("data@example.org",)] * 2 + [("t@example.org",)] * 2


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to hand a file to another user")
def test_a_file_of_the_schools_own_upload_account_is_read(client, tmp_path):
    """The review's uid check made a school upload as the worker's user; the owner of the
    school's folder (its SFTP account) is read, anyone else is not."""
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    folder = tmp_path / "inbox" / "990011"
    folder.mkdir()
    os.chown(folder, 4711, 4711)
    os.chown(drop(tmp_path, "eigen.csv", make_csv([row(1)])), 4711, 4711)
    os.chown(drop(tmp_path, "ander.csv", make_csv([row(2)])), 4712, 4712)
    outcomes = {
        o.name: o for o in handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "r", ID_KEY))
    }
    assert outcomes["eigen.csv"].counts["pushed"] == 1
    assert "geen gewoon bestand" in outcomes["ander.csv"].message


# -- 2. mails only from the pipeline's own state, checked again when sent (N3, old 25) ---------


def _forged(numbers: list[str]) -> dict:
    return {
        "name": "leerlingen.csv", "run": "x", "accepted": False,
        "message": "Uw bestand werd geweigerd. Meld u opnieuw aan op https://informat-login.example"
        " om het te herstellen.",
        "counts": {}, "instellingsnummers": numbers, "report": "", "final_location": "",
        "problem": "",
    }  # fmt: skip


def test_a_pending_outcome_written_in_the_drop_zone_mails_nobody(tmp_path):
    """The review's ``pending.py``: a school that writes where the pending mails were kept."""
    zone = LocalDropZone(tmp_path)
    forged = json.dumps(_forged(["990012"])).encode()
    zone.zone.write_key("outbox/pending/x--leerlingen.csv.json", forged)
    zone.zone.write_key("inbox/990011/pending/x--leerlingen.csv.json", forged)
    sent = []
    settings = VoorinschrijvingenSettings(contacts=CONTACTS)
    deliver_pending(zone, settings, lambda *m, **a: sent.append(m), instellingsnummers=["990011"])
    assert sent == []


def test_a_pending_outcome_is_checked_against_the_connection_when_sent(tmp_path):
    zone = LocalDropZone(tmp_path)
    pending = {"outcome": _forged(["990012"]), "attempts": 0, "attachments": {}}
    zone.write_key("pending/x--990012--leerlingen.csv.json", json.dumps(pending).encode())
    sent = []
    # 990012 was the connection's when the outcome was made
    settings = VoorinschrijvingenSettings(contacts=CONTACTS)
    delivered = deliver_pending(
        zone, settings, lambda *m, **a: sent.append(m), instellingsnummers=["990011"]
    )
    assert [o.name for o in delivered] == ["leerlingen.csv"] and sent == []
    assert zone.list_keys("pending/") == []


# -- 3. the local drop zone never follows a link (N6, old 1) -----------------------------------


def test_writes_never_follow_a_link(tmp_path):
    """The review's ``symlinks.py``, write side: a link where a report, its temporary file, a
    school's outbox or a state folder goes is replaced or refused, never written through."""
    root = tmp_path / "dropzone"
    zone = LocalDropZone(root, settle_seconds=0)
    outside = tmp_path / "clobbered.txt"
    outside.write_text("ORIGINAL\n")
    claimed = Claimed("school.csv", "scheduled__2026-12-02T10_15_00_00_00", "", instelling="990011")
    report = root / report_name(claimed)
    report.parent.mkdir()
    os.symlink(outside, report)  # the predictable report name
    os.symlink(outside, report.with_name(report.name + ".part"))  # the old temporary name
    zone.write_report(claimed, b"rij;status;reden;informat_id\r\n")
    assert outside.read_text() == "ORIGINAL\n"
    assert not report.is_symlink() and report.read_bytes().startswith(b"rij;status")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, root / "outbox" / "990012")  # a school's outbox is a link
    with pytest.raises(UnsafePath):
        zone.write_outbox("990012", "opvolging-2026-12-02.csv", b"x")
    os.symlink(elsewhere, zone.state.root / "status")  # a state folder is a link
    with pytest.raises(UnsafePath):
        outcome = {"name": "a.csv", "run": "r", "accepted": True, "counts": {}, "report": ""}
        status.record_push(zone, {**outcome, "instellingsnummers": []}, date(2026, 12, 2))
    with pytest.raises(UnsafePath):
        zone.create_key("status/x.json", b"{}")
    assert list(elsewhere.iterdir()) == []


def test_a_report_is_served_only_as_a_regular_file_of_the_schools_outbox(tmp_path):
    """The review's ``symlinks.py``, read side (the page's report download)."""
    root = tmp_path / "dropzone"
    zone = LocalDropZone(root)
    secret = tmp_path / "secret.env"
    secret.write_text("POSTGRES_PASSWORD=hunter2\n")
    key = zone.write_outbox("990011", "a.r1.rapport.csv", b"rij;status\r\n")
    assert key == "outbox/990011/a.r1.rapport.csv"
    assert zone.read_report("990011", "a.r1.rapport.csv") == b"rij;status\r\n"
    assert status.read_push_report(zone, key) == b"rij;status\r\n"
    os.symlink(secret, root / "outbox" / "990011" / "leak.rapport.csv")
    assert zone.read_report("990011", "leak.rapport.csv") is None
    os.symlink(tmp_path, root / "outbox" / "990012")
    assert zone.read_report("990012", "secret.env") is None
    for number, name in (("990011", "../990012/x"), ("..", "secret.env"), ("990011", ".."),
                         ("990011", "a\nb.csv"), ("990011", "ontbreekt.csv")):  # fmt: skip
        assert zone.read_report(number, name) is None
    for other in ("ledger/inschrijvingen/x.jsonl", "outbox/../ledger/x", "/etc/passwd",
                  "outbox/990011", "pending/x.json"):  # fmt: skip
        assert status.read_push_report(zone, other) is None


def test_a_school_folder_that_is_a_link_is_refused_unread(client, tmp_path):
    root = tmp_path / "dropzone"
    zone = LocalDropZone(root, settle_seconds=0)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.csv").write_bytes(make_csv([row(1)]))
    os.symlink(elsewhere, root / "inbox" / "990011")
    os.utime(root / "inbox" / "990011", (0, 0), follow_symlinks=False)
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-l", ID_KEY))
    assert not outcome.accepted and outcome.problem == "not in a school's folder"
    assert (elsewhere / "a.csv").exists() and _tree(root / "outbox") == []


# -- 4. a name with a control character is refused; it never breaks a header or a log (N8) ------


def _real_mail(sent: list):
    """What SmtpHook does before sendmail: the project's MailHook builds the message (with the
    attachment files) and serialises it."""
    from informat_airflow.mail import MailHook

    hook = MailHook.__new__(MailHook)

    def send(to, subject, body, attachments=None):
        message, _ = hook._build_mime_message(
            mail_from="a@example.org", to=list(to), subject=subject, html_content=body
        )
        sent.append(message.as_string())

    return send


def test_a_name_with_a_line_break_is_refused_and_never_reaches_a_header(client, tmp_path, caplog):
    """The review's ``newline_name.py``: every later mail was held back by one name."""
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a\nBcc: x.csv", make_csv([row(1)]))
    drop(tmp_path, "b\u2028c\x1b.csv", make_csv([row(2)]))  # a line separator, an escape
    drop(tmp_path, "d.csv", make_csv([row(3)]))
    outcomes = {
        o.name: o for o in handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "r1", ID_KEY))
    }
    bad = [o for n, o in outcomes.items() if n != "d.csv"]
    assert len(bad) == 2 and outcomes["d.csv"].counts["pushed"] == 1
    for o in bad:
        assert o.name.isprintable() and ".ongeldige-naam-" in o.name
        assert (o.accepted, o.message) == (False, BAD_NAME)
        assert "Ongeldige bestandsnaam" in read_report(o.report)[0]["reden"]
    assert all(name.isprintable() for name in os.listdir(tmp_path / "outbox" / "990011"))
    sent: list[str] = []
    settings = VoorinschrijvingenSettings(contacts=CONTACTS)
    delivered = deliver_pending(zone, settings, _real_mail(sent), instellingsnummers=["990011"])
    assert len(delivered) == len(sent) == 3 and zone.list_keys("pending/") == []
    assert not any(re.search(r"^Bcc:", mail, re.MULTILINE) for mail in sent)
    assert all("\n" not in r.getMessage() and "\x1b" not in r.getMessage() for r in caplog.records)


def test_one_outcome_never_holds_back_the_others(client, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    for name in ("a.csv", "b.csv"):
        drop(tmp_path, name, make_csv([row(1 if name == "a.csv" else 2)]))
    handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "r1", ID_KEY))
    zone.write_key("pending/r0--990011--kapot.csv.json", b"{not json")
    sent = []

    def send(to, subject, body, attachments=None):
        if "a.csv" in subject:
            raise ValueError("this one cannot be sent")
        sent.append(subject)

    settings = VoorinschrijvingenSettings(contacts=CONTACTS)
    for attempt in range(1, 6):
        with pytest.raises(ValueError):  # the task fails, so that it is retried and seen
            deliver_pending(zone, settings, send, instellingsnummers=["990011"])
        assert [s for s in sent if "b.csv" in s] and len(sent) == 1  # b went out, once
        kept = zone.list_keys("pending/")
        if attempt < 5:
            assert kept == ["pending/r1--990011--a.csv.json"]
            assert json.loads(zone.read_key(kept[0]))["attempts"] == attempt
    assert zone.list_keys("pending/") == []
    assert zone.list_keys("pending-failed/") == [
        "pending-failed/r0--990011--kapot.csv.json", "pending-failed/r1--990011--a.csv.json",
    ]  # fmt: skip
    assert deliver_pending(zone, settings, send, instellingsnummers=["990011"]) == []


# -- 5. each outcome is mailed exactly once, also when two runs overlap ------------------------


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_two_overlapping_runs_mail_an_outcome_once(kind, client, tmp_path, request):
    if kind == "local":
        zone = LocalDropZone(tmp_path, settle_seconds=0)
    else:
        zone = _s3_zone(request.getfixturevalue("s3"))
    _put(zone, "a.csv", make_csv([row(1)]))
    handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "scheduled", ID_KEY))
    sent = []
    start = threading.Barrier(2)

    def send(to, subject, body, attachments=None):
        time.sleep(0.3)  # the other run lists and reads meanwhile
        sent.append(subject)

    settings = VoorinschrijvingenSettings(contacts=CONTACTS)

    def run(run_id):
        start.wait()
        deliver_pending(zone, settings, send, instellingsnummers=["990011"], run_id=run_id)

    runs = [threading.Thread(target=run, args=(r,)) for r in ("scheduled", "manual")]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert len(sent) == 1
    assert zone.list_keys("pending/") == [] and zone.list_keys("pending-claims/") == []


def test_a_claim_a_crashed_run_left_is_taken_over_once_stale(client, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0, stale_after=3600)
    drop(tmp_path, "a.csv", make_csv([row(1)]))
    handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "r", ID_KEY))
    [key] = zone.list_keys("pending/")
    marker = "pending-claims/" + key[len("pending/") :] + "/0"
    zone.create_key(marker, b"crashed-run")
    sent = []
    settings = VoorinschrijvingenSettings(contacts=CONTACTS)
    assert deliver_pending(zone, settings, sent.append, instellingsnummers=["990011"]) == []
    old = time.time() - 7200
    os.utime(zone.state.root / marker, (old, old))
    delivered = deliver_pending(
        zone, settings, lambda *m, **a: sent.append(m), instellingsnummers=["990011"]
    )
    assert len(delivered) == len(sent) == 1


# -- 6. the school's mail carries its report and never names a server path ---------------------


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_the_schools_mail_carries_its_report_and_no_server_path(kind, client, tmp_path, request):
    if kind == "local":
        zone = LocalDropZone(tmp_path / "dropzone", settle_seconds=0)
    else:
        zone = _s3_zone(request.getfixturevalue("s3"))
    _put(zone, "a.csv", make_csv([row(1), row(2, geslacht="?")]))
    _put(zone, "leeg.csv", make_csv([]))  # only a header: refused as a whole
    outcomes = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-m", ID_KEY))
    sent = []
    deliver_pending(
        zone, VoorinschrijvingenSettings(contacts=CONTACTS),
        lambda to, subject, body, attachments=None: sent.append((to, subject, body, attachments)),
        instellingsnummers=["990011"],
    )  # fmt: skip
    assert len(sent) == 2
    for outcome in outcomes:
        [(to, subject, body, attachments)] = [m for m in sent if outcome.name in m[1]]
        name = f"{outcome.name.rsplit('.', 1)[0]}.run-m.rapport.csv"
        assert to == ("sec@school-a.example",)
        assert attachments == {name: zone.read_report("990011", name)}
        assert f"outbox/990011/{name}" in body
        for server in (str(tmp_path), "s3://", "dropzone-state", "processed"):
            assert server not in body and server not in subject
    accepted = next(m for m in sent if "a.csv" in m[1])
    assert "bijlage" in accepted[2] and "1 doorgestuurd, 1 geweigerd" in accepted[1]


# -- 7, 8. the documented per-school policy -----------------------------------------------------


def _documented_policy() -> dict:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- school-policy -->", 1)[1]
    return json.loads(block.split("```json", 1)[1].split("```", 1)[0])


def test_the_documented_policy_reaches_only_the_schools_own_folders():
    """With moto's IAM enforcement: the school's user with the README's policy (for 990011)
    drops into its inbox and reads its outbox, and is refused on another school's folders, on
    its own outbox's writes and on the pipeline's state (in the drop zone's bucket or the data
    bucket). moto does not evaluate the ``s3:prefix`` condition of ListBucket (StringLike is
    ignored), so the listing is checked in the next test."""
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws
    from moto.core import enable_iam_authentication

    policy = _documented_policy()
    with mock_aws():
        admin = boto3.client(
            "s3", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
        )
        for bucket in ("informat-dropzone", "informat-data"):
            admin.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        zone = S3DropZone(
            admin, "informat-dropzone", "inschrijvingen", state_bucket="informat-data"
        )
        zone.write_outbox("990011", "a.r.rapport.csv", b"own")
        zone.write_outbox("990012", "b.r.rapport.csv", b"other")
        zone.write_key("ledger/inschrijvingen/x.jsonl", b"{}\n")
        iam = boto3.client(
            "iam", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
        )
        iam.create_user(UserName="school-990011")
        arn = iam.create_policy(PolicyName="school-990011", PolicyDocument=json.dumps(policy))
        iam.attach_user_policy(UserName="school-990011", PolicyArn=arn["Policy"]["Arn"])
        key = iam.create_access_key(UserName="school-990011")["AccessKey"]
        school = boto3.client(
            "s3", region_name="eu-west-1", aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )  # fmt: skip

        def allowed(action: str, bucket: str, object_key: str) -> bool:
            call = {"put": school.put_object, "get": school.get_object}[action]
            extra = {"Body": b"x"} if action == "put" else {}
            try:
                call(Bucket=bucket, Key=object_key, **extra)
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "AccessDenied"
                return False
            return True

        with enable_iam_authentication():
            assert allowed("put", "informat-dropzone", "inschrijvingen/inbox/990011/l.csv")
            assert allowed(
                "get", "informat-dropzone", "inschrijvingen/outbox/990011/a.r.rapport.csv"
            )
            for action, bucket, object_key in (
                ("put", "informat-dropzone", "inschrijvingen/inbox/990012/l.csv"),
                ("get", "informat-dropzone", "inschrijvingen/outbox/990012/b.r.rapport.csv"),
                ("put", "informat-dropzone", "inschrijvingen/outbox/990011/a.r.rapport.csv"),
                ("get", "informat-dropzone", "inschrijvingen/inbox/990011/l.csv"),
                ("put", "informat-dropzone", "inschrijvingen/processing/r/990011/l.csv"),
                ("put", "informat-dropzone", "dropzone-state/pending/x.json"),
                ("put", "informat-data", "dropzone-state/pending/x.json"),
                ("get", "informat-data", "dropzone-state/ledger/inschrijvingen/x.jsonl"),
            ):
                assert not allowed(action, bucket, object_key), (action, bucket, object_key)
        # what the school put is what the pipeline takes
        assert zone.inbox() == ["990011/l.csv"]


def _string_like(pattern: str, value: str) -> bool:
    return (
        re.fullmatch(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), value) is not None
    )


def test_the_documented_policy_lists_only_the_schools_own_folders():
    statements = _documented_policy()["Statement"]
    assert all(s["Effect"] == "Allow" for s in statements)
    assert sorted(a for s in statements for a in s["Action"]) == [
        "s3:GetObject", "s3:ListBucket", "s3:PutObject",
    ]  # fmt: skip
    [listing] = [s for s in statements if s["Action"] == ["s3:ListBucket"]]
    prefixes = listing["Condition"]["StringLike"]["s3:prefix"]
    for asked in ("inschrijvingen/inbox/990011/", "inschrijvingen/outbox/990011/a.r.rapport.csv"):
        assert any(_string_like(p, asked) for p in prefixes), asked
    refused = (
        "", "inschrijvingen/", "inschrijvingen/inbox/", "inschrijvingen/inbox/990012/",
        "inschrijvingen/outbox/9900111/", "dropzone-state/", "inschrijvingen/ledger/",
    )  # fmt: skip
    for asked in refused:
        assert not any(_string_like(p, asked) for p in prefixes), asked
    resources = [r for s in statements for r in s["Resource"]]
    assert resources == [
        "arn:aws:s3:::informat-dropzone/inschrijvingen/inbox/990011/*",
        "arn:aws:s3:::informat-dropzone/inschrijvingen/outbox/990011/*",
        "arn:aws:s3:::informat-dropzone",
    ]
