"""Voorinschrijvingen push: the parser on hostile files, validation, exactly-once push with the
ledger, the drop zones' claims, and the DAG from drop to report and mail."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from informat_client import insz
from informat_devtools.s3 import LocalS3
from informat_pipelines.voorinschrijvingen import (
    FileRejected,
    PushRun,
    VoorinschrijvingenSettings,
    handle_drops,
    neutralise,
    parse,
    validate,
)
from informat_pipelines.voorinschrijvingen.local_zone import LocalDropZone
from informat_pipelines.voorinschrijvingen.s3_zone import S3DropZone

from ..conftest import INSTELLINGSNUMMERS
from ..support.voorinschrijvingen import HEADER, ID_KEY, drop, letters, make_csv, read_report, row

# --------------------------------------------------------------- hostile files


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom", "newline"),
    [
        (";", "utf-8", False, "\r\n"),
        (";", "utf-8", True, "\n"),
        (",", "utf-8", False, "\n"),
        (";", "cp1252", False, "\r\n"),
        (",", "cp1252", False, "\r"),
    ],
)
def test_encodings_delimiters_and_line_endings_are_read(delimiter, encoding, bom, newline):
    raw = make_csv(
        [row(1, naam="Françoise"), row(2, naam="Müller")], delimiter, encoding, bom, newline
    )
    used, rows = parse(raw + newline.encode() * 3)  # trailing empty lines
    assert used == delimiter
    assert [r.values["naam"] for r in rows] == ["Françoise", "Müller"]
    assert [r.number for r in rows] == [2, 3]


def test_mixed_line_endings_spaces_dates_and_insz_forms():
    rows = [
        row(1, geboortedatum="3-4-2019", rijksregisternummer=insz.make(date(2019, 4, 3), 4)),
        row(2, geboortedatum="2019-04-05", naam="  Claes  "),
        row(3, geboortedatum="05/04/2019"),
    ]
    raw = make_csv(rows).replace(b"\r\n", b"\n", 1)
    _, parsed = parse(raw)
    checked = validate(parsed, INSTELLINGSNUMMERS, id_key=ID_KEY)
    assert [c.problems for c in checked] == [[], [], []]
    assert checked[0].body["dateOfBirth"] == "2019-04-03"
    assert checked[1].body["lastName"] == "Claes"
    assert checked[2].body["insz"].isdigit() and len(checked[2].body["insz"]) == 11


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "leeg"),
        (b"\n\n  \n", "leeg"),
        (";".join(HEADER).encode() + b"\r\n", "alleen een kopregel"),
        (bytes(range(256)) * 8, "geen tekstbestand"),
        (b"\xff\xfe" + "naam".encode("utf-16-le") + b"\x00\xd8", "UTF-16"),
        (b"naam;voornaam;schoenmaat\nA;B;42\n", "Onbekende kolom"),
        (b"just some words without columns\n", "kopregel"),
        (b"%PDF-1.4\n\x00\x01\x02binary", "geen tekstbestand"),
    ],
)
def test_files_rejected_as_a_whole_with_one_clear_message(raw, message):
    with pytest.raises(FileRejected, match=message):
        parse(raw)


def test_row_problems_are_named_per_row():
    rows = [
        row(1, geslacht="X"),
        row(2, rijksregisternummer="19.01.03-002.00"),
        row(3, geboortedatum="31/02/2019"),
        row(4, instellingsnummer="123456"),
        row(5, schooljaar="2026"),
        row(6, naam=""),
        row(7),
        row(7),  # the same pupil twice
        row(8, thuisloos="misschien"),
    ]
    _, parsed = parse(make_csv(rows))
    problems = [c.problems for c in validate(parsed, INSTELLINGSNUMMERS, id_key=ID_KEY)]
    assert "geslacht: gebruik M of V" in problems[0]
    assert any("rijksregisternummer is ongeldig" in p for p in problems[1])
    assert "geboortedatum: geen geldige datum (dd/mm/jjjj)" in problems[2]
    assert any("buiten de toegang" in p for p in problems[3])
    assert any("schooljaar" in p for p in problems[4])
    assert "naam ontbreekt" in problems[5]
    assert problems[6] == []
    assert problems[7] == ["dubbel in het bestand: dezelfde leerling als rij 8"]
    assert "thuisloos moet ja of nee zijn" in problems[8]


def test_same_row_same_pre_registration_id():
    _, first = parse(make_csv([row(1)]))
    _, again = parse(make_csv([row(1)], delimiter=",", encoding="cp1252"))
    a = validate(first, INSTELLINGSNUMMERS, id_key=ID_KEY)[0].pre_registration_id
    b = validate(again, INSTELLINGSNUMMERS, id_key=ID_KEY)[0].pre_registration_id
    assert a == b


def test_formula_cells_are_neutralised():
    for cell in ('=HYPERLINK("x")', "+32", "-1", "@SUM(A1)"):
        assert neutralise(cell).startswith("'")
    assert neutralise("Peeters") == "Peeters"


def test_fifty_thousand_rows_parse_and_validate():
    rows = [row(n, naam=f"N-{letters(n)}", rijksregisternummer="") for n in range(50_000)]
    raw = make_csv(rows)
    _, parsed = parse(raw)
    checked = validate(parsed, INSTELLINGSNUMMERS, id_key=ID_KEY)
    assert len(checked) == 50_000 and all(not c.problems for c in checked)
    assert len({c.pre_registration_id for c in checked}) == 50_000


# ---------------------------------------------------------------- push & ledger


def test_exactly_once_with_api_failing_half_way_and_a_redrop(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    rows = [row(n) for n in range(1, 41)] + [row(99, geslacht="Q")]
    raw = make_csv(rows)
    # the API fails for good after 20 voorinschrijvingen: 5xx on every later save
    sandbox.set_faults(
        script=[{"match": "/preregistrations/save", "after": 20, "times": 10_000, "status": 503}]
    )
    client.config = client.config.with_overrides(max_attempts=2)
    drop(tmp_path, "klas1.csv", raw)
    settings = VoorinschrijvingenSettings(batch_size=10, concurrency=1)
    first = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-1", ID_KEY), settings)
    assert first[0].counts == {
        "pushed": 20, "updated": 0, "already_pushed": 0, "locked": 0, "rejected": 1, "failed": 20
    }  # fmt: skip
    report = read_report(first[0].report)
    assert report[0]["status"] == "doorgestuurd" and report[0]["informat_id"]
    assert report[-1]["status"] == "geweigerd" and "geslacht" in report[-1]["reden"]
    # after five failures in a row Informat is taken to be down: the rest is not even tried,
    # the file stays in the inbox for the next run, and the data team is told (problem)
    assert first[0].problem == "outage"
    assert sum(1 for r in report if r["reden"].startswith("niet verstuurd")) == 15
    assert (tmp_path / "inbox" / "990011" / "klas1.csv").exists()
    assert not (zone.state.root / "processed" / "run-1").exists()

    # Informat is back; the next run takes the file from the inbox again
    sandbox.set_faults()
    settings = VoorinschrijvingenSettings(batch_size=10)
    second = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-2", ID_KEY), settings)
    assert second[0].counts == {
        "pushed": 20, "updated": 0, "already_pushed": 20, "locked": 0, "rejected": 1, "failed": 0
    }  # fmt: skip
    assert (zone.state.root / "processed" / "run-2" / "990011" / "klas1.csv").exists()
    stored = sandbox.state.group.instellingen["990011"].preregistrations
    assert len(stored) == 40  # every valid row exactly once
    assert sandbox.state.stats["preregistrations_repeated"] == 0  # none was even sent twice

    # and once more: nothing is pushed, and the report says so
    drop(tmp_path, "klas1.csv", raw)
    third = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-3", ID_KEY))
    assert third[0].counts["pushed"] == 0 and third[0].counts["already_pushed"] == 40
    assert len(stored) == 40


def test_rejected_file_ends_in_failed_with_a_report(client, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "leeg.csv", b"")
    outcome = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-x", ID_KEY))[0]
    assert not outcome.accepted and "leeg" in outcome.message
    assert (zone.state.root / "failed" / "run-x" / "990011" / "leeg.csv").exists()
    assert "leeg" in read_report(outcome.report)[0]["reden"]


def test_local_claim_is_taken_by_one_run_only(tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", b"x")
    winners = []
    barrier = threading.Barrier(8)

    def race(n):
        barrier.wait()
        if zone.claim("990011/a.csv", f"run-{n}"):
            winners.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_half_written_local_file_is_left_alone(tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=60)
    (tmp_path / "inbox" / "990011").mkdir()
    (tmp_path / "inbox" / "990011" / "bezig.csv").write_bytes(b"half")  # just written
    (tmp_path / "inbox" / "990011" / "upload.csv.part").write_bytes(b"half")
    assert zone.inbox() == []


def test_s3_claim_is_taken_by_one_run_only_and_a_redrop_is_a_new_drop():
    with LocalS3() as s3:
        zone = S3DropZone(s3.client(), "informat-data", "inschrijvingen")
        key = "inschrijvingen/inbox/990011/a.csv"
        s3.client().put_object(Bucket="informat-data", Key=key, Body=b"1")
        assert zone.inbox() == ["990011/a.csv"]
        results = []
        barrier = threading.Barrier(6)

        def race(n):
            barrier.wait()
            results.append(zone.claim("990011/a.csv", f"run-{n}"))

        threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        claimed = [c for c in results if c]
        assert len(claimed) == 1
        assert zone.inbox() == []
        assert zone.read(claimed[0]) == b"1"
        done = zone.finish(claimed[0], ok=True)
        assert done == f"s3://informat-data/dropzone-state/processed/{claimed[0].run}/990011/a.csv"


def test_a_retried_run_resumes_the_file_it_had_claimed(client, sandbox, tmp_path):
    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "k.csv", make_csv([row(1), row(2)]))
    assert zone.claim("990011/k.csv", "run-r") is not None  # claimed, then the worker died
    assert zone.inbox() == []
    outcome = handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-r", ID_KEY))
    assert [o.name for o in outcome] == ["k.csv"] and outcome[0].counts["pushed"] == 2
    assert (zone.state.root / "processed" / "run-r" / "990011" / "k.csv").exists()


def test_schools_are_told_per_file_with_counts_and_escaped_messages():
    from informat_pipelines.voorinschrijvingen import (
        FileOutcome,
        VoorinschrijvingenSettings,
        tell_schools,
    )

    settings = VoorinschrijvingenSettings.from_mapping(
        {"contacts": {"990011": "a@example.org"}, "fallback_contact": "data@example.org"}
    )
    counts = {"pushed": 2, "already_pushed": 0, "rejected": 1, "failed": 0}
    outcomes = [
        FileOutcome("a.csv", "r", True, "verwerkt", counts, ["990011"], "outbox/a", "p/a.csv"),
        FileOutcome("b.csv", "r", False, "Kolom <x> onbekend", {}, [], "outbox/b", "f/b.csv"),
    ]
    sent = []
    tell_schools(outcomes, settings, lambda to, subject, body: sent.append((to, subject, body)))
    assert [(to, subject) for to, subject, _ in sent] == [
        (("a@example.org",), "[Informat] Inschrijvingen uit a.csv: 2 doorgestuurd, "
         "1 geweigerd, 0 mislukt"),
        (("data@example.org",), "[Informat] Bestand b.csv niet verwerkt"),
    ]  # fmt: skip
    assert "Kolom &lt;x&gt; onbekend" in sent[1][2]
    with pytest.raises(ValueError, match="unknown inschrijvingen settings"):
        VoorinschrijvingenSettings.from_mapping({"contact": "typo@example.org"})


def test_two_files_of_one_run_keep_every_ledger_entry(client, tmp_path):
    from informat_pipelines.voorinschrijvingen import Ledger

    zone = LocalDropZone(tmp_path, settle_seconds=0)
    drop(tmp_path, "a.csv", make_csv([row(1), row(2)]))
    drop(tmp_path, "b.csv", make_csv([row(3)]))
    handle_drops(PushRun(zone, client, INSTELLINGSNUMMERS, "run-1", ID_KEY))
    ledger = Ledger(zone.list_keys, zone.read_key, zone.write_key).load()
    assert sorted((e["file"], e["row"]) for e in ledger.entries.values()) == [
        ("a.csv", 2), ("a.csv", 3), ("b.csv", 2),
    ]  # fmt: skip


def test_the_pre_registration_id_is_keyed_with_the_school_groups_secret():
    """With a public namespace anyone knowing a child's INSZ could compute
    its id; with a keyed hash the id is stable for the school group and unknowable to others."""
    import uuid

    from informat_pipelines.voorinschrijvingen import pre_registration_id

    parsed = parse(make_csv([row(1)]))[1]
    ours = validate(parsed, INSTELLINGSNUMMERS, id_key=ID_KEY)[0].pre_registration_id
    again = validate(parsed, INSTELLINGSNUMMERS, id_key=ID_KEY)[0].pre_registration_id
    other = validate(parsed, INSTELLINGSNUMMERS, id_key=b"another-school-group-key-of-32-bytes")
    assert ours == again != other[0].pre_registration_id
    assert uuid.UUID(ours).version == 4
    with pytest.raises(ValueError, match="at least 32 bytes"):
        pre_registration_id("identity", b"short")
