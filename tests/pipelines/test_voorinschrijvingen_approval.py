"""Voorinschrijvingen push: a large or sweeping file, or an instelling's first, waits for the
data team's yes (held in the state with a per-row preview), then goes out exactly once when
approved, or ends in failed/ with the school told when rejected or not answered in time. The
DAG's review (Airflow's approval) is in tests/dags/test_inschrijvingen_push.py."""

from __future__ import annotations

from informat_client import insz
from informat_devtools.s3 import LocalS3
from informat_pipelines.core import decisions
from informat_pipelines.voorinschrijvingen import (
    PushRun,
    VoorinschrijvingenSettings,
    deliver_pending,
    handle_drops,
    held,
    settle_held,
)
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
from informat_pipelines.voorinschrijvingen.s3_zone import S3DropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.voorinschrijvingen import ID_KEY, drop, make_csv, read_report, row

SETTINGS = VoorinschrijvingenSettings(
    contacts={"990011": "secretariaat@example.org", "990012": "klavertje@example.org"},
    alert_recipients=("data@example.org",),
    approval_rows=5,
    approval_updates=2,
)


def _run(zone, client, run_id: str) -> PushRun:
    return PushRun(zone, client, INSTELLINGSNUMMERS, run_id, ID_KEY)


def _stored(sandbox, instelling: str = "990011") -> dict:
    return sandbox.state.group.instellingen[instelling].preregistrations


def _first_push(zone, client, tmp_path) -> None:
    """990011 has pushed before (approved once): later small files need no yes."""
    drop(tmp_path, "eerste.csv", make_csv([row(100)]))
    assert handle_drops(_run(zone, client, "run-0"), SETTINGS, hold=True) == []
    settle_held(_run(zone, client, "run-0"), SETTINGS, decisions.APPROVED)


def test_a_file_over_approval_rows_is_pushed_only_after_approval(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    _first_push(zone, client, tmp_path)
    before = len(_stored(sandbox))
    rows = [row(n) for n in range(1, 8)] + [row(8, geslacht="?")]  # 8 rows > approval_rows 5
    drop(tmp_path, "groot.csv", make_csv(rows))

    assert handle_drops(_run(zone, client, "run-1"), SETTINGS, hold=True) == []
    assert len(_stored(sandbox)) == before  # not one row sent yet
    [(claimed, review)] = held.waiting(zone, "run-1")
    assert claimed.location == "held/run-1/990011/groot.csv"
    assert (zone.state.root / claimed.location).exists()
    assert review.reasons == ["8 rijen (meer dan approval_rows = 5)"]
    assert review.counts["pushed"] == 7 and review.counts["rejected"] == 1
    body = held.review_body(held.waiting(zone, "run-1"), 20)
    assert "inbox/990011/groot.csv" in body and "nieuw: 7, geweigerd: 1" in body
    assert "| 2 | nieuw |" in body and "| 9 | geweigerd | geslacht" in body  # file lines
    # statuses and reasons only: no name, no INSZ of any row
    for values in rows:
        assert values["naam"] not in body
        assert insz.normalize(values["rijksregisternummer"]) not in body.replace(".", "")
    # a run that pushes nothing held by another run never touches it
    assert handle_drops(_run(zone, client, "run-2"), SETTINGS, hold=True) == []
    assert held.waiting(zone, "run-1") and len(_stored(sandbox)) == before

    [outcome] = settle_held(_run(zone, client, "run-1"), SETTINGS, decisions.APPROVED)
    assert outcome.accepted and outcome.counts["pushed"] == 7
    assert len(_stored(sandbox)) == before + 7
    assert sandbox.state.stats["preregistrations_repeated"] == 0
    assert (zone.state.root / "processed" / "run-1" / "990011" / "groot.csv").exists()
    assert held.waiting(zone, "run-1") == [] and zone.list_keys(held.REVIEW_PREFIX) == []
    # answered once: settling again sends nothing
    assert settle_held(_run(zone, client, "run-1"), SETTINGS, decisions.APPROVED) == []
    assert len(_stored(sandbox)) == before + 7


def test_a_rejected_file_ends_in_failed_and_the_school_is_told(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    _first_push(zone, client, tmp_path)
    deliver_pending(zone, SETTINGS, lambda *m, **a: None, instellingsnummers=INSTELLINGSNUMMERS)
    before = len(_stored(sandbox))
    drop(tmp_path, "groot.csv", make_csv([row(n) for n in range(1, 8)]))
    handle_drops(_run(zone, client, "run-1"), SETTINGS, hold=True)

    [outcome] = settle_held(_run(zone, client, "run-1"), SETTINGS, decisions.REJECTED)
    assert not outcome.accepted and "afgewezen door het data-team" in outcome.message
    assert outcome.problem == ""  # the data team decided it: no alarm for them
    assert len(_stored(sandbox)) == before
    assert (zone.state.root / "failed" / "run-1" / "990011" / "groot.csv").exists()
    [line] = read_report(outcome.report)
    assert line["status"] == "geweigerd" and "afgewezen door het data-team" in line["reden"]
    sent = []
    deliver_pending(
        zone, SETTINGS, lambda *m, **a: sent.append(m), instellingsnummers=INSTELLINGSNUMMERS
    )
    [(to, subject, body)] = sent
    assert to == ("secretariaat@example.org",) and "groot.csv niet verwerkt" in subject
    assert "afgewezen door het data-team" in body


def test_no_answer_in_time_fails_the_file_and_tells_the_data_team_too(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "eerste.csv", make_csv([row(1)]))
    handle_drops(_run(zone, client, "run-1"), SETTINGS, hold=True)
    assert decisions.decision_of({"chosen_options": ["Reject"], "timedout": True}) == "timeout"
    [outcome] = settle_held(_run(zone, client, "run-1"), SETTINGS, decisions.TIMED_OUT)
    assert "niet op tijd goedgekeurd" in outcome.message and _stored(sandbox) == {}
    sent = []
    deliver_pending(
        zone, SETTINGS, lambda *m, **a: sent.append(m), instellingsnummers=INSTELLINGSNUMMERS
    )
    assert sorted(m[0] for m in sent) == [("data@example.org",), ("secretariaat@example.org",)]


def test_a_small_file_of_an_instelling_that_pushed_before_goes_out_at_once(
    client, sandbox, tmp_path
):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    _first_push(zone, client, tmp_path)
    before = len(_stored(sandbox))
    drop(tmp_path, "klein.csv", make_csv([row(n) for n in range(1, 6)]))  # 5: not over 5
    [outcome] = handle_drops(_run(zone, client, "run-1"), SETTINGS, hold=True)
    assert outcome.accepted and outcome.counts["pushed"] == 5
    assert len(_stored(sandbox)) == before + 5 and held.waiting(zone, "run-1") == []


def test_the_first_file_of_a_new_instelling_waits(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    _first_push(zone, client, tmp_path)  # another instelling's pushes do not count
    drop(tmp_path, "klaver.csv", make_csv([row(1, instellingsnummer="990012")]), "990012")
    assert handle_drops(_run(zone, client, "run-1"), SETTINGS, hold=True) == []
    [(_, review)] = held.waiting(zone, "run-1")
    assert review.reasons == ["eerste bestand van instelling 990012: nog nooit doorgestuurd"]
    assert _stored(sandbox, "990012") == {}
    [outcome] = settle_held(_run(zone, client, "run-1"), SETTINGS, decisions.APPROVED)
    assert outcome.counts["pushed"] == 1 and len(_stored(sandbox, "990012")) == 1
    # from now on 990012 has pushed: its next small file goes out at once
    drop(tmp_path, "klaver2.csv", make_csv([row(2, instellingsnummer="990012")]), "990012")
    [outcome] = handle_drops(_run(zone, client, "run-2"), SETTINGS, hold=True)
    assert outcome.counts["pushed"] == 1


def test_a_resave_changing_more_than_approval_updates_waits(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    _first_push(zone, client, tmp_path)
    drop(tmp_path, "a.csv", make_csv([row(n) for n in range(1, 5)]))
    handle_drops(_run(zone, client, "run-1"), SETTINGS, hold=True)
    before = {k: dict(v) for k, v in _stored(sandbox).items()}
    # the same four pupils, three of them with another vestiging: three changes > 2
    changed = [row(n, vestiging="2") for n in range(1, 4)] + [row(4)]
    drop(tmp_path, "a.csv", make_csv(changed))
    assert handle_drops(_run(zone, client, "run-2"), SETTINGS, hold=True) == []
    [(_, review)] = held.waiting(zone, "run-2")
    assert review.reasons == [
        "zou 3 al doorgestuurde voorinschrijvingen wijzigen (meer dan approval_updates = 2)"
    ]
    assert review.counts["updated"] == 3 and review.counts["already_pushed"] == 1
    assert {k: v["saves"] for k, v in _stored(sandbox).items()} == {
        k: v["saves"] for k, v in before.items()
    }
    # two changes are not over the threshold: they go out at once
    drop(tmp_path, "b.csv", make_csv([row(n, vestiging="3") for n in range(1, 3)]))
    [outcome] = handle_drops(_run(zone, client, "run-3"), SETTINGS, hold=True)
    assert outcome.counts["updated"] == 2


def test_a_file_with_nothing_to_send_never_waits(client, sandbox, tmp_path):
    """A new instelling's file whose every row is refused has nothing to approve: the school
    gets its report now."""
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "fout.csv", make_csv([row(n, geslacht="?") for n in range(1, 9)]))
    [outcome] = handle_drops(_run(zone, client, "run-1"), SETTINGS, hold=True)
    assert outcome.counts["rejected"] == 8 and held.waiting(zone, "run-1") == []


def test_without_hold_every_file_goes_out_as_before(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "groot.csv", make_csv([row(n) for n in range(1, 8)]))
    [outcome] = handle_drops(_run(zone, client, "run-1"), SETTINGS)
    assert outcome.counts["pushed"] == 7 and len(_stored(sandbox)) == 7


def test_a_held_file_in_a_bucket_stays_in_the_state_until_approved(client, sandbox):
    """The S3 drop zone keeps a held file under the state's prefix (out of the schools' reach)
    and pushes it from there once approved."""
    with LocalS3() as s3:
        zone = S3DropZone(s3.client(), "informat-data", "inschrijvingen")
        s3.client().put_object(
            Bucket="informat-data", Key="inschrijvingen/inbox/990011/a.csv",
            Body=make_csv([row(1), row(2)]),
        )  # fmt: skip
        assert handle_drops(_run(zone, client, "run-1"), SETTINGS, hold=True) == []
        [(claimed, review)] = held.waiting(zone, "run-1")
        assert claimed.location == "dropzone-state/held/run-1/990011/a.csv"
        assert review is not None and review.counts["pushed"] == 2
        assert _stored(sandbox) == {} and zone.inbox() == []
        [outcome] = settle_held(_run(zone, client, "run-1"), SETTINGS, decisions.APPROVED)
        assert outcome.counts["pushed"] == 2 and len(_stored(sandbox)) == 2
        assert outcome.final_location.endswith("dropzone-state/processed/run-1/990011/a.csv")
        assert zone.list_keys("held") == []
