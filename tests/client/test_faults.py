"""The client under every fault the sandbox can inject, and under bad answers.

Clients here get a recording sleep: backoff waits are recorded, not waited, so the tests can
check what the client would have waited (Retry-After honoured, growing backoff) without waiting.
"""

from __future__ import annotations

import concurrent.futures
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests

from informat_client import (
    InformatAuthError,
    InformatBadResponseError,
    InformatClient,
    InformatConfigError,
    InformatConnectionError,
    InformatForbiddenError,
    InformatNotFoundError,
    InformatRateLimitError,
    InformatRequestError,
    InformatServerError,
)

from ..support.bodies import preregistration


def year(sandbox) -> str:
    return sandbox.state.schooljaar


def n_students(sandbox, number: str) -> int:
    return len(sandbox.state.group.instellingen[number].students)


# ----------------------------------------------------------------- retries


def test_5xx_is_retried_with_growing_backoff_then_succeeds(client, sandbox, sleeps):
    sandbox.set_faults(script=[{"match": "/students", "status": 503, "times": 3}])
    students = list(client.iter_students("990011", year(sandbox)))
    assert len(students) == n_students(sandbox, "990011")
    assert client.stats["retries"] == 3
    assert len(sleeps.calls) == 3
    # full jitter below a doubling cap: 0.5, 1, 2 s
    assert all(0 <= wait <= cap for wait, cap in zip(sleeps.calls, (0.5, 1.0, 2.0), strict=True))


def test_429_honours_retry_after(client, sandbox, sleeps):
    sandbox.set_faults(
        script=[{"match": "/employees", "status": 429, "times": 2, "retry_after": 7}]
    )
    assert list(client.iter_employees("990012"))
    assert len(sleeps.calls) == 2
    assert all(7 <= wait <= 7.5 for wait in sleeps.calls)


def test_retries_are_bounded_in_attempts(make_client, sandbox, sleeps):
    client = make_client(max_attempts=4)
    sandbox.set_faults(script=[{"match": "/students", "status": 502, "times": 50}])
    with pytest.raises(InformatServerError) as failed:
        list(client.iter_students("990011", year(sandbox)))
    assert failed.value.status == 502
    assert sandbox.stats()["GET leerlingen/students"] == 4
    assert len(sleeps.calls) == 3


def test_retries_are_bounded_in_total_time(make_client, sandbox):
    import time

    client = make_client(
        max_attempts=100,
        max_retry_seconds=0.6,
        backoff_initial=0.1,
        backoff_max=0.2,
        sleep=time.sleep,
    )
    sandbox.set_faults(script=[{"match": "/students", "status": 500, "times": 1000}])
    with pytest.raises(InformatServerError):
        list(client.iter_students("990011", year(sandbox)))
    attempts = sandbox.stats()["GET leerlingen/students"]
    assert 2 <= attempts < 100


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, InformatRequestError), (404, InformatNotFoundError), (422, InformatRequestError)],
)
def test_other_4xx_are_not_retried(client, sandbox, status, error):
    sandbox.set_faults(script=[{"match": "/students", "status": status, "code": "X_CODE"}])
    with pytest.raises(error) as failed:
        list(client.iter_students("990011", year(sandbox)))
    assert failed.value.codes == ("X_CODE",)
    assert client.stats["retries"] == 0
    assert sandbox.stats()["GET leerlingen/students"] == 1


def test_timeouts_are_retried(make_client, sandbox, sleeps):
    client = make_client(read_timeout=0.3)
    sandbox.set_faults(script=[{"match": "/employees", "answer": "delay", "delay_s": 1.0}])
    assert list(client.iter_employees("990011"))
    assert client.stats["retries"] == 1
    assert len(sleeps.calls) == 1


def test_connection_refused_is_retried_then_reported(config, sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    config = config.for_host(
        f"http://127.0.0.1:{closed_port}",
        client_id="x",
        client_secret="never-sent-anywhere",
        max_attempts=3,
    )
    with (
        InformatClient(config, sleep=sleeps) as client,
        pytest.raises(InformatConnectionError, match="identity server did not answer"),
    ):
        list(client.iter_students("990011", "2026-27"))
    assert len(sleeps.calls) == 2


def test_share_of_5xx_and_429_still_yields_every_record(make_client, sandbox):
    client = make_client(max_attempts=10)
    sandbox.set_faults(rate_5xx=0.3, rate_429=0.1, retry_after_s=1)
    numbers = ("990011", "990012", "990013", "990014", "990015")
    total = sum(len(list(client.iter_registrations(n, year(sandbox)))) for n in numbers)
    assert total == sum(n_students(sandbox, n) for n in numbers)
    assert client.stats["retries"] > 0


def test_requests_per_second_limit_is_respected_under_concurrency(make_client, sandbox):
    import time

    client = make_client(max_attempts=10, sleep=time.sleep)
    sandbox.set_faults(rate_limit_rps=8)
    people = [s["persoonId"] for s in sandbox.state.group.instellingen["990011"].students[:24]]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        found = list(
            pool.map(lambda p: client.get_student("990011", p, year(sandbox))["persoonId"], people)
        )
    assert found == people
    stats = sandbox.stats()
    assert stats["429"] > 0  # the limit was hit ...
    assert stats["GET leerlingen/students/*"] == 24 + stats["429"]  # ... and every 429 repeated


# ------------------------------------------------------------------ tokens


def test_expired_token_gets_one_renewal_and_one_repeat(client, sandbox):
    sandbox.set_faults(token_expires_after_calls=2)
    for _ in range(5):
        assert list(client.iter_employees("990011"))
    # calls 1-2 on token A, 3 refused -> B, ... : each expiry costs one renewal and one repeat
    assert client.stats["token_renewals"] == 2
    assert sandbox.stats()["GET personeel/employees"] == 7


def test_token_refused_after_renewal_is_an_error_not_a_loop(client, sandbox):
    sandbox.set_faults(script=[{"match": "/students", "status": 401, "times": 10}])
    with pytest.raises(InformatAuthError, match="refused again after one renewal"):
        list(client.iter_students("990011", year(sandbox)))
    assert sandbox.stats()["GET leerlingen/students"] == 2
    assert client.stats["token_renewals"] == 1


def test_token_is_renewed_before_it_expires(make_client, sandbox):
    sandbox.state.token_lifetime = 30  # shorter than the client's 60 s safety margin
    client = make_client()
    for _ in range(3):
        next(iter(client.iter_employees("990011")))
    # the margin adapts to a short lifetime (a fifth of it): one token serves the three calls
    assert client.stats["token_requests"] == 1
    sandbox.state.token_lifetime = 1.0
    short = make_client()
    for _ in range(3):
        next(iter(short.iter_employees("990011")))
        time.sleep(0.85)  # past the renewal point (0.8 s), before the token's end (1 s)
    assert short.stats["token_requests"] == 3
    assert short.stats["token_renewals"] == 0  # renewed ahead, never refused


def test_wrong_client_secret_is_refused_clearly(config, sleeps):
    wrong = config.with_overrides(client_secret="wrong-secret")
    with (
        InformatClient(wrong, sleep=sleeps) as c,
        pytest.raises(InformatAuthError, match="refused the client credentials") as failed,
    ):
        list(c.iter_students("990011", "2026-27"))
    assert "invalid_client" in failed.value.codes
    assert "wrong-secret" not in str(failed.value)


def test_instelling_outside_scope_is_refused(client):
    with pytest.raises(InformatForbiddenError, match="scope not granted") as refused:
        list(client.iter_students("990019", "2026-27"))
    assert "instelling 990019" in str(refused.value)


def test_long_paged_listing_survives_token_expiry_and_changes_between_pages(make_client, sandbox):
    client = make_client(page_size=50)
    number = "990014"
    before = {s["pPersoon"] for s in sandbox.state.group.instellingen[number].students}
    sandbox.set_faults(token_expires_after_calls=3, listing_changes_between_pages=True)
    keys = [s["pPersoon"] for s in client.iter_students(number, year(sandbox))]
    assert len(keys) == len(set(keys))  # no record twice
    assert before <= set(keys)  # none lost
    assert client.stats["token_renewals"] > 3
    assert sandbox.state.changed_listings > 0


# ------------------------------------------------------ the API's own checks


def test_sandbox_checks_requests_as_the_real_api(client, sandbox, client_secret):
    url = f"{sandbox.url}/leerlingen/1/students"
    assert requests.get(url, timeout=5).status_code == 401
    token = requests.post(
        f"{sandbox.url}/connect/token",
        data={
            "client_id": "sandbox-client",
            "client_secret": client_secret,
            "grant_type": "client_credentials",
            "scope": "api_informat_sas_leerlingen.leerlingen.990011",
        },
        timeout=5,
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}", "Timestamp": "2026-11-28T10:00:00+01:00"}
    missing = requests.get(url, headers=auth, timeout=5)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["code"] == "INSTITUTENO_MISSING"
    other = requests.get(url, headers={**auth, "InstituteNo": "990012"}, timeout=5)
    assert other.status_code == 403
    assert other.json()["errors"][0]["code"] == "SCOPE_NOT_GRANTED"
    ok = requests.get(url, headers={**auth, "InstituteNo": "990011"}, timeout=5)
    assert ok.status_code == 200
    # the other spelling of schoolYear, and the Timestamp as JavaScript's toISOString writes it
    year = sandbox.state.schooljaar
    plain = {**auth, "InstituteNo": "990011", "Timestamp": "2026-11-28T09:00:00.000Z"}
    lower = requests.get(url, headers=plain, params={"schoolyear": "2001-02"}, timeout=5)
    assert lower.status_code == 200 and lower.json() == {"students": []}
    assert requests.get(url, headers=plain, params={"schoolYear": year}, timeout=5).json()[
        "students"
    ]


def test_token_requests_with_several_scopes_or_none(sandbox, client_secret):
    def token(scope):
        form = {"client_id": "sandbox-client", "client_secret": client_secret}
        form.update(grant_type="client_credentials", **({"scope": scope} if scope else {}))
        return requests.post(f"{sandbox.url}/connect/token", data=form, timeout=5)

    several = token(
        "api_informat_sas_leerlingen.leerlingen.990011 "
        "api_informat_sas_leerlingen.voorinschrijvingen.990011 "
        "api_informat_sas_personeel.personeel.990012"
    )
    assert len(several.json()["scope"].split()) == 3
    # no scope: what is granted, but nothing of the Leerlingen API (see tests/sandbox)
    everything = token(None).json()["scope"].split()
    assert "api_informat_sas_personeel.personeel.990015" in everything
    refused = token("api_informat_sas_leerlingen.leerlingen.990019")  # not granted
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"


def test_client_sends_institute_and_timestamp_headers(client, sandbox):
    seen = []

    def record(response, *args, **kwargs):
        seen.append(response.request)

    client._session.hooks["response"].append(record)
    year = sandbox.state.schooljaar
    started = datetime.now(UTC)
    next(iter(client.iter_employees("990013")))
    next(iter(client.iter_students("990011", year)))
    next(iter(client.iter_invoices("SG-Noord", year)))
    api_calls = [r for r in seen if not r.url.endswith("/connect/token")]
    assert [r.headers["InstituteNo"] for r in api_calls] == ["990013", "990011", "990011"]
    for request in api_calls:
        moment = datetime.fromisoformat(request.headers["Timestamp"])  # ISO-8601
        assert moment.utcoffset() == timedelta(0)  # in UTC
        assert started - timedelta(seconds=1) <= moment <= datetime.now(UTC)


def test_client_never_asks_a_token_without_scope(make_client, sandbox):
    bodies = []
    client = make_client()
    client._session.hooks["response"].append(
        lambda r, *a, **k: (
            bodies.append(parse_qs(r.request.body))
            if r.request.url.endswith("/connect/token")
            else None
        )
    )
    year = sandbox.state.schooljaar
    list(client.iter_registrations("990011", year))
    list(client.iter_employees("990012"))
    list(client.iter_invoices("SG-Noord", year))
    assert len(bodies) >= 2 and all(b.get("scope", [""])[0].strip() for b in bodies)
    # a scope template that yields nothing is a configuration error, not an unscoped token
    blank = make_client(
        scope_templates={**client.config.scope_templates, "leerlingen": ""},
        combine_scopes=False,
    )
    before = sandbox.stats().get("tokens", 0)
    with pytest.raises(InformatConfigError, match="no scope to ask a token for"):
        list(blank.iter_students("990011", year))
    assert sandbox.stats().get("tokens", 0) == before


# ---------------------------------------------------------------- bad answers


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("malformed_json", "malformed JSON"),
        ("html", "HTML page"),
        ("wrong_content_type", "text/plain"),
        ("empty", "empty answer"),
        ("truncated", "cut off after"),
    ],
)
def test_bad_answers_to_a_listing_are_clear_errors(client, sandbox, answer, message):
    sandbox.set_faults(script=[{"match": "/students", "answer": answer}])
    with pytest.raises(InformatBadResponseError, match=message) as failed:
        list(client.iter_students("990011", year(sandbox)))
    assert "instelling 990011" in str(failed.value)
    assert "GET /students" in str(failed.value)


def test_truncated_stream_from_the_server_is_noticed(client, sandbox):
    sandbox.set_faults(truncate_listings=1)
    received = []
    with pytest.raises(InformatBadResponseError, match="nothing of it may be used"):
        for record in client.iter_students("990011", year(sandbox)):
            received.append(record)
    assert 0 < len(received) < n_students(sandbox, "990011")
    # the next listing is whole again
    assert len(list(client.iter_students("990011", year(sandbox)))) == n_students(sandbox, "990011")


@pytest.mark.parametrize("answer", ["truncated", "empty"])
def test_bad_answer_to_a_single_get_is_reported_or_retried(client, sandbox, answer):
    person = sandbox.state.group.instellingen["990011"].students[0]["persoonId"]
    sandbox.set_faults(script=[{"match": "/students/", "answer": answer}])
    if answer == "truncated":  # a body cut off inside one attempt is asked again
        assert client.get_student("990011", person, year(sandbox))["persoonId"] == person
        assert client.stats["retries"] == 1
    else:
        with pytest.raises(InformatBadResponseError, match="empty answer"):
            client.get_student("990011", person, year(sandbox))


def test_listing_without_its_list_is_an_error(make_client, sandbox):
    client = make_client(
        paths={**make_client().config.paths, "students": ("leerlingen", "GET", "registrations")}
    )
    with pytest.raises(InformatBadResponseError, match="no 'students' list"):
        list(client.iter_students("990011", year(sandbox)))


# -------------------------------------------------------------- POST safety


def test_idempotent_preregistration_is_retried_and_created_once(client, sandbox):
    body = preregistration("990011", year(sandbox))
    sandbox.set_faults(script=[{"match": "/preregistrations/save", "status": 503, "times": 2}])
    assert client.save_preregistration("990011", body)["status"] == "open"
    assert client.stats["retries"] == 2
    assert len(sandbox.state.group.instellingen["990011"].preregistrations) == 1


def test_payment_is_not_repeated_after_a_5xx_but_is_after_a_429(client, sandbox):
    invoice = sandbox.state.group.toegangsgroepen["SG-Noord"].invoices[year(sandbox)][0]
    payment = {"invoiceId": invoice["invoiceId"], "amount": 1.0, "reference": str(uuid.uuid4())}
    sandbox.set_faults(script=[{"match": "/payments", "status": 503}])
    with pytest.raises(InformatServerError):
        client.register_payment("SG-Noord", payment)
    assert sandbox.stats()["POST rekeningen/accessgroups/*"] == 1
    sandbox.set_faults(script=[{"match": "/payments", "status": 429, "retry_after": 1}])
    assert client.register_payment("SG-Noord", payment)["paymentId"] == 1
    assert sandbox.stats()["POST rekeningen/accessgroups/*"] == 3  # 503, 429, repeat


def test_pdf_request_is_not_repeated_after_a_5xx(client, sandbox):
    invoice = sandbox.state.group.toegangsgroepen["SG-Noord"].invoices[year(sandbox)][0]
    sandbox.set_faults(script=[{"match": "/pdf", "method": "POST", "status": 500}])
    with pytest.raises(InformatServerError):
        client.request_pdf("SG-Noord", invoice["invoiceId"])
    assert sandbox.state.stats["pdf_requests"] == 0
    assert client.stats["retries"] == 0


def test_rate_limit_error_is_reported_when_it_never_ends(make_client, sandbox):
    client = make_client(max_attempts=2, max_retry_seconds=10)
    sandbox.set_faults(
        script=[{"match": "/employees", "status": 429, "times": 10_000, "retry_after": 2}]
    )
    with pytest.raises(InformatRateLimitError, match=r"more than the .* left of the retry budget"):
        list(client.iter_employees("990011"))
    assert sandbox.stats()["GET personeel/employees"] in (5, 6)  # 2 s each, 10 s budget


def test_a_queue_of_429s_does_not_use_up_the_attempts(make_client, sandbox, sleeps):
    """Under a rate limit the whole school group shares, a partition may be told to
    wait many times in a row; each Retry-After is honoured within the time budget, and only
    other failures count against max_attempts."""
    client = make_client(max_attempts=2)
    sandbox.set_faults(
        script=[{"match": "/employees", "status": 429, "times": 8, "retry_after": 1}]
    )
    assert list(client.iter_employees("990011"))
    assert len(sleeps.calls) == 8 and sandbox.stats()["GET personeel/employees"] == 9
    sandbox.set_faults(script=[{"match": "/employees", "status": 502, "times": 5}])
    with pytest.raises(InformatServerError):
        list(client.iter_employees("990011"))
    assert len(sleeps.calls) == 9  # two attempts for a 502: one wait
