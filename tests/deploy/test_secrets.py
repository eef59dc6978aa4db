"""The compose deployment's start-up check of its secrets (informat_airflow.check_secrets) and the
creation of its first admin (informat_airflow.create_admin): a placeholder of .env.example, a
short key or a character that would break a URL is refused with the variable's name, never its
value."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet

from informat_airflow import check_secrets, create_admin
from informat_airflow.check_secrets import RULES, main, problem, problems

from ..support.airflow import ROOT


def example_values() -> dict[str, str]:
    """The variables .env.example sets, as compose reads them."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            values[match[1]] = match[2]
    return values


def good_value(rule: check_secrets.Rule) -> str:
    if rule.fernet:
        return Fernet.generate_key().decode()
    return secrets.token_urlsafe(48)


def good_environment() -> dict[str, str]:
    return {rule.name: good_value(rule) for rule in RULES}


RULE_IDS = [rule.name for rule in RULES]


def test_every_secret_of_env_example_is_checked():
    """A secret added to .env.example without a rule would start with its placeholder."""
    example = example_values()
    placeholders = {name for name, value in example.items() if "change-me" in value}
    # the Informat client's and the sandbox's secrets are their own services' business (the
    # client refuses a wrong one at Informat, the sandbox is development only)
    placeholders -= {"AIRFLOW_CONN_INFORMAT_DEFAULT", "INFORMAT_SANDBOX_CLIENT_SECRET"}
    assert placeholders == {rule.name for rule in RULES}


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_the_placeholder_of_env_example_is_refused_by_name(rule):
    value = example_values()[rule.name]
    said = problem(rule, value)
    assert said is not None and said.startswith(rule.name)
    assert "placeholder" in said and value not in said


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_a_placeholder_inside_a_long_value_is_refused(rule):
    value = "x7Kq2" + "CHANGE_ME" + secrets.token_urlsafe(48)
    assert "placeholder" in problem(rule, value)


@pytest.mark.parametrize("rule", [r for r in RULES if not r.fernet], ids=lambda r: r.name)
def test_a_short_value_is_refused_by_name(rule):
    value = secrets.token_urlsafe(64)[: rule.min_length - 1]
    said = problem(rule, value)
    assert said is not None and said.startswith(rule.name)
    assert f"shorter than {rule.min_length}" in said and value not in said


def test_the_keys_are_at_least_32_characters_and_the_jwt_key_64():
    minimum = {rule.name: rule.min_length for rule in RULES}
    assert minimum["AIRFLOW_SECRET_KEY"] == 64  # HS512
    for name in ("AIRFLOW_API_SECRET_KEY", "INFORMAT_PSEUDONYMISATION_KEY",
                 "INFORMAT_PREREGISTRATION_KEY"):  # fmt: skip
        assert minimum[name] >= 32
    # the preRegistration key of .env.example is 33 characters: long enough, still refused
    key = example_values()["INFORMAT_PREREGISTRATION_KEY"]
    assert len(key) >= 32 and problem(RULES[RULE_IDS.index("INFORMAT_PREREGISTRATION_KEY")], key)


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_a_good_value_passes(rule):
    assert problem(rule, good_value(rule)) is None


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_a_missing_value_is_refused_by_name(rule):
    assert problem(rule, None).startswith(f"{rule.name} is not set")
    assert problem(rule, "").startswith(f"{rule.name} is not set")


@pytest.mark.parametrize("rule", [r for r in RULES if r.url_safe], ids=lambda r: r.name)
def test_a_value_compose_writes_into_a_url_or_json_must_be_url_safe(rule):
    value = secrets.token_urlsafe(40) + '"@/'
    said = problem(rule, value)
    assert said.startswith(rule.name) and "letters, digits" in said and value not in said


def test_a_long_value_of_few_characters_is_not_a_key():
    rule = RULES[RULE_IDS.index("AIRFLOW_SECRET_KEY")]
    assert "not random" in problem(rule, "ab" * 40)


def test_the_fernet_key_must_be_one_or_more_fernet_keys():
    rule = RULES[RULE_IDS.index("AIRFLOW_FERNET_KEY")]
    assert "not a Fernet key" in problem(rule, secrets.token_urlsafe(48))
    rotated = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    assert problem(rule, rotated) is None


def test_main_lists_every_refused_variable_and_no_value(capsys):
    environment = good_environment()
    environment["AIRFLOW_SECRET_KEY"] = "change-me-to-a-long-random-string"
    environment["MINIO_RAW_PASSWORD"] = "short-Q9x"
    assert main(environment) == 1
    err = capsys.readouterr().err
    assert "AIRFLOW_SECRET_KEY is still the placeholder" in err
    assert "MINIO_RAW_PASSWORD is shorter than 16" in err
    assert "change-me-to-a-long" not in err and "short-Q9x" not in err
    assert "2 secret(s) to set" in err
    assert main(good_environment()) == 0
    assert problems(good_environment()) == []


def test_the_check_service_command_fails_on_env_example_and_passes_on_good_values():
    """What the check-secrets service runs: `python -m informat_airflow.check_secrets`."""
    base = {k: v for k, v in os.environ.items() if k not in {rule.name for rule in RULES}}
    base["PYTHONPATH"] = str(ROOT / "include")
    example = {k: v for k, v in example_values().items() if k in RULE_IDS}
    command = [sys.executable, "-m", "informat_airflow.check_secrets"]
    refused = subprocess.run(command, env=base | example, capture_output=True, text=True)
    assert refused.returncode == 1
    for name, value in example.items():
        assert f"refused: {name} " in refused.stderr
        assert value not in refused.stderr + refused.stdout
    passed = subprocess.run(command, env=base | good_environment(), capture_output=True, text=True)
    assert passed.returncode == 0, passed.stderr


# --- the first admin (FAB) --------------------------------------------------------------------


class FakeSecurityManager:
    """FAB's security manager as create_admin uses it: find_user, find_role, add_user."""

    def __init__(self, users=(), roles=("Admin", "Viewer")):
        self.users = dict.fromkeys(users, "existing")
        self.roles = set(roles)
        self.added = []

    def find_user(self, username):
        return self.users.get(username)

    def find_role(self, name):
        return name if name in self.roles else None

    def add_user(self, username, first_name, last_name, email, role, password):
        self.added.append((username, email, role, password))
        self.users[username] = "new"
        return self.users[username]


def builder_of(security):
    class AppBuilder:
        sm = security

    @contextmanager
    def builder():
        yield AppBuilder()

    return builder


def test_the_admin_is_created_with_the_admin_role_from_the_environment(capsys):
    security = FakeSecurityManager()
    password = secrets.token_urlsafe(16)
    environment = {"AIRFLOW_ADMIN_USER": "beheer", "AIRFLOW_ADMIN_PASSWORD": password}
    create_admin.main(environment, builder_of(security))
    assert security.added == [("beheer", "beheer@localhost", "Admin", password)]
    out = capsys.readouterr().out
    assert "beheer created" in out and password not in out
    assert password not in repr(create_admin.admin_from(environment))


def test_an_existing_admin_is_left_as_it_is(capsys):
    security = FakeSecurityManager(users=["admin"])
    create_admin.main({"AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(16)}, builder_of(security))
    assert security.added == []
    assert "exists" in capsys.readouterr().out


def test_no_admin_without_fab_roles():
    security = FakeSecurityManager(roles=())
    with pytest.raises(SystemExit, match="db migrate"):
        create_admin.main(
            {"AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(16)}, builder_of(security)
        )


@pytest.mark.parametrize("password", ["change-me", "change-me-but-longer", "short-pw", ""])
def test_a_placeholder_or_short_admin_password_is_refused_before_fab_is_touched(password):
    security = FakeSecurityManager()
    with pytest.raises(SystemExit) as refused:
        create_admin.main({"AIRFLOW_ADMIN_PASSWORD": password}, builder_of(security))
    assert str(refused.value).startswith("AIRFLOW_ADMIN_PASSWORD")
    assert not password or password not in str(refused.value)
    assert security.added == []
