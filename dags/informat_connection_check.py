"""Wiring only: the logic lives in informat_pipelines.connection_check.checks."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

from informat_airflow.alerts import default_args
from informat_airflow.wiring import INFORMAT_CONN_ID

DOC = """
### Informat connection check

Run this by hand after setting up (or changing) the `informat` connection. For every
instellingsnummer in the connection it reads one record of the Leerlingen and Personeel API's;
for every toegangsgroep it reports whether Informat says it is active for the schooljaar of the
run's date. The task fails, naming the instelling, API and Informat's error code, when anything
is unreachable or refused. No personal data is logged: only counts and states.

#### Als het faalt / When it fails
A failed `check_instelling` names the instelling, the API and Informat's code: a refused scope
means the intake form did not grant it; refused credentials mean the connection's login or
password is wrong. Fix the connection and trigger the DAG again. Nobody else is told: it is run
by hand, by the person setting up.
"""


@dag(
    dag_id="informat_connection_check",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["informat", "leerlingen", "personeel", "rekeningen", "setup"],
    doc_md=DOC,
    default_args=default_args(timedelta(seconds=30), retries=1),
)
def informat_connection_check():
    @task
    def instellingsnummers() -> list[str]:
        from informat_airflow.hooks import InformatHook

        conn_id = INFORMAT_CONN_ID
        numbers = list(InformatHook(conn_id).get_config().instellingsnummers)
        if not numbers:
            raise ValueError(f"connection {conn_id!r} lists no instellingsnummers in its extra")
        return numbers

    @task
    def check_instelling(instellingsnummer: str) -> dict:
        from informat_airflow.context import run_day
        from informat_airflow.hooks import InformatHook
        from informat_client.masking import get_logger
        from informat_client.schooljaar import schooljaar_for
        from informat_pipelines.connection_check.checks import check_instelling

        context = get_current_context()
        schooljaar = schooljaar_for(run_day(context))
        with InformatHook(INFORMAT_CONN_ID).get_conn() as client:
            result = check_instelling(client, instellingsnummer, schooljaar)
        for api, state in result["apis"].items():
            get_logger(__name__).info("instelling %s, %s: %s", instellingsnummer, api, state)
        if not result["ok"]:
            raise RuntimeError(f"instelling {instellingsnummer}: {result['apis']}")
        return result

    @task
    def check_toegangsgroepen() -> dict:
        from informat_airflow.context import run_day
        from informat_airflow.hooks import InformatHook
        from informat_client.masking import get_logger
        from informat_client.schooljaar import schooljaar_for
        from informat_pipelines.connection_check.checks import check_toegangsgroepen

        context = get_current_context()
        schooljaar = schooljaar_for(run_day(context))
        with InformatHook(INFORMAT_CONN_ID).get_conn() as client:
            result = check_toegangsgroepen(client, schooljaar)
        for name, state in result["toegangsgroepen"].items():
            get_logger(__name__).info(
                "toegangsgroep %s, schooljaar %s: %s", name, schooljaar, state
            )
        return result

    check_instelling.expand(instellingsnummer=instellingsnummers())
    check_toegangsgroepen()


informat_connection_check()
