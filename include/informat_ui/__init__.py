"""The Informat page in Airflow's UI: views, charts and the HTML page (no Airflow import),
and the sources and FastAPI app that the plugin in ``plugins/`` mounts in the API server."""
