"""The schema check finds what the specifications forbid (each check with a file that breaks it),
and the settings refuse what would export the wrong people."""

from __future__ import annotations

import io
import zipfile

import pytest

from informat_pipelines.roster_export.identity import ascii_part, session, sign_in_name
from informat_pipelines.roster_export.schema import (
    ONEROSTER,
    SDS,
    SDS_ALWAYS,
    check_file,
    check_zip,
)
from informat_pipelines.roster_export.settings import RosterSettings

USERS = "sourcedId,username,givenName,familyName\r\n"


def problems(spec, text: str | bytes) -> list[str]:
    return check_file(spec, text if isinstance(text, bytes) else text.encode())[0]


def test_a_good_sds_users_file_passes():
    assert problems(SDS["users.csv"], USERS + "P1,a@s.example,An,Peeters\r\n") == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (USERS + "P1,,An,Peeters\r\n", "username: required but empty"),
        (USERS + 'P1,a@s.example,"An\nNa",Peeters\r\n', "a line break in the value"),
        (USERS + "P1,a@s.example,An,Peeters\r\nP1,b@s.example,Bo,Peeters\r\n", "not unique"),
        (USERS + "P1,a@s.example,An\r\n", "3 values for 4 headers"),
        ("sourcedId,username,givenName\r\n", "missing required ['familyName']"),
        ("sourcedid,username,givenName,familyName\r\n", "unknown headers ['sourcedid']"),
        ("sourcedId,username,givenName,familyName,inszHash\r\n", "unknown headers"),
        (b"\xef\xbb\xbf" + USERS.encode(), "byte-order mark"),
        (USERS.encode() + b"P1,a@s.example,\xe9mile,Peeters\r\n", "not UTF-8"),
        ("sourcedId,username,givenName,familyName,password\r\nP1,a@s.x,A,B,secret\r\n", "empty"),
    ],
)
def test_the_check_finds_a_broken_sds_users_file(text, found):
    assert any(found in p for p in problems(SDS["users.csv"], text)), problems(
        SDS["users.csv"], text
    )


def test_enumerations_dates_and_booleans_are_checked():
    roles = "userSourcedId,orgSourcedId,role,isPrimary,roleStartDate\r\n"
    assert problems(SDS["roles.csv"], roles + "P1,990011,student,true,2026-09-01\r\n") == []
    bad = problems(SDS["roles.csv"], roles + "P1,990011,leerling,yes,1/9/2026\r\n")
    assert len(bad) == 3 and not any("leerling" in p or "1/9" in p for p in bad)  # no value told


def test_oneroster_needs_every_header_in_the_order_of_the_binding():
    header = ",".join(ONEROSTER["orgs.csv"].names)
    assert problems(ONEROSTER["orgs.csv"], header + "\r\n990011,,,School,school,990011,\r\n") == []
    swapped = header.replace("name,type", "type,name")
    assert any("not exactly" in p for p in problems(ONEROSTER["orgs.csv"], swapped + "\r\n"))
    short = "sourcedId,name,type\r\n"  # fine for SDS, not for OneRoster
    assert problems(SDS["orgs.csv"], short) == []
    assert problems(ONEROSTER["orgs.csv"], short) != []


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_the_zip_check_finds_missing_files_and_dangling_references():
    files = {
        "orgs.csv": "sourcedId,name,type\r\n990011,School,school\r\n",
        "users.csv": USERS + "P1,a@s.example,An,Peeters\r\n",
        "roles.csv": "userSourcedId,orgSourcedId,role\r\nP1,990011,student\r\n",
        "classes.csv": "sourcedId,orgSourcedId,title\r\nK1,990011,1A\r\n",
        "enrollments.csv": "classSourcedId,userSourcedId,role\r\nK1,P1,student\r\n",
        "academicSessions.csv": "sourcedId,title,type,schoolYear,startDate,endDate\r\n"
        "2026-27,Schooljaar,schoolYear,2027,2026-09-01,2027-08-31\r\n",
    }
    assert check_zip(SDS, SDS_ALWAYS, _zip(files)) == []
    dangling = files | {"enrollments.csv": files["enrollments.csv"] + "K2,P9,student\r\n"}
    found = check_zip(SDS, SDS_ALWAYS, _zip(dangling))
    assert found == [
        "enrollments.csv.classSourcedId: 1 value(s) not in classes.csv.sourcedId",
        "enrollments.csv.userSourcedId: 1 value(s) not in users.csv.sourcedId",
    ]
    missing = {k: v for k, v in files.items() if k != "roles.csv"} | {"extra.csv": "a\r\n"}
    assert set(check_zip(SDS, SDS_ALWAYS, _zip(missing))) == {
        "missing file roles.csv",
        "unknown file extra.csv",
    }


def test_the_schema_names_the_published_pages():
    from informat_pipelines.roster_export import schema

    assert "learn.microsoft.com/en-us/schooldatasync/sds-v2.1-csv-file-format" in schema.__doc__
    assert "imsglobal.org/spec/oneroster/v1p2/bind/csv" in schema.__doc__


# -- identity -----------------------------------------------------------------------------------


def test_sign_in_names_are_ascii_from_the_pattern_or_the_school_email():
    person = {"firstName": "Émile-Zoë", "lastName": "Van den Bërghe", "personId": "P1"}
    rule = "{firstName}.{lastName}@leerling.example"
    assert sign_in_name(rule, person) == ("emilezoe.vandenberghe@leerling.example", "")
    assert ascii_part("Ça ʼn Ørsted") == "canrsted"  # what has no ASCII form is dropped
    assert sign_in_name(rule, person | {"lastName": "ßø"}) == (
        None,
        "a part of the sign-in pattern is empty",
    )
    assert sign_in_name("school_email", {"email": " Jan@School.example "}) == (
        "jan@school.example",
        "",
    )
    assert sign_in_name("school_email", {"email": None}) == (None, "no school e-mail")


def test_the_academic_session_runs_from_1_september_to_31_august():
    s = session("2026-27")
    assert (s.sourced_id, s.start.isoformat(), s.end.isoformat()) == (
        "2026-27",
        "2026-09-01",
        "2027-08-31",
    )


# -- settings -----------------------------------------------------------------------------------

APPROVED = {"approved_by": "DPO", "approved_on": "2026-11-30"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"instelingen": {}}, "unknown roster export settings"),
        ({"instellingen": {"990011": {"approved_by": "DPO"}}}, "approved_on"),
        ({"instellingen": {"990011": {**APPROVED, "approved_on": "30/11/2026"}}}, "isoformat"),
        ({"instellingen": {"990011": {**APPROVED, "approved_by": " "}}}, "approved_by is empty"),
        ({"instellingen": {"SG-Noord": APPROVED}}, "not an instellingsnummer"),
        ({"sign_in": "{voornaam}@school.example"}, "placeholders"),
        ({"sign_in": "{firstName}"}, "placeholders"),
        ({"sign_in": {"student": "school_email"}}, "exactly the keys"),
        ({"staff_on_leave": "mark"}, "staff_on_leave"),
        ({"max_drop_share": 1.5}, "max_drop_share"),
    ],
)
def test_settings_refuse_what_would_export_the_wrong_people(values, message):
    with pytest.raises((ValueError, TypeError), match=message):
        RosterSettings.from_mapping(values)


def test_no_settings_opt_no_instelling_in():
    settings = RosterSettings.from_mapping(None)
    assert settings.instellingen == {} and settings.demographics is False
    assert settings.max_drop_share == 0.2 and settings.min_drop == 5
    opted = RosterSettings.from_mapping({"instellingen": {"990011": APPROVED}})
    assert opted.register() == {"990011": APPROVED}
