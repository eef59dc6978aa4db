"""Local stand-ins and helpers for the embedded default (``make run``), the tests and the
benchmarks, never for production: an SMTP mail catcher (``mailcatcher``) and an S3-compatible
endpoint (``s3``), both on 127.0.0.1 (``ports``); the embedded default as a context manager
(``embedded``); a real browser for the page's tests (``browser``); and generated history for the
Informat page (``history``). Their libraries (aiosmtpd, moto, Playwright) come from
requirements-local.txt and requirements-dev.txt, not from the Airflow image."""
