"""Pipeline logic of the project's DAGs, free of Airflow: one package per DAG (``extract``,
``voorinschrijvingen``, ``pdf_archive``, ``rollover``, ``connection_check``) and ``core`` for what
two or more of them share. Each DAG file only wires these."""
