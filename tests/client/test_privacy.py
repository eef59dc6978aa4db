"""The whole log output of a client run against the sandbox holds no INSZ, token or secret."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest

from informat_client import InformatError, insz, masking

from ..support.bodies import preregistration


@pytest.fixture
def captured_log():
    """Everything logged anywhere (DEBUG and up, urllib3 included), through the masking filter
    the way InformatHook installs it on the root logger's handlers."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    masking.install()
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_client_run_logs_no_insz_token_secret_or_name(
    make_client, sandbox, client_secret, captured_log
):
    year = sandbox.state.schooljaar
    log = logging.getLogger("tests.privacy")
    echoed = insz.make(date(2015, 6, 1), 11)
    sandbox.set_faults(
        token_expires_after_calls=4,
        script=[
            {"match": "/students", "status": 503, "times": 1},
            {"match": "/employees", "status": 429, "times": 1, "retry_after": 1},
            # Informat echoing a rijksregisternummer and an address back in an error message
            {
                "match": "/preregistrations/save",
                "status": 400,
                "code": "INSZ_INVALID",
                "message": f"INSZ {insz.format_dotted(echoed)} van ouder@example.org",
            },
        ],
    )
    client = make_client(page_size=200)
    students = []
    for number in ("990011", "990012"):
        students += list(client.iter_students(number, year))
        list(client.iter_employees(number))
    detail = client.get_student("990011", students[0]["persoonId"], year)
    try:
        client.save_preregistration("990011", preregistration("990011", year))
    except InformatError as exc:
        log.exception("push failed: %s", exc)
    try:
        list(client.iter_invoices("SG-Zuid", year))
    except InformatError as exc:
        log.error("invoices failed: %s", exc)

    text = captured_log.getvalue()
    assert "new access token" in text and "HTTP 503" in text  # the run did log
    secrets_seen = [client_secret, *sandbox.state.tokens]
    assert len(secrets_seen) > 3
    for secret in secrets_seen:
        assert secret not in text
    numbers = [s["rijksregisternr"] for s in students if s["rijksregisternr"]]
    numbers += [r["insz"] for s in students for r in s["relaties"] if r["insz"]]  # parents too
    numbers.append(echoed)
    for number in numbers:
        assert number not in text
        assert insz.format_dotted(number) not in text
    for student in students[:200]:
        assert f"{student['voornaam']} {student['naam']}" not in text
    for relation in detail["relaties"]:
        assert all(e["email"] not in text for e in relation["emails"])
    assert "ouder@example.org" not in text
