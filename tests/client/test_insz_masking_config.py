"""INSZ check digits, the masking filter and the configuration object (no network)."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from informat_client import InformatConfig, insz, masking
from informat_client.config import DEFAULT_BASE_URLS, DEFAULT_TOKEN_URL
from informat_client.schooljaar import schooljaar_for, shift


def test_insz_check_digits_for_both_centuries():
    before_2000 = insz.make(date(1985, 7, 14), 123)
    after_2000 = insz.make(date(2012, 3, 1), 456)
    assert int(before_2000[9:]) == 97 - int(before_2000[:9]) % 97
    assert int(after_2000[9:]) == 97 - int("2" + after_2000[:9]) % 97
    assert insz.is_valid(before_2000) and insz.is_valid(after_2000)
    wrong = after_2000[:9] + f"{(int(after_2000[9:]) + 1) % 100:02d}"
    assert not insz.is_valid(wrong)


def test_insz_accepts_dots_and_dashes():
    number = insz.make(date(2010, 12, 31), 7)
    assert insz.normalize(insz.format_dotted(number)) == number
    assert insz.is_valid(f" {number[:6]}-{number[6:9]}.{number[9:]} ")
    assert insz.normalize("1234") is None
    assert not insz.is_valid(None)


def test_mask_hides_insz_tokens_secrets_and_mail():
    number = insz.make(date(2011, 5, 6), 101)
    text = (
        f"pupil {number} aka {insz.format_dotted(number)}; Authorization: Bearer abc.DEF-123_x; "
        "client_secret=hunter2hunter2&scope=x; mail an.ouder@example.org"
    )
    masked = masking.mask(text)
    for secret in (number, insz.format_dotted(number), "abc.DEF-123_x", "hunter2hunter2"):
        assert secret not in masked
    assert "an.ouder@example.org" not in masked
    assert "pupil ***" in masked


def test_registered_literals_are_masked():
    masking.register_secret("a-very-specific-token-value")
    assert "a-very-specific" not in masking.mask("got a-very-specific-token-value back")


def test_filter_masks_messages_args_and_exceptions(caplog):
    logger = masking.get_logger("informat_client.test")
    number = insz.make(date(2009, 1, 2), 33)
    with caplog.at_level(logging.INFO, logger="informat_client.test"):
        logger.info("student %s", number)
        try:
            raise ValueError(f"bad {number}")
        except ValueError:
            logger.exception("failed")
    assert number not in caplog.text
    assert "student ***" in caplog.text


def test_schooljaar_turns_on_1_september():
    assert schooljaar_for(date(2026, 8, 31)) == "2025-26"
    assert schooljaar_for(date(2026, 9, 1)) == "2026-27"
    assert schooljaar_for(date(2099, 12, 1)) == "2099-00"
    assert shift("2026-27", 1) == "2027-28"


def test_config_from_connection_fields_with_host():
    config = InformatConfig.from_connection_fields(
        host="http://127.0.0.1:8765",
        login="id",
        password="secret-value",
        extra={
            "instellingsnummers": ["012345", "012346"],
            "toegangsgroepen": {"G": {"instellingsnummer": "012345", "admins": "a@x.be, b@x.be"}},
            "page_size": 500,
        },
    )
    assert config.token_url == "http://127.0.0.1:8765/connect/token"
    assert config.url("leerlingen", "students") == "http://127.0.0.1:8765/leerlingen/1/students"
    assert config.instellingsnummers == ("012345", "012346")
    assert config.toegangsgroepen["G"].admins == ("a@x.be", "b@x.be")
    assert config.page_size == 500
    assert "secret-value" not in repr(config)


def test_config_defaults_to_informat_hosts_and_takes_overrides():
    config = InformatConfig.from_connection_fields(
        host=None,
        login="id",
        password="pw",
        extra={
            "base_urls": {"rekeningen": "https://rek.example/2/"},
            "paths": {"students": "leerlingen"},
        },
    )
    assert config.token_url == DEFAULT_TOKEN_URL
    assert config.base_urls["leerlingen"] == DEFAULT_BASE_URLS["leerlingen"]
    assert config.base_urls["rekeningen"] == "https://rek.example/2/"
    assert config.paths["students"] == ("leerlingen", "GET", "leerlingen")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"instellingsnummers": ["12345"]}, "not 6 digits"),
        ({"typo_key": 1}, "unknown keys"),
        ({"toegangsgroepen": {"G": {"admins": []}}}, "instellingsnummer"),
        ({"paths": {"nope": "x"}}, "unknown call"),
    ],
)
def test_config_rejects_bad_connection_extra(extra, message):
    with pytest.raises(ValueError, match=message):
        InformatConfig.from_connection_fields(host=None, login="id", password="pw", extra=extra)


def test_config_needs_credentials():
    with pytest.raises(ValueError, match="client_id"):
        InformatConfig.from_connection_fields(host=None, login="", password="pw", extra={})


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("leerling.85010100123.csv", "85010100123"),
        ("rijksregisternr 850101-001-23", "850101-001-23"),
        ("85-01-01-001-23 in the file", "85-01-01-001-23"),
        ("{'access_token': 'abc123def456'}", "abc123def456"),
        ("{'password': 'hunter2hunter2'}", "hunter2hunter2"),
        ("POSTGRES_PASSWORD=hunter2 and more", "hunter2"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        # the review's N10: escaped JSON inside a string (a logged request or answer body)
        (r'{"body": "{\"password\": \"hunter2\"}"}', "hunter2"),
        (r'{"body": "{\"access_token\":\"eyJhbGciOi.x-y\",\"expires_in\":3600}"}', "eyJhbGciOi"),
        (r"{\\\"client_secret\\\": \\\"twice-escaped\\\"}", "twice-escaped"),
        (r'"{\"password\": \"back\\slash\"}"', "slash"),
        # URL user-info (an Airflow connection URI)
        ("AIRFLOW_CONN_X=aws://AKIA:supersecret@host", "supersecret"),
        ("redis://:only-a-password@redis:6379/0", "only-a-password"),
        # API-key and Authorization headers whatever their scheme
        ("X-Api-Key: abcdef123456", "abcdef123456"),
        ("{'x-api-key': 'abcdef123456'}", "abcdef123456"),
        ("apikey=abcdef123456&x=1", "abcdef123456"),
        ("Authorization: Token abcdef123456", "abcdef123456"),
        ("{'Authorization': 'BEARER abc.def', 'InstituteNo': '990011'}", "abc.def"),
        ("Proxy-Authorization: abcdef123456", "abcdef123456"),
        # URL-encoded
        ("password%3Dhunter2&user=x", "hunter2"),
    ],
)
def test_every_written_form_is_masked(text, hidden):
    assert hidden not in masking.mask(text)


def test_masking_keeps_what_is_around_the_secret():
    escaped = r'{"body": "{\"password\": \"hunter2\", \"user\": \"x\"}"}'
    assert masking.mask(escaped) == r'{"body": "{\"password\": \"***\", \"user\": \"x\"}"}'
    assert masking.mask("aws://AKIA:supersecret@host") == "aws://AKIA:***@host"
    headers = "{'Authorization': 'Bearer abc.def', 'InstituteNo': '990011'}"
    assert masking.mask(headers) == "{'Authorization': '***', 'InstituteNo': '990011'}"
    for readable in (
        "http://127.0.0.1:8765/leerlingen/1/students",
        "GET https://leerlingenapi.informatsoftware.be/1/students?schoolYear=2026-27",
        "the Authorization header is missing",
    ):
        assert masking.mask(readable) == readable


def test_ids_that_merely_hold_eleven_digits_stay_readable():
    assert masking.mask("invoice F2026-0000123") == "invoice F2026-0000123"


def test_a_traceback_is_masked_and_never_rendered_again_from_the_exception(caplog):
    log = masking.get_logger("tests.masking.traceback")
    try:
        raise ValueError("insz 85.01.01-001.23 refused")
    except ValueError:
        log.exception("push failed")
    [record] = [r for r in caplog.records if r.name == "tests.masking.traceback"]
    assert "85.01.01-001.23" not in record.getMessage() and "Traceback" in record.getMessage()
    assert record.exc_info is None  # nothing left for another formatter to render unmasked
