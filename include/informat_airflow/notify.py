"""Sending alerts through Airflow's own connections: e-mail with the SMTP provider's SmtpHook, and
an optional Slack or Teams incoming webhook through the HTTP provider's HttpHook."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from informat_client.masking import get_logger

log = get_logger(__name__)


def send_mail(
    smtp_conn_id: str,
    recipients: tuple[str, ...],
    subject: str,
    html_content: str,
    attachments: Mapping[str, bytes] | None = None,
) -> None:
    """``attachments``: file name -> bytes (a per-row report); the provider attaches files by
    path, so they are written to a private temporary folder first."""
    from informat_airflow.mail import MailHook  # the provider's hook, with a plain-text part

    with tempfile.TemporaryDirectory(prefix="informat-mail-") as folder:
        files = []
        for name, data in (attachments or {}).items():
            path = Path(folder) / Path(name).name  # a plain name, never a path of its own
            path.write_bytes(data)
            files.append(str(path))
        with MailHook(smtp_conn_id=smtp_conn_id) as hook:
            from_email = hook.from_email or "airflow@localhost"
            hook.send_email_smtp(
                to=list(recipients), subject=subject, html_content=html_content,
                from_email=from_email, files=files or None,
            )  # fmt: skip
    log.info("mail sent to %d recipient(s): %s", len(recipients), subject)


def connection_exists(conn_id: str) -> bool:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowRuntimeError

    try:
        BaseHook.get_connection(conn_id)
    except (AirflowRuntimeError, LookupError, ValueError):
        return False
    except Exception as exc:  # AirflowNotFoundException on older task SDKs
        if type(exc).__name__ in ("AirflowNotFoundException", "ConnectionNotFound"):
            return False
        raise
    return True


def post_webhook(http_conn_id: str, text: str) -> bool:
    """Post ``{"text": ...}`` (what Slack and Teams incoming webhooks take) to the connection's
    URL. Returns False, with a log line, when the connection does not exist: the webhook is an
    optional second channel."""
    if not connection_exists(http_conn_id):
        log.info("no connection %r: webhook skipped", http_conn_id)
        return False
    from airflow.providers.http.hooks.http import HttpHook

    payload: dict[str, Any] = {"text": text}
    hook = HttpHook(method="POST", http_conn_id=http_conn_id)
    hook.run(
        endpoint=None,
        data=json.dumps(payload),
        headers={"Content-Type": "application/json"},
        extra_options={"check_response": True, "timeout": 30},
    )
    log.info("webhook %s: posted %d characters", http_conn_id, len(text))
    return True
