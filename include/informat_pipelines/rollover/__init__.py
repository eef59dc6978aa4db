"""The toegangsgroep rollover checks (DAG ``informat_toegangsgroep_rollover``): what each check
found, the Dutch messages to the admins, and when to send them. No Airflow import."""
