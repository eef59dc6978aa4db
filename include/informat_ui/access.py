"""Which sections of the Informat page a user may see: each shows what one or two DAGs wrote,
so Airflow's auth manager is asked, for each of those DAGs, whether the user may read it (as
FAB or Keycloak answer per DAG; SimpleAuthManager answers by role). Never from the request: a
``?dag_id=`` in the query string changes nothing. Airflow is imported only when asked."""

from __future__ import annotations

from typing import Any

ROLLOVER = "informat_toegangsgroep_rollover"
EXTRACT = "informat_daily_extract"
PUSH = "informat_inschrijvingen_push"
FOLLOWUP = "informat_inschrijvingen_opvolging"
ARCHIVE = "informat_pdf_archive"
ROSTER = "informat_roster_export"

# section of the page -> the DAGs whose data it shows (all of them must be readable)
SECTION_DAGS: dict[str, tuple[str, ...]] = {
    "toegangsgroepen": (ROLLOVER,),
    "datakwaliteit": (EXTRACT,),
    "inschrijvingen": (PUSH,),
    "opvolging": (PUSH, FOLLOWUP),  # the follow-up's columns in the push's table
    "archief": (ARCHIVE,),
    "roster": (ROSTER,),  # the export's status, its register (who approved) and held exports
}
DAGS = (ROLLOVER, EXTRACT, PUSH, FOLLOWUP, ARCHIVE, ROSTER)


def readable_dags(user: Any, auth_manager: Any | None = None) -> frozenset[str]:
    """The page's DAGs that ``user`` may read, by Airflow's auth manager (the API server's own,
    unless one is given)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    if auth_manager is None:
        from airflow.api_fastapi.app import get_auth_manager

        auth_manager = get_auth_manager()
    teams = _teams()
    return frozenset(
        dag_id
        for dag_id in DAGS
        if auth_manager.is_authorized_dag(
            method="GET", user=user, details=DagDetails(id=dag_id, team_name=teams.get(dag_id))
        )
    )


def shown_sections(readable: frozenset[str]) -> frozenset[str]:
    """The sections whose DAGs are all in ``readable``."""
    return frozenset(
        section for section, dags in SECTION_DAGS.items() if all(d in readable for d in dags)
    )


def _teams() -> dict[str, str | None]:
    """Each DAG's team, as Airflow's own DAG endpoints pass it to the auth manager; only looked
    up (in the metadata database) when Airflow runs with teams."""
    from airflow.configuration import conf

    if not conf.getboolean("core", "multi_team", fallback=False):
        return {}
    from airflow.models.dag import DagModel

    return DagModel.get_dag_id_to_team_name_mapping(list(DAGS))
