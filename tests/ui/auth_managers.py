"""An auth manager with DAG rights per user and DAG id, as FAB or Keycloak give them: a user may
read the DAGs named for them and nothing else; neither a global DAG right nor a DAG it was not
given. Everything else (login, tokens, the admin) is SimpleAuthManager's own."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

# user name -> the DAGs it may read (a user not named here is SimpleAuthManager's: by role)
READABLE = {
    "extract_reader": {"informat_daily_extract"},
    "push_reader": {"informat_inschrijvingen_push"},
    "push_and_followup_reader": {
        "informat_inschrijvingen_push",
        "informat_inschrijvingen_opvolging",
    },
    "archive_and_rollover_reader": {"informat_pdf_archive", "informat_toegangsgroep_rollover"},
    "roster_reader": {"informat_roster_export"},
    "rollover_reader": {"informat_toegangsgroep_rollover"},
    "other_dag_reader": {"informat_connection_check"},
}


class PerDagAuthManager(SimpleAuthManager):
    def is_authorized_dag(
        self,
        *,
        method: Any,
        user: Any,
        access_entity: Any = None,
        details: Any = None,
    ) -> bool:
        if user.username not in READABLE:
            return super().is_authorized_dag(
                method=method, user=user, access_entity=access_entity, details=details
            )
        # as FAB's _is_authorized_dag: no global right, so only a named DAG can be allowed
        return method == "GET" and bool(details and details.id in READABLE[user.username])
