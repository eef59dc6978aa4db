"""Local stand-ins for the embedded default and the tests: an SMTP mail catcher and an
S3-compatible HTTP endpoint, both on 127.0.0.1. Their libraries (aiosmtpd, moto) come from
requirements-local.txt, not from the Airflow image."""
