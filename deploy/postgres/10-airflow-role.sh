#!/bin/bash
# Run once by the postgres image, when it initialises an empty data volume
# (mounted on /docker-entrypoint-initdb.d): Airflow's own role, owner of the airflow database and
# nothing more, so that the Airflow components never hold the superuser's password
# (POSTGRES_PASSWORD stays in the postgres service). The password goes to psql as a variable,
# quoted by psql (:'…'), so no character of it can break the statement; psql echoes nothing.
set -e
psql -v ON_ERROR_STOP=1 -v airflow_password="$AIRFLOW_DB_PASSWORD" \
    --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
SQL
