"""The start-up check of the compose deployment's secrets: run by its one-shot ``check-secrets``
service, before PostgreSQL and MinIO first write a password into their volumes and before any
Airflow component starts. It refuses the placeholders of ``.env.example`` and values too short to
be random keys, and names each variable to set, never its value.

Compose's ``${VAR:?}`` only refuses an empty value; a placeholder from ``.env.example`` would
otherwise become a public key: ``AIRFLOW_SECRET_KEY`` signs Airflow's JWTs (a forged admin token
validates), the preRegistration key makes a child's id computable from its INSZ.

Values that compose writes into a URL or a connection's JSON (the metadata database's password,
the MinIO users of Airflow, the two keys) must be URL-safe (letters, digits, ``-`` and ``_``, what
``secrets.token_urlsafe`` makes): any other character would break the URL or the JSON."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

GENERATE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
GENERATE_FERNET = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
# every placeholder .env.example has ever shipped starts with or contains one of these
_PLACEHOLDER = re.compile(r"change[-_ ]?me|replace[-_ ]?me|placeholder", re.IGNORECASE)
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Rule:
    """What one variable of ``.env`` must be."""

    name: str
    min_length: int
    url_safe: bool = False  # compose writes it into a URL or a connection's JSON
    fernet: bool = False  # one or more comma-separated Fernet keys (key rotation)


RULES: tuple[Rule, ...] = (
    # HS512 signs with it: at least 64 characters (token_urlsafe(48) makes 64)
    Rule("AIRFLOW_SECRET_KEY", 64),
    Rule("AIRFLOW_API_SECRET_KEY", 32),
    Rule("AIRFLOW_FERNET_KEY", 44, fernet=True),
    Rule("AIRFLOW_ADMIN_PASSWORD", 12),
    Rule("POSTGRES_PASSWORD", 16),
    Rule("AIRFLOW_DB_PASSWORD", 16, url_safe=True),
    Rule("MINIO_ROOT_PASSWORD", 16),
    Rule("MINIO_APP_PASSWORD", 16, url_safe=True),
    Rule("MINIO_RAW_PASSWORD", 16, url_safe=True),
    Rule("MINIO_READER_PASSWORD", 16, url_safe=True),
    Rule("INFORMAT_PSEUDONYMISATION_KEY", 32, url_safe=True),
    Rule("INFORMAT_PREREGISTRATION_KEY", 32, url_safe=True),
)


def problem(rule: Rule, value: str | None) -> str | None:
    """Why ``value`` will not do for ``rule``'s variable (a sentence naming the variable and never
    the value), or None when it will."""
    how = f"(e.g. {GENERATE_FERNET if rule.fernet else GENERATE_KEY})"
    if not value:
        return f"{rule.name} is not set: set it in .env {how}"
    if _PLACEHOLDER.search(value):
        return f"{rule.name} is still the placeholder of .env.example: set it in .env {how}"
    if rule.fernet:
        return None if _fernet_keys(value) else f"{rule.name} is not a Fernet key: set it {how}"
    if len(value) < rule.min_length:
        return (
            f"{rule.name} is shorter than {rule.min_length} characters: set it in .env to a "
            f"random value {how}"
        )
    if rule.url_safe and not _URL_SAFE.fullmatch(value):
        return (
            f"{rule.name} may hold only letters, digits, '-' and '_' (compose writes it into a "
            f"URL or a connection): set it in .env {how}"
        )
    if len(set(value)) < 8:  # "aaaa…" or "abab…": long, but no key
        return f"{rule.name} is not random: set it in .env {how}"
    return None


def _fernet_keys(value: str) -> bool:
    from cryptography.fernet import Fernet

    try:
        for key in value.split(","):
            Fernet(key.strip().encode())
    except ValueError:
        return False
    return True


def problems(environ: Mapping[str, str], rules: tuple[Rule, ...] = RULES) -> list[str]:
    """Every variable of ``rules`` that ``environ`` does not set to a usable value, explained."""
    return [p for rule in rules if (p := problem(rule, environ.get(rule.name))) is not None]


def main(environ: Mapping[str, str] | None = None) -> int:
    found = problems(os.environ if environ is None else environ)
    for line in found:
        sys.stderr.write(f"refused: {line}\n")
    if found:
        sys.stderr.write(f"{len(found)} secret(s) to set in .env; nothing was started\n")
        return 1
    sys.stdout.write(f"{len(RULES)} secrets checked: none is a placeholder or too short\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
