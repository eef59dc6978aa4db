# The Airflow image of informat-airflow: Airflow 3.3.2 on Python 3.11 with the project's
# requirements and its own package (client, pipelines, hook, connection type).
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:0 requirements.txt pyproject.toml /opt/informat/
COPY --chown=airflow:0 include /opt/informat/include
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r /opt/informat/requirements.txt \
        "apache-airflow-providers-celery==3.26.0" \
 && pip install --no-cache-dir --no-deps -e /opt/informat
