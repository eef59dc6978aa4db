"""The Airflow-aware part of informat-airflow, between the DAG files and the Airflow-free
``informat_pipelines`` and ``informat_client``: the InformatHook and the ``informat`` connection
type (``hooks``, ``provider_info``); which connections, buckets and Variables the DAGs use
(``wiring``, ``settings``, ``state``, ``storage``, ``dropzones``); what waits in the triggerer
(``triggers``, ``sensors``, ``operators``); who hears of a failure or a late run (``alerts``,
``notify``, ``mail``, ``webhook``); the DAGs' tags and context helpers (``tags``, ``context``);
and the compose deployment's start-up commands (``check_secrets``, ``create_admin``)."""
