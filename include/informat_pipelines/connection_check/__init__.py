"""The connection check (DAG ``informat_connection_check``): can each toegangsgroep get a token and
read its instellingen. No Airflow import."""
