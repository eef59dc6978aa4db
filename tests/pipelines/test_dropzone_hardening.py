"""Hostile drops: links and other entries are never followed, nothing of a refused file is
echoed, a growing or huge file is not read, mixed encodings and extra cells are refused, one
failing file does not stop the others, and only a missing S3 object means "taken"."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from informat_pipelines.voorinschrijvingen import (
    FileRejected,
    PushRun,
    handle_drops,
    local_zone,
    parse,
    validate,
)
from informat_pipelines.voorinschrijvingen.dropzone import StillWriting
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
from informat_pipelines.voorinschrijvingen.s3_zone import S3DropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.voorinschrijvingen import ID_KEY, drop, make_csv, read_report, row

SECRET_LINE = "POSTGRES_PASSWORD=hunter2"


def outcome_of(zone, client, name="x"):
    return {
        o.name: o
        for o in handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, f"run-{name}", ID_KEY))
    }


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_links_are_refused_with_a_report_and_never_read(client, tmp_path, kind):
    zone = LocalDropZone(tmp_path / "zone", settle_seconds=0)
    secret = tmp_path / "secrets.env"
    secret.write_text(f"{SECRET_LINE}\n")
    target = tmp_path / "zone" / "inbox" / "990011" / "leerlingen.csv"
    target.parent.mkdir()
    (os.symlink if kind == "symlink" else os.link)(secret, target)
    os.utime(target, (0, 0), follow_symlinks=False)
    [outcome] = outcome_of(zone, client).values()
    assert not outcome.accepted and "geen gewoon bestand" in outcome.message
    report = Path(outcome.report).read_text(encoding="utf-8-sig")
    assert "hunter2" not in report and "POSTGRES" not in report
    assert secret.read_text() == f"{SECRET_LINE}\n"  # the target is untouched
    assert (zone.state.root / "failed" / "run-x" / "990011" / "leerlingen.csv").exists()


def test_a_file_growing_while_read_goes_back_to_the_inbox(tmp_path, monkeypatch):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", make_csv([row(1)]))
    claimed = zone.claim("990011/a.csv", "run-g")
    real_fstat = os.fstat
    calls = []

    def growing(fd):  # the uploader appends between the read and the second look
        info = real_fstat(fd)
        calls.append(1)
        if len(calls) == 2:
            return os.stat_result((*info[:6], info.st_size + 10, *info[7:]))
        return info

    monkeypatch.setattr(local_zone.os, "fstat", growing)
    with pytest.raises(StillWriting):
        zone.read(claimed)
    monkeypatch.undo()
    zone.release(claimed)
    assert zone.inbox() == ["990011/a.csv"]


def test_a_huge_file_is_refused_unread(client, tmp_path, monkeypatch):
    monkeypatch.setattr(local_zone, "MAX_BYTES", 1000)
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "big.csv", make_csv([row(n) for n in range(1, 30)]))
    [outcome] = outcome_of(zone, client, "big").values()
    assert not outcome.accepted and "groter dan" in outcome.message


def test_a_header_that_is_a_pupil_is_refused_by_position_without_echo():
    data_first = make_csv([row(1)]).split(b"\r\n", 1)[1]  # the header line is missing
    with pytest.raises(FileRejected) as refused:
        parse(data_first)
    message = str(refused.value)
    assert "op positie 1, 2, 3" in message
    assert "Peeters" not in message and "990011" not in message


def test_mixed_encodings_are_refused_not_mangled():
    utf8 = make_csv([row(1, naam="Müller")])
    mixed = utf8 + "Zoë;Noël\r\n".encode("cp1252")
    with pytest.raises(FileRejected, match="mengt twee tekencoderingen"):
        parse(mixed)
    assert parse(make_csv([row(1, naam="Müller")], encoding="cp1252"))  # plain cp1252 is fine


def test_a_row_with_more_cells_than_the_header_is_refused():
    header, first, second = make_csv([row(1), row(2)]).split(b"\r\n", 2)
    raw = b"\r\n".join([header, first + b";=cmd;x", second])  # two cells too many in row 2
    _, parsed = parse(raw)
    checked = validate(parsed, INSTELLINGSNUMMERS, id_key=ID_KEY)
    assert checked[0].problems == ["de rij heeft meer cellen dan de kopregel kolommen heeft"]
    assert checked[1].problems == []


def test_one_failing_file_does_not_stop_the_others(client, tmp_path, monkeypatch):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", make_csv([row(1)]))
    drop(tmp_path, "b.csv", make_csv([row(2)]))
    real_read = zone.read

    def read(claimed):
        if claimed.name == "a.csv":
            raise OSError("disk gone")
        return real_read(claimed)

    monkeypatch.setattr(zone, "read", read)
    outcomes = outcome_of(zone, client, "f")
    assert outcomes["a.csv"].problem == "error: OSError" and not outcomes["a.csv"].accepted
    assert "onverwachte fout" in read_report(outcomes["a.csv"].report)[0]["reden"]
    assert outcomes["b.csv"].counts["pushed"] == 1
    assert (zone.state.root / "failed" / "run-f" / "990011" / "a.csv").exists()


def test_recipients_come_only_from_the_connections_instellingen(client, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", make_csv([row(1), row(2, instellingsnummer="123456")]))
    [outcome] = outcome_of(zone, client, "r").values()
    assert outcome.instellingsnummers == ["990011"]


class _Forbidden:
    """A boto3 client whose head_object is refused (403), as with wrong credentials."""

    def head_object(self, **kwargs):
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")


def test_s3_no_access_is_an_error_not_a_skip(s3):
    bucket = f"drop-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    zone = S3DropZone(s3.client(), bucket, "inschrijvingen")
    assert zone.claim("990011/weg.csv", "run") is None  # not there (404): taken by another run
    with pytest.raises(ClientError):
        S3DropZone(_Forbidden(), bucket, "x").claim("a.csv", "run")


def test_the_data_team_hears_of_files_with_a_problem():
    from informat_pipelines.voorinschrijvingen import (
        FileOutcome,
        VoorinschrijvingenSettings,
        tell_schools,
    )

    settings = VoorinschrijvingenSettings.from_mapping(
        {"fallback_contact": "sec@example.org", "alert_recipients": ["data@example.org"]}
    )
    counts = {"pushed": 1, "rejected": 0, "failed": 0}
    down = FileOutcome("a.csv", "r1", True, "x", counts, [], "outbox/a", "inbox", problem="outage")
    fine = FileOutcome("b.csv", "r1", True, "verwerkt", counts, [], "outbox/b", "processed/b")
    sent = []
    tell_schools([down, fine], settings, lambda to, subject, body: sent.append((to, subject, body)))
    to_team = [m for m in sent if m[0] == ("data@example.org",)]
    assert len(to_team) == 1 and "1 bestand(en) met een probleem" in to_team[0][1]
    assert "a.csv" in to_team[0][2] and "b.csv" not in to_team[0][2]


def test_a_files_outcome_survives_a_mail_server_that_is_down(client, tmp_path):
    from informat_pipelines.voorinschrijvingen import VoorinschrijvingenSettings, deliver_pending

    zone = LocalDropZone(tmp_path, settle_seconds=0)
    settings = VoorinschrijvingenSettings.from_mapping({"fallback_contact": "sec@example.org"})
    drop(tmp_path, "a.csv", make_csv([row(1)]))
    handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-m", ID_KEY))

    def down(*mail, **attached):
        raise ConnectionRefusedError("SMTP down")

    with pytest.raises(ConnectionRefusedError):
        deliver_pending(zone, settings, down, instellingsnummers=INSTELLINGSNUMMERS)
    # the retry finds no file in the inbox any more, but the outcome still waits for its mail
    assert handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-m-retry", ID_KEY)) == []
    sent = []
    delivered = deliver_pending(
        zone, settings, lambda *mail, **kw: sent.append(mail), instellingsnummers=INSTELLINGSNUMMERS
    )
    assert [o.name for o in delivered] == ["a.csv"] and len(sent) == 1
    assert "1 doorgestuurd" in sent[0][1]
    again = deliver_pending(zone, settings, sent.append, instellingsnummers=INSTELLINGSNUMMERS)
    assert again == [] and len(sent) == 1  # once only
