"""The data that provisioning needs, without Airflow: classes, class memberships and class
teachers built from one read of the registrations, staff assignments, interruptions and own
fields read from Personeel, and who is at school today (staff_status, pupil_status), each landed,
validated with its own suite and published to clean/ or quarantine/."""

from __future__ import annotations

import datetime as dt
import io
import json

import pyarrow.parquet as pq
import pytest

from informat_pipelines.extract import status_tables
from informat_pipelines.extract.batch import extract_batch, extractor, is_derived, plan
from informat_pipelines.extract.derived import (
    BUILDERS,
    SourceNotClean,
    derive_partition,
    deriver,
)
from informat_pipelines.extract.landing import land
from informat_pipelines.extract.quality import validate
from informat_pipelines.extract.schemas import ENTITIES
from informat_pipelines.extract.settings import ExtractSettings
from informat_pipelines.extract.shapes import Partition, RunContext

DAY = dt.date(2026, 11, 28)
YEAR = "2026-27"
KEY = b"k" * 32
SETTINGS = ExtractSettings(insz_mode="pseudonymise", snapshot_weekday=None)
NEW = (
    "assignments", "interruptions", "own_fields", "classes", "class_memberships",
    "class_teachers", "staff_status", "pupil_status",
)  # fmt: skip


def landed(tmp_path, entity, records, key="990011"):
    work = tmp_path / entity
    work.mkdir(parents=True, exist_ok=True)
    return land(
        records, Partition(entity, key, YEAR, DAY), work, RunContext(None, "", SETTINGS, KEY)
    )


def checked(tmp_path, entity, records):
    result = landed(tmp_path, entity, records)
    return validate(result, ENTITIES[entity], None, SETTINGS, DAY)


def derived_from_registrations(tmp_path, entity, registrations):
    """``entity`` built from these registrations (Informat's keys) as the extraction lands them."""
    source = landed(tmp_path, "registrations", registrations)
    assert source.problems == []
    rows = list(BUILDERS[entity]({"registrations": source.parquet_path}, DAY))
    return checked(tmp_path, entity, rows), rows


def element(klas_id, group_type=0, start="2026-09-01", end=None, teachers=("t1",), code="1A"):
    return {
        "inschrKlasId": f"m-{klas_id}-{start}",
        "pInschrKlas": 1,
        "klasId": klas_id,
        "pKlas": 7,
        "klasCode": f"{code} ",
        "klas": f"Klas {code}",
        "groepType": group_type,
        "klasnummer": 3,
        "begindatum": start,
        "einddatum": end,
        "klassenleraars": [{"persoonId": t} for t in teachers],
    }


def registration(number, *elements):
    return {
        "inschrijvingsId": f"r{number}",
        "pInschr": number,
        "pPersoon": number,
        "persoonId": f"p{number}",
        "instelnr": "990011",
        "begindatum": "2026-09-01",
        "inschrKlassen": list(elements),
    }


# --------------------------------------------------------------- against the sandbox


@pytest.fixture
def extracted(client, sandbox, s3, bucket):
    """One day's extraction of 990011 and its derived tables, GX in this process."""
    sandbox.reset(students=400, today=DAY.isoformat())
    year = sandbox.state.schooljaar
    store = s3.client()
    run = RunContext(store, bucket, SETTINGS, KEY, run_id="run-1")
    parts = plan(["990011"], [], year, DAY, derived=True)
    before = sandbox.stats()
    done, failed = extract_batch(
        [p for p in parts if not is_derived(p)], run, extractor(run), lambda: client
    )
    read = sandbox.stats()
    derived, failed_derived = extract_batch(
        [p for p in parts if is_derived(p)], run, deriver(run), lambda: _Nothing()
    )
    assert failed == failed_derived == []
    calls = {k: read[k] - before.get(k, 0) for k in read if read[k] != before.get(k, 0)}
    assert sandbox.stats() == read  # the derived tables read nothing from Informat

    def table(entity):
        (outcome,) = [o for o in done + derived if o["entity"] == entity]
        body = store.get_object(Bucket=bucket, Key=outcome["keys"]["clean"])["Body"].read()
        return pq.read_table(io.BytesIO(body)).to_pylist()

    return {
        "outcomes": done + derived,
        "table": table,
        "inst": sandbox.state.group.instellingen["990011"],
        "calls": calls,
    }


class _Nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_every_new_table_lands_in_clean_with_its_suite(extracted):
    outcomes = {o["entity"]: o for o in extracted["outcomes"]}
    assert set(NEW) <= set(outcomes)
    for entity in NEW:
        outcome = outcomes[entity]
        assert outcome["success"], (entity, outcome["failed"])
        assert outcome["keys"]["clean"].startswith(f"clean/{entity}/schooljaar=")
        assert "instelling=990011/date=2026-11-28/data.parquet" in outcome["keys"]["clean"]
        assert outcome["evaluated"] > 5 and outcome["rows"] > 0, entity
    # the registrations were read once (one listing, paged): the class tables came from them
    # (one page at the client's page size)
    assert extracted["calls"]["GET leerlingen/registrations"] == 1


def test_classes_memberships_and_teachers_are_what_the_registrations_hold(extracted):
    inst, table = extracted["inst"], extracted["table"]
    elements = [(r, e) for r in inst.registrations for e in r["inschrKlassen"]]
    classes = table("classes")
    assert sorted(c["classId"] for c in classes) == sorted({e["klasId"] for _, e in elements})
    assert {c["groupType"] for c in classes} == {0, 1, 3}
    assert all(c["classCode"] == c["classCode"].strip() for c in classes)
    assert {c["instituteNo"] for c in classes} == {"990011"}
    memberships = table("class_memberships")
    assert len(memberships) == len(elements)
    assert {(m["registrationId"], m["classId"]) for m in memberships} == {
        (r["inschrijvingsId"], e["klasId"]) for r, e in elements
    }
    teachers = {(t["classId"], t["personId"]) for t in table("class_teachers")}
    expected = {(e["klasId"], t["persoonId"]) for _, e in elements for t in e["klassenleraars"]}
    assert teachers == expected and len(table("class_teachers")) == len(expected)
    staff = {e["personId"] for e in inst.employees}
    assert {person for _, person in teachers} <= staff


def test_staff_status_counts_follow_the_seeded_situations(extracted):
    from informat_sandbox.staff import situations

    inst = extracted["inst"]
    rows = extracted["table"]("staff_status")
    seeded = situations(len(inst.employees))  # what the sandbox gave its staff, in some order
    assert {"fulltime_leave", "ended", "partial_leave", "not_at_school", "sick"} <= set(seeded)
    assert len(rows) == len(seeded) and {r["day"] for r in rows} == {DAY}
    by_status: dict[str, list[str]] = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row["reason"])
    # full-time leave on the only assignment; the assignment ended two weeks ago, and
    # ActiefOpSchool = Neen; the rest (partial leave, sick, unlinked leave, ...) active
    assert len(by_status["on_leave"]) == seeded.count("fulltime_leave")
    assert sorted(by_status["ended"]) == sorted(
        ["no open assignment"] * seeded.count("ended") + ["own field ActiefOpSchool: not at school"]
    )
    assert len(by_status["active"]) == len(rows) - len(by_status["on_leave"]) - len(
        by_status["ended"]
    )
    assert by_status["active"].count("full-time leave on some open assignments") == 1
    assert {r["personId"] for r in rows} == {e["personId"] for e in inst.employees}


def test_pupil_status_finds_the_pupils_without_a_class_today(extracted):
    inst = extracted["inst"]
    rows = extracted["table"]("pupil_status")
    pupils = {r["persoonId"] for r in inst.registrations}
    assert {r["personId"] for r in rows} == pupils and len(rows) == len(pupils)
    no_class = [r for r in rows if r["status"] == "no_class"]
    assert len(no_class) == max(1, round(len(inst.registrations) * 0.03))
    assert all(r["classId"] is None for r in no_class)
    main = {
        r["persoonId"]: e["klasId"]
        for r in inst.registrations
        for e in r["inschrKlassen"]
        if e["groepType"] == 0 and e["einddatum"] is None and e["begindatum"] <= DAY.isoformat()
    }
    in_class = {r["personId"]: r["classId"] for r in rows if r["status"] == "in_class"}
    assert in_class == main


def test_the_roster_export_reads_the_tables_as_extracted(extracted, s3, bucket, sandbox):
    """The export's contract (CONTRACT-TABLES.md) met by the real tables: every pupil without a
    class today and every member of staff not active today is left out with the status's
    reason, and the export passes its own checks."""
    from informat_pipelines.roster_export import export
    from informat_pipelines.roster_export.settings import RosterSettings

    table, year = extracted["table"], sandbox.state.schooljaar
    settings = RosterSettings.from_mapping(
        {
            "instellingen": {"990011": {"approved_by": "DPO", "approved_on": "2026-11-20"}},
            "sign_in": {
                "student": "{firstName}.{lastName}@leerling.example",
                "teacher": "school_email",
            },
        }
    )
    summary = export.run(export.Target(s3.client(), bucket, year, DAY), ["990011"], settings)
    (school,) = summary["schools"]
    assert school["state"] == "published", school
    pupils = table("pupil_status")
    staff = table("staff_status")
    left_out = school["left_out"]
    assert left_out["student: no class today"] == sum(p["status"] == "no_class" for p in pupils)
    assert left_out.get("teacher: ended", 0) == sum(s["status"] == "ended" for s in staff)
    assert left_out.get("teacher: on leave", 0) == sum(s["status"] == "on_leave" for s in staff)


# ------------------------------------------------------------------ bad records fail


def test_a_group_type_outside_0_1_3_fails_classes_and_memberships(tmp_path):
    registrations = [registration(1, element("k1")), registration(2, element("k7", 7))]
    for entity in ("classes", "class_memberships"):
        result, _ = derived_from_registrations(tmp_path / entity, entity, registrations)
        assert not result.success
        assert "expect_column_values_to_be_in_set (groupType): 1 unexpected" in result.failed


def test_a_key_twice_fails_every_new_table(tmp_path):
    """Each table's key (a compound one as a whole) must be unique in its partition."""
    twice = {
        "assignments": [{"id": "a1", "personId": "p1"}, {"id": "a1", "personId": "p2"}],
        "interruptions": [{"doId": "d1", "personId": "p1"}, {"doId": "d1", "personId": "p1"}],
        "own_fields": [
            {"personId": "p1", "vvId": "v1", "naam": "x", "waarde": 3},
            {"personId": "p1", "vvId": "v1", "naam": "x", "waarde": 4},
        ],
        "class_teachers": [{"classId": "k1", "personId": "t1"}] * 2,
        "staff_status": [{"personId": "p1", "status": "active"}] * 2,
        "pupil_status": [{"personId": "p1", "status": "no_class"}] * 2,
    }
    for entity, records in twice.items():
        result = checked(tmp_path, entity, records)
        assert not result.success, entity
        assert any("unique" in f for f in result.failed), (entity, result.failed)
        assert checked(tmp_path / "once", entity, records[:1]).success, entity
    # a class twice in one registration: the membership's key (registration, class) twice
    result, _ = derived_from_registrations(
        tmp_path / "m", "class_memberships", [registration(1, element("k1"), element("k1"))]
    )
    assert not result.success
    assert any("compound_columns_to_be_unique (registrationId+classId)" in f for f in result.failed)
    # a class described two ways by its pupils: two rows with one classId
    result, rows = derived_from_registrations(
        tmp_path / "c",
        "classes",
        [registration(1, element("k1", code="1A")), registration(2, element("k1", code="1B"))],
    )
    assert len(rows) == 2 and not result.success
    assert any("unique (classId)" in f for f in result.failed)


def test_a_status_outside_its_set_fails(tmp_path):
    bad = checked(tmp_path, "staff_status", [{"personId": "p1", "status": "retired"}])
    assert "expect_column_values_to_be_in_set (status): 1 unexpected" in bad.failed
    good = checked(tmp_path / "g", "staff_status", [{"personId": "p1", "status": "on_leave"}])
    assert good.success, good.failed


def test_listings_a_school_may_leave_empty_pass_empty_the_others_do_not(tmp_path):
    for entity in ("interruptions", "own_fields", "class_teachers"):
        assert checked(tmp_path, entity, []).success, entity
    for entity in ("assignments", "classes", "staff_status"):
        assert not checked(tmp_path, entity, []).success, entity


def test_interruption_moments_land_as_days_and_values_as_text(tmp_path):
    result = landed(
        tmp_path,
        "interruptions",
        [
            {
                "doId": "d1",
                "personId": "p1",
                "code": "197",
                "begindatum": "2026-10-29T00:00:00",
                "einddatum": "2027-01-31T00:00:00",
            }
        ],
    )
    assert result.problems == []
    row = pq.read_table(result.parquet_path).to_pylist()[0]
    assert (row["startDate"], row["endDate"]) == (dt.date(2026, 10, 29), dt.date(2027, 1, 31))
    fields = landed(tmp_path, "own_fields", [{"personId": "p", "vvId": "v", "waarde": 12}])
    assert pq.read_table(fields.parquet_path).to_pylist()[0]["value"] == "12"
    assignments = landed(tmp_path, "assignments", [{"id": "a", "personId": "p", "uren": 11}])
    assert pq.read_table(assignments.parquet_path).to_pylist()[0]["hours"] is None


# ------------------------------------------------------------------------ the rules


def assignment(start="2026-09-01", end="2027-08-31", leave=()):
    return {
        "startDate": dt.date.fromisoformat(start) if start else None,
        "endDate": dt.date.fromisoformat(end) if end else None,
        "replacements": [{"assignmentId": "a", "interruptionId": i} for i in leave],
    }


def test_staff_status_rules_in_their_order():
    reason = status_tables.staff_reason
    leave = {"fulltime"}
    fine, neen = (True, False), (True, True)
    assert reason([], fine, leave, DAY) == ("ended", "no open assignment")
    assert reason([assignment(end="2026-11-27")], fine, leave, DAY)[0] == "ended"
    assert reason([assignment(end="2026-11-28")], fine, leave, DAY)[0] == "active"  # last day
    assert reason([assignment(start="2026-12-01")], fine, leave, DAY) == (
        "ended",
        "assignment not begun yet",
    )
    assert reason([assignment(end=None)], (False, False), leave, DAY)[0] == "ended"
    # ActiefOpSchool = Neen goes before leave
    on_leave = [assignment(leave=["fulltime"])]
    assert reason(on_leave, neen, leave, DAY)[1] == "own field ActiefOpSchool: not at school"
    assert reason(on_leave, fine, leave, DAY)[0] == "on_leave"
    # leave on one of two open assignments; an ended assignment on leave does not count
    assert reason([*on_leave, assignment()], fine, leave, DAY) == (
        "active",
        "full-time leave on some open assignments",
    )
    assert reason([*on_leave, assignment(end="2026-11-01")], fine, leave, DAY)[0] == "on_leave"
    # linked, but not full-time leave open today (sick, or leave that ended): active
    assert reason([assignment(leave=["sick"])], fine, leave, DAY) == ("active", "open assignment")


def test_full_time_leave_is_its_codes_open_today(tmp_path):
    def interruption(do_id, code, start, end):
        return {"doId": do_id, "personId": "p", "code": code, "begindatum": start, "einddatum": end}

    result = landed(
        tmp_path,
        "interruptions",
        [
            interruption("today", "200", "2026-11-01T00:00:00", "2026-12-01T00:00:00"),
            interruption("padded", "0209", "2026-11-28T00:00:00", "2026-11-28T00:00:00"),
            interruption("sick", "1", "2026-11-01T00:00:00", "2026-12-01T00:00:00"),
            interruption("past", "197", "2026-10-01T00:00:00", "2026-11-27T00:00:00"),
            interruption("open", "203", "2026-11-01T00:00:00", None),
        ],
    )
    assert status_tables._leave_today(result.parquet_path, DAY) == {"today", "padded", "open"}


def test_pupil_in_class_only_by_a_class_open_today(tmp_path):
    registrations = [
        registration(1, element("k1")),
        registration(2, element("sub", 1), element("olod", 3)),
        registration(3, element("k1", end="2026-11-27"), element("k2", start="2026-12-05")),
        registration(4),
        registration(5, element("k1", end="2026-11-27"), element("k3", start="2026-11-28")),
    ]
    result, rows = derived_from_registrations(tmp_path, "pupil_status", registrations)
    assert result.success, result.failed
    assert {r["personId"]: (r["status"], r["classId"]) for r in rows} == {
        "p1": ("in_class", "k1"),
        "p2": ("no_class", None),
        "p3": ("no_class", None),
        "p4": ("no_class", None),
        "p5": ("in_class", "k3"),
    }


# ----------------------------------------------------------- publishing and sources


def put_marker(store, bucket, entity, outcome):
    from informat_pipelines.extract.batch import marker_key

    part = Partition(entity, "990011", YEAR, DAY)
    body = json.dumps({"run_id": "r", "outcome": outcome}).encode()
    store.put_object(Bucket=bucket, Key=marker_key(part), Body=body)


def test_a_bad_derived_partition_goes_to_quarantine_not_clean(s3, bucket, tmp_path):
    store = s3.client()
    source = landed(tmp_path, "registrations", [registration(1, element("k7", 7))])
    key = f"clean/registrations/schooljaar={YEAR}/instelling=990011/date={DAY}/data.parquet"
    store.upload_file(source.parquet_path, bucket, key)
    put_marker(store, bucket, "registrations", {"success": True, "keys": {"clean": key}})
    run = RunContext(store, bucket, SETTINGS, KEY)
    outcome = derive_partition(run, Partition("classes", "990011", YEAR, DAY))
    assert not outcome["success"] and outcome["mode"] == "derived"
    assert outcome["keys"]["quarantine"].startswith("quarantine/classes/")
    listed = store.list_objects_v2(Bucket=bucket, Prefix="clean/classes/").get("KeyCount")
    assert listed == 0
    memberships = derive_partition(run, Partition("class_memberships", "990011", YEAR, DAY))
    assert not memberships["success"]


def test_a_source_skipped_skips_a_source_not_clean_fails(s3, bucket):
    store = s3.client()
    run = RunContext(store, bucket, SETTINGS, KEY)
    part = Partition("classes", "990011", YEAR, DAY)
    with pytest.raises(SourceNotClean, match="registrations 990011"):
        derive_partition(run, part)  # no marker: not extracted
    put_marker(store, bucket, "registrations", {"success": False, "keys": {"quarantine": "q"}})
    with pytest.raises(SourceNotClean):
        derive_partition(run, part)
    put_marker(store, bucket, "registrations", {"success": True, "skipped": "403"})
    outcome = derive_partition(run, part)
    assert outcome["success"] and "registrations was skipped" in outcome["skipped"]


def test_a_registrations_state_from_before_the_classes_column_is_read_in_full(
    client, sandbox, s3, bucket
):
    """A delta merged into a state without ``classes`` would leave the old records without
    classes: that state is replaced by a full read, once."""
    import pyarrow as pa

    from informat_pipelines.extract import delta
    from informat_pipelines.extract.partition import extract_partition

    sandbox.reset(students=60, today=DAY.isoformat())
    store = s3.client()
    settings = ExtractSettings(snapshot_weekday=6)
    run = RunContext(store, bucket, settings, KEY)
    part = Partition("registrations", "990011", sandbox.state.schooljaar, DAY)
    assert extract_partition(client, run, part)["mode"] == "full"
    state = delta.state_prefix(part.entity, part.schooljaar, part.key) + "/current.parquet"
    body = store.get_object(Bucket=bucket, Key=state)["Body"].read()
    old = pq.read_table(io.BytesIO(body)).drop_columns(["classes"])
    sink = pa.BufferOutputStream()
    pq.write_table(old, sink)
    store.put_object(Bucket=bucket, Key=state, Body=sink.getvalue().to_pybytes())
    next_day = Partition("registrations", "990011", part.schooljaar, DAY + dt.timedelta(days=2))
    outcome = extract_partition(client, run, next_day)
    assert outcome["mode"] == "full" and outcome["success"], outcome["failed"]
    again = Partition("registrations", "990011", part.schooljaar, DAY + dt.timedelta(days=3))
    assert extract_partition(client, run, again)["mode"] == "delta"


def test_the_new_entities_validate_in_the_great_expectations_process(tmp_path):
    """The DAG validates in a process of its own: that process imports this checkout's package
    (its PYTHONPATH is the folder above the package), so it knows the new entities."""
    from informat_pipelines.extract.validation_process import ValidationProcess

    with ValidationProcess() as validate_apart:
        for entity, record in (
            ("assignments", {"id": "a", "personId": "p"}),
            ("staff_status", {"personId": "p", "status": "gone"}),
        ):
            result = landed(tmp_path, entity, [record])
            apart = validate_apart(result, ENTITIES[entity], None, SETTINGS, DAY)
            here = validate(result, ENTITIES[entity], None, SETTINGS, DAY)
            assert apart == here, entity
