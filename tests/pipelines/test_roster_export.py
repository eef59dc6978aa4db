"""The roster export against a real S3 HTTP endpoint (moto's server on 127.0.0.1), from small
Parquet files of exactly the clean tables' columns (CONTRACT-TABLES.md), INSZ columns included so
that their absence from every written object means something."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from informat_pipelines.roster_export import export, report, safety
from informat_pipelines.roster_export.schema import (
    ONEROSTER,
    ONEROSTER_ALWAYS,
    SDS,
    SDS_ALWAYS,
    check_zip,
)
from informat_pipelines.roster_export.settings import RosterSettings

SJ = "2026-27"
DAY = date(2026, 11, 30)
INSZ_MARK = "INSZ-SECRET-85073003328"  # stands in for an INSZ and its hash: must never appear
PUPIL_PATTERN = "{firstName}.{lastName}@leerling.example"
APPROVED = {"approved_by": "DPO Scholengroep", "approved_on": "2026-11-20"}


def _put(s3, bucket, entity, instelling, day, rows, schema):
    key = f"clean/{entity}/schooljaar={SJ}/instelling={instelling}/date={day}/data.parquet"
    table = pa.Table.from_pylist(rows, schema=pa.schema(schema))
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=7)  # several row groups: the reader streams them
    s3.put_object(Bucket=bucket, Key=key, Body=out.getvalue())


def write_school(s3, bucket, instelling, day=DAY, pupils=40, leave=()):
    """One instelling's clean tables. Pupils P0..: in class K(i % 4); the 3rd is without a class
    today and the 5th's membership ended yesterday. Classes K0..K3 (groupType 0) and an empty
    K9. Staff E0..E5: E0-E3 teach K0-K3 (E3 also K9), E4 has no e-mail, E5 ended; those in
    ``leave`` are on leave. ``pupils`` pupils are written (a smaller number drops the others)."""
    nr, s = instelling, pa.string()
    d = pa.date32()
    ids = [f"{nr}P{i}" for i in range(pupils)]
    _put(s3, bucket, "students", nr, day, [
        {"personId": p, "pPersoon": i, "lastName": f"Van Dăm{i}", "firstName": f"Émile{i}",
         "dateOfBirth": date(2014, 1, 1) + timedelta(days=i), "sex": "MV"[i % 2],
         "inszHash": INSZ_MARK, "insz": INSZ_MARK, "instituteNo": nr}
        for i, p in enumerate(ids)
    ], [("personId", s), ("pPersoon", pa.int64()), ("lastName", s), ("firstName", s),
        ("dateOfBirth", d), ("sex", s), ("inszHash", s), ("insz", s),
        ("instituteNo", s)])  # fmt: skip
    _put(s3, bucket, "registrations", nr, day, [
        {"registrationId": f"R{p}", "personId": p, "instituteNo": nr, "schoolYear": SJ,
         "startDate": date(2026, 9, 1), "endDate": None, "classCode": "1A"} for p in ids
    ], [("registrationId", s), ("personId", s), ("instituteNo", s), ("schoolYear", s),
        ("startDate", d), ("endDate", d), ("classCode", s)])  # fmt: skip
    _put(s3, bucket, "employees", nr, day, [
        {"personId": f"{nr}E{i}", "pPersoon": 900 + i, "lastName": f"Leraar{i}",
         "firstName": "Jan", "email": None if i == 4 else f"jan{i}@{nr}.school.example",
         "isActive": True, "instituteNo": nr, "inszHash": INSZ_MARK}
        for i in range(6)
    ], [("personId", s), ("pPersoon", pa.int64()), ("lastName", s), ("firstName", s),
        ("email", s), ("isActive", pa.bool_()), ("instituteNo", s), ("inszHash", s)])  # fmt: skip
    classes = [f"K{i}" for i in range(4)] + ["K9"]
    _put(s3, bucket, "classes", nr, day, [
        {"classId": c, "classCode": f"{c}code", "className": f"Klas {c}", "groupType": 0,
         "instituteNo": nr, "schoolYear": SJ, "startDate": date(2026, 9, 1), "endDate": None}
        for c in classes
    ], [("classId", s), ("classCode", s), ("className", s), ("groupType", pa.int64()),
        ("instituteNo", s), ("schoolYear", s), ("startDate", d), ("endDate", d)])  # fmt: skip
    _put(s3, bucket, "class_memberships", nr, day, [
        {"personId": p, "registrationId": f"R{p}", "classId": f"K{i % 4}", "instituteNo": nr,
         "schoolYear": SJ, "startDate": date(2026, 9, 1),
         "endDate": day - timedelta(days=1) if i == 5 else None}
        for i, p in enumerate(ids)
    ], [("personId", s), ("registrationId", s), ("classId", s), ("instituteNo", s),
        ("schoolYear", s), ("startDate", d), ("endDate", d)])  # fmt: skip
    _put(s3, bucket, "class_teachers", nr, day, [
        {"classId": c, "personId": f"{nr}E{t}", "instituteNo": nr, "schoolYear": SJ}
        for c, t in [("K0", 0), ("K1", 1), ("K2", 2), ("K3", 3), ("K9", 3), ("K0", 5)]
    ], [("classId", s), ("personId", s), ("instituteNo", s), ("schoolYear", s)])  # fmt: skip
    staff = {f"{nr}E{i}": "active" for i in range(5)} | {f"{nr}E5": "ended"}
    staff |= {f"{nr}E{i}": "on_leave" for i in leave}
    _put(s3, bucket, "staff_status", nr, day, [
        {"personId": p, "instituteNo": nr, "day": day, "status": st, "reason": ""}
        for p, st in staff.items()
    ], [("personId", s), ("instituteNo", s), ("day", d), ("status", s), ("reason", s)])  # fmt: skip
    _put(s3, bucket, "pupil_status", nr, day, [
        {"personId": p, "instituteNo": nr, "day": day,
         "status": "no_class" if i == 3 else "in_class", "classId": None if i == 3 else f"K{i % 4}"}
        for i, p in enumerate(ids)
    ], [("personId", s), ("instituteNo", s), ("day", d), ("status", s),
        ("classId", s)])  # fmt: skip
    return ids


def expected_counts(pupils: int) -> dict:
    """What the clean tables above should give: pupils in class with a sign-in name, staff
    active today with a school e-mail, classes with at least one pupil, enrolments."""
    in_class = [i for i in range(pupils) if i != 3]
    active_memberships = [i for i in in_class if i != 5]
    classes = {i % 4 for i in active_memberships}
    return {
        "pupils": len(in_class),
        "staff": 4,  # E0-E3 (E4 without e-mail, E5 ended)
        "classes": len(classes),
        "student_enrolments": len(active_memberships),
        "teacher_enrolments": len(classes),  # E0-E3 teach one exported class each
    }


@pytest.fixture
def data_bucket(s3):
    name = f"data-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return name


def settings(**overrides) -> RosterSettings:
    values = {
        "instellingen": {"990011": APPROVED, "990013": APPROVED},
        "sign_in": {"student": PUPIL_PATTERN, "teacher": "school_email"},
    }
    return RosterSettings.from_mapping(values | overrides)


def target(s3, bucket, day=DAY) -> export.Target:
    return export.Target(s3.client(), bucket, SJ, day)


def read_zip(s3, bucket, key) -> dict[str, list[dict]]:
    body = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {
            n: list(csv.DictReader(io.StringIO(archive.read(n).decode("utf-8"))))
            for n in archive.namelist()
        }


def all_objects(s3, bucket) -> dict[str, bytes]:
    client = s3.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_files_pass_the_schema_and_counts_match_the_clean_layer(s3, data_bucket):
    write_school(s3.client(), data_bucket, "990011")
    summary = export.run(target(s3, data_bucket), ["990011"], settings())
    assert summary["schools"][0]["state"] == "published", summary
    for fmt, specs, always in (
        ("sds", SDS, SDS_ALWAYS),
        ("oneroster", ONEROSTER, ONEROSTER_ALWAYS),
    ):
        body = (
            s3.client()
            .get_object(Bucket=data_bucket, Key=f"exports/{fmt}/{DAY}/990011.zip")["Body"]
            .read()
        )
        assert check_zip(specs, always, body) == [], fmt
        latest = s3.client().get_object(Bucket=data_bucket, Key=f"exports/{fmt}/latest/990011.zip")
        assert latest["Body"].read() == body

    want = expected_counts(40)
    sds = read_zip(s3, data_bucket, f"exports/sds/{DAY}/990011.zip")
    roles = [r["role"] for r in sds["roles.csv"]]
    assert roles.count("student") == want["pupils"] and roles.count("teacher") == want["staff"]
    assert len(sds["users.csv"]) == want["pupils"] + want["staff"]
    assert len(sds["classes.csv"]) == want["classes"]  # K9 has no pupil: not exported
    enrolments = [r["role"] for r in sds["enrollments.csv"]]
    assert enrolments.count("student") == want["student_enrolments"]
    assert enrolments.count("teacher") == want["teacher_enrolments"]
    assert sds["orgs.csv"] == [
        {"sourcedId": "990011", "name": "Instelling 990011", "type": "school"}
    ]
    assert sds["academicSessions.csv"][0] == {
        "sourcedId": SJ, "title": f"Schooljaar {SJ}", "type": "schoolYear",
        "schoolYear": "2027", "startDate": "2026-09-01", "endDate": "2027-08-31",
    }  # fmt: skip
    assert {c["sourcedId"] for c in sds["classes.csv"]} == {f"990011-{SJ}-K{i}" for i in range(4)}
    pupil = next(u for u in sds["users.csv"] if u["sourcedId"] == "990011P7")
    assert pupil["username"] == "emile7.vandam7@leerling.example"  # ASCII, as the pattern says
    assert pupil["givenName"] == "Émile7"  # the name itself as Informat has it

    oneroster = read_zip(s3, data_bucket, f"exports/oneroster/{DAY}/990011.zip")
    manifest = {r["propertyName"]: r["value"] for r in oneroster["manifest.csv"]}
    assert manifest["oneroster.version"] == "1.2" and manifest["file.users"] == "bulk"
    assert manifest["file.demographics"] == "absent"
    assert len(oneroster["users.csv"]) == len(sds["users.csv"])
    assert {u["enabledUser"] for u in oneroster["users.csv"]} == {"true"}

    school = summary["schools"][0]
    assert school["left_out"] == {
        "student: no class today": 1,
        "teacher: no school e-mail": 1,
        "teacher: ended": 1,
        "class: no pupil enrolled today": 1,
        "class teacher: teacher not exported": 1,  # E5 (ended) still listed for K0
    }
    assert school["left_out_ids"]["teacher: ended"] == ["990011E5"]
    assert school["rows"]["sds"]["users.csv"] == len(sds["users.csv"])


def test_no_insz_and_no_birth_date_anywhere_without_demographics(s3, data_bucket):
    write_school(s3.client(), data_bucket, "990011")
    summary = export.run(target(s3, data_bucket), ["990011"], settings())
    report.record(s3.client(), data_bucket, summary)
    written = {k: v for k, v in all_objects(s3, data_bucket).items() if not k.startswith("clean/")}
    assert len(written) >= 5
    for key, body in written.items():
        text = body.decode("latin-1")
        if key.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                assert "demographics.csv" not in archive.namelist()
                text = "".join(archive.read(n).decode() for n in archive.namelist())
        assert INSZ_MARK not in text and "insz" not in text.lower(), key
        assert "2014-01-0" not in text, key  # no birth date
    assert "Émile" not in report.mail(summary)[1]  # the mail: counts, never a name


def test_demographics_only_when_the_settings_ask(s3, data_bucket):
    write_school(s3.client(), data_bucket, "990011")
    export.run(target(s3, data_bucket), ["990011"], settings(demographics=True))
    for fmt, specs in (("sds", SDS), ("oneroster", ONEROSTER)):
        body = s3.client().get_object(Bucket=data_bucket, Key=f"exports/{fmt}/{DAY}/990011.zip")
        assert check_zip(specs, ["demographics.csv"], body["Body"].read()) == []
    demographics = read_zip(s3, data_bucket, f"exports/sds/{DAY}/990011.zip")["demographics.csv"]
    first = next(d for d in demographics if d["userSourcedId"] == "990011P0")
    assert first == {"userSourcedId": "990011P0", "sex": "male", "birthDate": "2014-01-01"}
    oneroster = read_zip(s3, data_bucket, f"exports/oneroster/{DAY}/990011.zip")
    assert {r["propertyName"]: r["value"] for r in oneroster["manifest.csv"]}[
        "file.demographics"
    ] == "bulk"


def test_an_instelling_not_opted_in_exports_nothing(s3, data_bucket):
    write_school(s3.client(), data_bucket, "990011")
    write_school(s3.client(), data_bucket, "990013")
    only = settings(instellingen={"990013": APPROVED})
    summary = export.run(target(s3, data_bucket), ["990011", "990013"], only)
    states = {s["instelling"]: s["state"] for s in summary["schools"]}
    assert states == {"990011": "not_opted_in", "990013": "published"}
    keys = all_objects(s3, data_bucket)
    assert not [k for k in keys if k.startswith("exports/") and "990011" in k]
    assert summary["register"] == {"990013": APPROVED}


def test_a_school_losing_half_its_pupils_is_held_while_the_others_go_out(s3, data_bucket):
    client = s3.client()
    write_school(client, data_bucket, "990011")
    write_school(client, data_bucket, "990013")
    export.run(target(s3, data_bucket), ["990011", "990013"], settings())
    first = client.get_object(Bucket=data_bucket, Key="exports/sds/latest/990011.zip")
    first = first["Body"].read()

    nextday = DAY + timedelta(days=1)
    write_school(client, data_bucket, "990011", day=nextday, pupils=20)  # half the pupils gone
    write_school(client, data_bucket, "990013", day=nextday, pupils=39)  # one pupil gone
    summary = export.run(target(s3, data_bucket, nextday), ["990011", "990013"], settings())
    states = {s["instelling"]: s["state"] for s in summary["schools"]}
    assert states == {"990011": "held", "990013": "published"} and summary["held"] == ["990011"]
    assert "users would be dropped" in summary["schools"][0]["reason"]

    keys = all_objects(s3, data_bucket)
    assert f"exports/sds/{nextday}/990011.zip" not in keys  # held: not at the dated key
    assert keys["exports/sds/latest/990011.zip"] == first  # the last good one stays
    assert f"exports/sds/{nextday}/990013.zip" in keys
    dropped = list(csv.DictReader(io.StringIO(keys[f"exports/held/{nextday}/990011/dropped.csv"]
                                              .decode())))  # fmt: skip
    assert {tuple(r) for r in dropped} == {("kind", "sourcedId")}
    assert {r["sourcedId"] for r in dropped if r["kind"] == "user"} == {
        f"990011P{i}" for i in range(20, 40) if i != 3
    }

    export.release(target(s3, data_bucket, nextday), "990011")  # a person approved it
    keys = all_objects(s3, data_bucket)
    assert keys["exports/sds/latest/990011.zip"] == keys[f"exports/held/{nextday}/990011/sds.zip"]
    assert f"exports/oneroster/{nextday}/990011.zip" in keys


def test_the_drop_check_needs_both_the_share_and_the_minimum():
    strict = settings(max_drop_share=0.2, min_drop=5)
    last = ({f"u{i}" for i in range(10)}, {"c1"})
    assert safety.check(last, ({f"u{i}" for i in range(6)}, {"c1"}), strict).held is False  # 4
    assert safety.check(last, ({f"u{i}" for i in range(5)}, {"c1"}), strict).held is True  # 5
    big = ({f"u{i}" for i in range(100)}, {f"c{i}" for i in range(10)})
    assert safety.check(big, (big[0] - {"u1", "u2"}, set(big[1])), strict).held is False
    classes_gone = safety.check(big, (big[0], {"c0"}), strict)
    assert classes_gone.held and "9 of 10 classes" in classes_gone.reason
    assert safety.check(None, (set(), set()), strict).held is False  # a first export


def test_staff_on_leave_left_out_by_default_or_exported_disabled(s3, data_bucket):
    write_school(s3.client(), data_bucket, "990011", leave=(1,))
    summary = export.run(target(s3, data_bucket), ["990011"], settings())
    assert summary["schools"][0]["left_out"]["teacher: on leave"] == 1
    users = read_zip(s3, data_bucket, f"exports/oneroster/{DAY}/990011.zip")["users.csv"]
    assert "990011E1" not in {u["sourcedId"] for u in users}

    summary = export.run(target(s3, data_bucket), ["990011"], settings(staff_on_leave="disabled"))
    users = read_zip(s3, data_bucket, f"exports/oneroster/{DAY}/990011.zip")["users.csv"]
    assert {u["sourcedId"]: u["enabledUser"] for u in users}["990011E1"] == "false"
    assert summary["schools"][0]["disabled"] == 1


def test_a_person_without_a_sign_in_name_is_reported_not_exported(s3, data_bucket):
    write_school(s3.client(), data_bucket, "990011")
    # the students table has no e-mail column: by school e-mail no pupil has a sign-in name
    summary = export.run(target(s3, data_bucket), ["990011"], settings(sign_in="school_email"))
    school = summary["schools"][0]
    assert school["left_out"]["student: no school e-mail"] == 39
    assert school["users"] == 4 and school["classes"] == 0


def test_a_sign_in_name_two_pupils_would_share_is_given_to_neither_twice(s3, data_bucket):
    write_school(s3.client(), data_bucket, "990011")
    summary = export.run(
        target(s3, data_bucket), ["990011"],
        settings(sign_in={"student": "{lastName}@leerling.example", "teacher": "school_email"}),
    )  # fmt: skip
    assert summary["schools"][0]["state"] == "published"  # unique names: all exported
    sds = read_zip(s3, data_bucket, f"exports/sds/{DAY}/990011.zip")
    assert len({u["username"] for u in sds["users.csv"]}) == len(sds["users.csv"])


def test_a_missing_clean_table_fails_that_school_only(s3, data_bucket):
    client = s3.client()
    write_school(client, data_bucket, "990011")
    write_school(client, data_bucket, "990013")
    client.delete_object(
        Bucket=data_bucket,
        Key=f"clean/class_teachers/schooljaar={SJ}/instelling=990013/date={DAY}/data.parquet",
    )
    summary = export.run(target(s3, data_bucket), ["990011", "990013"], settings())
    states = {s["instelling"]: s["state"] for s in summary["schools"]}
    assert states == {"990011": "published", "990013": "failed"}
    assert "class_teachers" in summary["schools"][1]["problem"]


def test_the_newest_clean_day_on_or_before_the_run_is_read(s3, data_bucket):
    client = s3.client()
    write_school(client, data_bucket, "990011", day=DAY - timedelta(days=1), pupils=10)
    write_school(client, data_bucket, "990011", day=DAY + timedelta(days=1), pupils=30)
    summary = export.run(target(s3, data_bucket), ["990011"], settings())
    school = summary["schools"][0]
    assert school["sources"]["students"] == str(DAY - timedelta(days=1))
    assert school["users"] == expected_counts(10)["pupils"] + 4
