"""Durable JSON state kept in an Airflow Variable, so a person can inspect it (and, if needed,
correct it) under Admin > Variables."""

from __future__ import annotations

from typing import Any


def load(key: str) -> dict[str, Any] | None:
    from airflow.sdk import Variable

    return Variable.get(key, default=None, deserialize_json=True)


def save(key: str, description: str, value: dict[str, Any]) -> None:
    from airflow.sdk import Variable

    Variable.set(key, value, description=description, serialize_json=True)
