# The Airflow image of informat-airflow: Airflow 3.3.2 on Python 3.11 with the project's
# requirements, what production adds to them (requirements-prod.txt: Celery, the FAB auth
# manager) and its own package (client, pipelines, hook, connection type).
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:0 requirements.txt requirements-prod.txt pyproject.toml /opt/informat/
COPY --chown=airflow:0 include /opt/informat/include
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r /opt/informat/requirements.txt \
        -r /opt/informat/requirements-prod.txt \
 && pip install --no-cache-dir --no-deps -e /opt/informat
