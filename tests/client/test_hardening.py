"""The client under hostile or broken answers: the token goes to Informat's own origin only (its
host, over https), a retry budget is a budget, paging must advance, a malformed token answer is a
clear error, every path argument stays one path segment, and a wrong connection extra is refused
with its key."""

from __future__ import annotations

import pytest
import requests

from informat_client import (
    InformatBadResponseError,
    InformatClient,
    InformatConfig,
    InformatRateLimitError,
)
from informat_client.answers import Call
from informat_client.listings import Paging, page_records

from .recording import BEARER, recording_session


def test_a_download_link_to_another_host_is_refused_before_any_request(client, sandbox):
    before = sandbox.stats().get("requests", 0)
    with (
        pytest.raises(InformatBadResponseError, match="another host"),
        client.download_pdf("SG-Noord", "job", download_url="https://evil.example/steal"),
    ):
        pass
    assert sandbox.stats().get("requests", 0) == before  # not even a token request


def _informat_client(sleeps):
    """A client of Informat's own (https) hosts whose requests go to a recorder, not the net."""
    config = InformatConfig.from_connection_fields(
        host=None,
        login="id",
        password="client-secret-value",
        extra={"instellingsnummers": ["012345"], "toegangsgroepen": {"G": "012345"}},
    )
    session, recorder = recording_session()
    return InformatClient(config, session=session, sleep=sleeps), recorder


@pytest.mark.parametrize(
    ("link", "message"),
    [
        # the review's N7: Informat's own host, but in clear
        ("http://rekeningenapi.informatsoftware.be/1/pdf-jobs/job1/download", "uses http://"),
        ("https://evil.example/1/pdf-jobs/job1/download", "another host"),
        ("//evil.example/steal", "another host"),
        ("https://rekeningenapi.informatsoftware.be:8443/1/pdf-jobs/job1", "another host"),
    ],
)
def test_a_download_link_off_the_api_origin_sends_nothing(sleeps, link, message):
    client, recorder = _informat_client(sleeps)
    with (
        client,
        pytest.raises(InformatBadResponseError, match=message),
        client.download_pdf("G", "job1", download_url=link),
    ):
        pass
    assert recorder.sent == []  # no download, and not even the token request


def test_a_download_link_on_the_api_origin_carries_the_token(sleeps):
    """The other side of the test above: the recorder does see a link that is allowed."""
    client, recorder = _informat_client(sleeps)
    link = "https://rekeningenapi.informatsoftware.be/1/pdf-jobs/job1/download"
    with client, client.download_pdf("G", "job1", download_url=link) as chunks:
        assert b"".join(chunks).startswith(b"%PDF")
    assert [(s.url, s.authorization) for s in recorder.sent[-1:]] == [(link, f"Bearer {BEARER}")]


def test_retry_after_beyond_the_budget_fails_at_once(client, sandbox, sleeps):
    sandbox.set_faults(
        script=[{"match": "/employees", "status": 429, "times": 5, "retry_after": 86400}]
    )
    with pytest.raises(InformatRateLimitError, match="more than the 120 s left") as refused:
        list(client.iter_employees("990011"))
    assert sleeps.calls == []  # no day-long wait, no repeat
    assert "86400" in str(refused.value)


def _call() -> Call:
    return Call("students", "leerlingen", "GET", "http://x/students", "990011", "GET /students")


def test_pages_that_do_not_advance_are_an_error():
    same = {"students": [{"pPersoon": 1}, {"pPersoon": 2}], "hasMore": True}
    pages = page_records(lambda params: same, _call(), {}, Paging("students", "pPersoon", 2))
    with pytest.raises(InformatBadResponseError, match="do not advance"):
        list(pages)
    endless = iter(range(10**6))

    def next_page(params):
        n = next(endless)
        return {"students": [{"pPersoon": n}], "hasMore": True}

    capped = page_records(next_page, _call(), {}, Paging("students", "pPersoon", 1, max_pages=5))
    with pytest.raises(InformatBadResponseError, match="more than 5 pages"):
        list(capped)


class _TokenAnswer(requests.adapters.BaseAdapter):
    """A unit-test stand-in for the identity server that answers a malformed token."""

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = b'{"access_token": "abc", "expires_in": "soon"}'
        response.request = request
        return response

    def close(self):
        pass


def test_a_non_numeric_token_lifetime_is_a_bad_answer(config, sleeps):
    session = requests.Session()
    session.mount("http://", _TokenAnswer())
    client = InformatClient(config, session=session, sleep=sleeps)
    with pytest.raises(InformatBadResponseError, match="non-numeric expires_in"):
        list(client.iter_employees("990011"))


def test_path_arguments_stay_one_segment(client, sandbox):
    seen = []
    client._session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.url))
    with pytest.raises(Exception):  # noqa: B017 - whatever the sandbox answers; the URL matters
        client.get_pdf_job("SG-Noord", "../../accessgroups?x=1")
    assert seen[-1].endswith("/pdf-jobs/..%2F..%2Faccessgroups%3Fx%3D1")


@pytest.mark.parametrize(
    ("extra", "host", "message"),
    [
        ({"max_attempts": "many"}, None, "'max_attempts' must be a number"),
        ({"read_timeout": [1]}, None, "'read_timeout' must be a number, not list"),
        ({}, "http://informat.example.org", "host: http:// is only for a sandbox"),
        ({"token_url": "http://id.example.org/token"}, None, "token_url: http://"),
    ],
)
def test_a_wrong_connection_extra_is_refused_with_its_key(extra, host, message):
    with pytest.raises(ValueError, match=message):
        InformatConfig.from_connection_fields(
            host=host, login="id", password="secret", extra={"instellingsnummers": [], **extra}
        )
    assert InformatConfig.from_connection_fields(
        host="http://127.0.0.1:8765", login="id", password="s", extra={}
    )
