"""What two or more DAGs share: reading the object store, settings from JSON, mail text and the
status summaries the Informat page reads. Nothing here imports a DAG's package."""
