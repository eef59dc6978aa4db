"""InformatHook: builds the client's configuration from an Airflow connection of type ``informat``.

It is the only Airflow-aware part of the client. The connection:

- host: base URL below which the three API's and the token endpoint live (the sandbox:
  ``http://127.0.0.1:8765``); leave it empty for Informat's own hosts;
- login / password: ``client_id`` / ``client_secret``;
- extra (JSON): ``instellingsnummers`` (list), ``toegangsgroepen`` (name -> instellingsnummer, or
  ``{"instellingsnummer": ..., "admins": [...], "payments": true}``), optionally ``scopes``,
  ``base_urls`` (per API), ``token_url``, ``page_size``, timeouts, ``max_attempts``, ``paths``.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk import BaseHook

from informat_airflow.wiring import INFORMAT_CONN_ID
from informat_client import InformatClient, InformatConfig, InformatError
from informat_client.masking import install as install_masking

EXTRA_EXAMPLE = {
    "instellingsnummers": ["012345", "012346"],
    "toegangsgroepen": {
        "VZW-Voorbeeld": {
            "instellingsnummer": "012345",
            "admins": ["boekhouding@school.example"],
            "payments": True,
        }
    },
}


class InformatHook(BaseHook):
    conn_name_attr = "informat_conn_id"
    default_conn_name = INFORMAT_CONN_ID
    conn_type = "informat"
    hook_name = "Informat"

    def __init__(self, informat_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.informat_conn_id = informat_conn_id
        self._config: InformatConfig | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "port"],
            "relabeling": {
                "host": "Base URL (empty for Informat's own hosts)",
                "login": "Client ID",
                "password": "Client secret",
            },
            "placeholders": {
                "host": "http://127.0.0.1:8765 (the sandbox)",
                "extra": json.dumps(EXTRA_EXAMPLE, indent=2),
            },
        }

    def get_config(self) -> InformatConfig:
        if self._config is None:
            conn = self.get_connection(self.informat_conn_id)
            self._config = config_from_connection(conn, self.informat_conn_id)
        return self._config

    def get_conn(self) -> InformatClient:
        install_masking()
        return InformatClient(self.get_config(), on_secret=_mask_in_airflow)

    def test_connection(self) -> tuple[bool, str]:
        """Ask a token and list the toegangsgroepen for the first instelling."""
        try:
            config = self.get_config()
            if not config.instellingsnummers:
                return False, "the extra lists no instellingsnummers"
            with self.get_conn() as client:
                number = config.instellingsnummers[0]
                groups = [g["name"] for g in client.iter_accessgroups(number)]
        except (InformatError, ValueError) as exc:
            return False, str(exc)
        return True, f"connected; instelling {number} sees toegangsgroepen: {', '.join(groups)}"


def config_from_connection(conn: Any, conn_id: str) -> InformatConfig:
    """The client's configuration from an ``informat`` connection (also used in triggers)."""
    host = conn.host or ""
    if host and conn.port and host.count(":") < (2 if "://" in host else 1):
        host = f"{host}:{conn.port}"
    if host and "://" not in host:
        host = f"{conn.schema or 'https'}://{host}"
    try:
        return InformatConfig.from_connection_fields(
            host=host or None, login=conn.login, password=conn.password, extra=conn.extra_dejson
        )
    except ValueError as exc:
        raise ValueError(f"connection {conn_id!r}: {exc}") from None


def _mask_in_airflow(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)
