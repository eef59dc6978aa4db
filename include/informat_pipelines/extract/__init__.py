"""The daily extraction (DAG ``informat_daily_extract``): plan partitions, read them from Informat,
land a raw copy and typed Parquet, validate with Great Expectations, publish or quarantine, and
report. No Airflow import; the DAG file wires these."""
