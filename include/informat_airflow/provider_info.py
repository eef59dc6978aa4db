"""Registers the ``informat`` connection type with Airflow (``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "informat-airflow",
        "name": "Informat",
        "description": "Informat school administration API's (Leerlingen, Personeel, Rekeningen).",
        "connection-types": [
            {
                "hook-class-name": "informat_airflow.hooks.InformatHook",
                "connection-type": "informat",
            }
        ],
        "versions": ["0.1.0"],
    }
