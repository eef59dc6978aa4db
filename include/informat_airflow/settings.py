"""Settings of the DAGs, kept in JSON Variables, read into the settings class of the pipeline that
uses them (which refuses unknown keys), and secrets kept in connections."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

T = TypeVar("T", bound="FromMapping")


class FromMapping(Protocol):
    @classmethod
    def from_mapping(cls: type[T], values: Any) -> T: ...


def from_variable(name: str, cls: type[T]) -> T:
    """The JSON Variable ``name`` (absent: the defaults) as an instance of ``cls``."""
    from airflow.sdk import Variable

    return cls.from_mapping(Variable.get(name, default=None, deserialize_json=True))


def connection_secret(conn_id: str) -> bytes:
    """The password of connection ``conn_id``, for keys that must never sit in a Variable."""
    from airflow.sdk import BaseHook

    password = BaseHook.get_connection(conn_id).password
    if not password:
        raise ValueError(f"connection {conn_id!r} has no password (the key)")
    return password.encode()
