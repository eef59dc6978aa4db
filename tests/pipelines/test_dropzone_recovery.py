"""Nothing stranded, nothing pushed twice (review findings 3 and 4): a run that failed for good
leaves its files in processing/; a run that crashed between its S3 claim marker and its copy
leaves a marker; the next run takes either over once it is stale, tells the data team, and the
ledger keeps the rows already pushed from being sent again. Ledger objects are never
overwritten, also by a retry of the same run."""

from __future__ import annotations

import os
import uuid

import pytest

from informat_pipelines.voorinschrijvingen import Ledger, PushRun, handle_drops
from informat_pipelines.voorinschrijvingen.dropzone import KeyExists
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
from informat_pipelines.voorinschrijvingen.s3_zone import S3DropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.voorinschrijvingen import ID_KEY, drop, make_csv, row


def _age(path, seconds=3 * 3600):
    os.utime(path, (os.stat(path).st_atime - seconds,) * 2, follow_symlinks=False)


def _crash_after_push(zone, monkeypatch):
    """The worker dies after the push and its ledger, before the file is moved."""

    def finish(claimed, ok):
        raise SystemExit("worker killed")

    monkeypatch.setattr(zone, "finish", finish)


def test_a_file_a_failed_run_left_in_processing_is_finished_by_the_next_run_once(
    client, tmp_path, monkeypatch
):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", make_csv([row(1), row(2)]))
    with monkeypatch.context() as patch:
        _crash_after_push(zone, patch)
        with pytest.raises(SystemExit):
            handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-dead", ID_KEY))
    left = zone.state.root / "processing" / "run-dead" / "990011" / "a.csv"
    assert left.exists()

    # a fresh claim is not stale: another run leaves it alone
    assert handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-next", ID_KEY)) == []
    assert left.exists()

    _age(left)
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-later", ID_KEY))
    assert outcome.counts["already_pushed"] == 2 and outcome.counts["pushed"] == 0
    assert outcome.problem == "stale claim of run-dead taken over"  # for the data team
    later = zone.state.root / "processed" / "run-later" / "990011" / "a.csv"
    assert later.exists() and not left.exists()
    ledger = Ledger(zone.list_keys, zone.read_key, zone.create_key).load()
    assert len(ledger.entries) == 2


def test_two_runs_never_both_take_over_a_stale_file(tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", b"x")
    zone.claim("990011/a.csv", "run-dead")
    _age(zone.state.root / "processing" / "run-dead" / "990011" / "a.csv")
    first = zone.take_over_stale("run-1")
    assert [(c.name, c.taken_over_from) for c in first] == [("a.csv", "run-dead")]
    assert zone.take_over_stale("run-2") == []


@pytest.fixture
def zone(s3):
    name = f"drop-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return S3DropZone(s3.client(), name, "inschrijvingen")


def test_s3_a_claim_marker_without_its_copy_is_taken_over_once_stale(zone, monkeypatch):
    zone.zone.write_key("inbox/990011/a.csv", b"x")
    with monkeypatch.context() as patch:
        patch.setattr(zone.client, "copy_object", lambda **kw: (_ for _ in ()).throw(SystemExit))
        with pytest.raises(SystemExit):
            zone.claim("990011/a.csv", "run-dead")  # the marker is written, the copy never happens
    assert zone.zone.list_keys("inbox/") == ["inbox/990011/a.csv"]
    assert zone.claim("990011/a.csv", "run-next") is None  # the marker is fresh: someone is on it

    zone.stale_after = 0  # as if two hours passed
    claimed = zone.claim("990011/a.csv", "run-later")
    assert claimed is not None and claimed.taken_over_from == "(claim marker)"
    assert zone.read(claimed) == b"x"
    assert zone.zone.list_keys("inbox/") == []


class _Snapshot:
    """A paginator that answers what the bucket held when it was made: a run that listed
    processing/ just before another run took the file over."""

    def __init__(self, client, bucket):
        self.client, self.bucket = client, bucket
        self.pages = {}

    def take(self, prefix):
        paginator = self.client.get_paginator("list_objects_v2")
        self.pages[prefix] = list(paginator.paginate(Bucket=self.bucket, Prefix=prefix))
        return self

    def paginate(self, Bucket, Prefix):  # boto3's argument names
        return self.pages[Prefix]


def test_s3_files_of_a_failed_run_are_taken_over_by_exactly_one_run(zone, monkeypatch):
    zone.zone.write_key("inbox/990011/a.csv", b"x")
    zone.claim("990011/a.csv", "run-dead")
    assert zone.take_over_stale("run-1") == []  # fresh
    zone.stale_after = 0
    before = _Snapshot(zone.client, zone.bucket).take("dropzone-state/processing/")
    [taken] = zone.take_over_stale("run-1")
    assert (taken.name, taken.taken_over_from) == ("a.csv", "run-dead")
    # run-2 still sees run-dead's file, but its conditional marker loses to run-1's
    monkeypatch.setattr(zone.client, "get_paginator", lambda name: before)
    assert zone.take_over_stale("run-2") == []
    monkeypatch.undo()
    assert zone.list_keys("processing/") == ["processing/run-1/990011/a.csv"]


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_written_key_is_never_overwritten(kind, tmp_path, request):
    zone = LocalDropZone(tmp_path) if kind == "local" else request.getfixturevalue("zone")
    zone.create_key("ledger/inschrijvingen/b.jsonl", b"first\n")
    with pytest.raises(KeyExists):
        zone.create_key("ledger/inschrijvingen/b.jsonl", b"second\n")
    assert zone.read_key("ledger/inschrijvingen/b.jsonl") == b"first\n"


def test_a_retry_of_the_same_run_keeps_the_first_tries_ledger(client, tmp_path, monkeypatch):
    """The retry's first batch holds other rows than the first try's: both stay recorded."""
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", make_csv([row(1)]))
    with monkeypatch.context() as patch:
        _crash_after_push(zone, patch)
        with pytest.raises(SystemExit):
            handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-r", ID_KEY))
    # the school adds a row to the file that is still claimed; the retry resumes it
    claimed = zone.state.root / "processing" / "run-r" / "990011" / "a.csv"
    claimed.write_bytes(make_csv([row(1), row(2)]))
    [outcome] = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-r", ID_KEY))
    assert outcome.counts["already_pushed"] == 1 and outcome.counts["pushed"] == 1
    ledger = Ledger(zone.list_keys, zone.read_key, zone.create_key).load()
    assert len(ledger.entries) == 2
