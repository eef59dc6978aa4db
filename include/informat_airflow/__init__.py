"""The Airflow-aware parts of informat-airflow: the InformatHook and the provider registration
that gives Airflow a connection type ``informat``. Everything else lives in Airflow-free modules."""
