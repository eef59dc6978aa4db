"""The PDF archive (DAG ``informat_pdf_archive``): ask Informat for invoice PDFs, store them with a
verified manifest, and keep the archive within its retention. No Airflow import."""
