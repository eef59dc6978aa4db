"""The Informat page in Airflow's UI: views, charts and the HTML page (no Airflow import),
the sources and FastAPI app that the plugin in ``plugins/`` mounts in the API server, who may see
which section (``access``: Airflow's auth manager, per DAG) and the headers of every answer."""
