"""The local tooling: stand-ins for the services a deployment has (an SMTP mail catcher, an
S3-compatible endpoint, all on 127.0.0.1), the one description of how Airflow is wired to them
(local_connections), a small client of Airflow's REST API (airflow_api), the embedded default as
a context manager (embedded), and what the tests and benchmarks share (free ports, a year of
history for the page, a browser). Their libraries (aiosmtpd, moto) come from
requirements-local.txt, not from the Airflow image."""
