"""Two rules of the current API the sandbox holds every caller to, with raw requests: every call
carries a ``Timestamp`` header (ISO-8601, with its offset), and a token asked without a scope has
no rights on the Leerlingen API (its other grants stay)."""

from __future__ import annotations

import pytest
import requests

NOW = "2026-11-28T10:00:00.000Z"  # JavaScript's toISOString()


def _token(sandbox, client_secret, scope: str | None) -> requests.Response:
    form = {
        "client_id": "sandbox-client",
        "client_secret": client_secret,
        "grant_type": "client_credentials",
    }
    if scope is not None:
        form["scope"] = scope
    # no Timestamp here: public code asks its tokens without one
    return requests.post(f"{sandbox.url}/connect/token", data=form, timeout=10)


def _headers(token: str, number: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "InstituteNo": number, **extra}


@pytest.fixture
def token(sandbox, client_secret) -> str:
    answer = _token(sandbox, client_secret, "api_informat_sas_leerlingen.leerlingen.990011")
    assert answer.status_code == 200
    return answer.json()["access_token"]


def test_a_call_without_timestamp_is_refused_with_a_clear_400(sandbox, token):
    url = f"{sandbox.url}/leerlingen/1/students"
    refused = requests.get(url, headers=_headers(token, "990011"), timeout=10)
    assert refused.status_code == 400
    body = refused.json()
    assert body["errors"][0]["code"] == "TIMESTAMP_MISSING"
    assert "Header Timestamp is required" in body["message"]
    ok = requests.get(url, headers=_headers(token, "990011", Timestamp=NOW), timeout=10)
    assert ok.status_code == 200 and ok.json()["students"]


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2026-11-28T11:00:00+01:00", 200),  # PHP's date("c")
        (NOW, 200),
        ("2026-11-28T10:00:00.123+00:00", 200),  # what informat_client sends
        ("2026-11-28T10:00:00", 400),  # no offset: which moment is it?
        ("yesterday", 400),
        ("1764324000", 400),
    ],
)
def test_the_timestamp_is_iso_8601_with_its_offset(sandbox, token, value, status):
    answer = requests.get(
        f"{sandbox.url}/leerlingen/1/registrations",
        headers=_headers(token, "990011", Timestamp=value),
        timeout=10,
    )
    assert answer.status_code == status
    if status == 400:
        assert answer.json()["errors"][0]["code"] == "TIMESTAMP_INVALID"


def test_every_api_asks_the_timestamp(sandbox, client_secret):
    everything = _token(sandbox, client_secret, None).json()["access_token"]
    for path, extra in (
        ("/personeel/employees", {"Api-Version": "2"}),
        ("/rekeningen/1/accessgroups", {}),
    ):
        plain = _headers(everything, "990011", **extra)
        refused = requests.get(f"{sandbox.url}{path}", headers=plain, timeout=10)
        assert refused.status_code == 400, path
        assert refused.json()["errors"][0]["code"] == "TIMESTAMP_MISSING"
        timed = requests.get(
            f"{sandbox.url}{path}", headers={**plain, "Timestamp": NOW}, timeout=10
        )
        assert timed.status_code == 200, path


def test_a_token_asked_without_scope_has_no_rights_on_the_leerlingen_api(sandbox, client_secret):
    answer = _token(sandbox, client_secret, None)
    assert answer.status_code == 200
    granted = answer.json()["scope"].split()
    assert not [s for s in granted if s.startswith("api_informat_sas_leerlingen.")]
    assert "api_informat_sas_personeel.personeel.990011" in granted
    unscoped = answer.json()["access_token"]
    for path in ("/leerlingen/1/students", "/leerlingen/1/preregistrations/any-id/status"):
        refused = requests.get(
            f"{sandbox.url}{path}", headers=_headers(unscoped, "990011", Timestamp=NOW), timeout=10
        )
        assert refused.status_code == 403, path
        assert refused.json()["errors"][0]["code"] == "SCOPE_MISSING"
        assert "without scope" in refused.json()["message"]
    # its other grants stay: the Personeel API answers
    staff = requests.get(
        f"{sandbox.url}/personeel/employees",
        headers=_headers(unscoped, "990011", Timestamp=NOW, **{"Api-Version": "2"}),
        timeout=10,
    )
    assert staff.status_code == 200 and staff.json()


def test_the_same_call_with_a_scoped_token_passes(sandbox, token):
    """The other side of the test above: the refusal is the missing scope, nothing else."""
    answer = requests.get(
        f"{sandbox.url}/leerlingen/1/students",
        headers=_headers(token, "990011", Timestamp=NOW),
        timeout=10,
    )
    assert answer.status_code == 200
