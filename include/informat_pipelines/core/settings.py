"""Settings of the pipelines come from JSON (an Airflow Variable): a typo must not pass silently."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def known_values(
    cls: type[DataclassInstance], values: Mapping[str, Any] | None, what: str
) -> dict[str, Any]:
    """A copy of ``values``, refused with the unknown keys named when any is not a field of the
    settings dataclass ``cls``. JSON lists become tuples (the settings classes are frozen)."""
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in (values or {}).items()}
    unknown = sorted(set(values) - set(cls.__dataclass_fields__))
    if unknown:
        raise ValueError(f"unknown {what} settings: {unknown}")
    return values
