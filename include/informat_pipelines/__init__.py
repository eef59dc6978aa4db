"""Pipeline logic of the project's DAGs, free of Airflow: each DAG file only wires these."""
