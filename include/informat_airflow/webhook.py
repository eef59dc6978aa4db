"""The optional second channel of the data team's notices: a Slack or Teams incoming webhook
(connection ``informat_alerts_webhook``), as an Airflow notifier for failure callbacks and
deadline alerts. Without the connection it does nothing (and says so in the log)."""

from __future__ import annotations

import asyncio
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

from informat_airflow.wiring import WEBHOOK_CONN_ID


class WebhookNotifier(BaseNotifier):
    """Posts ``text`` (templated) to the webhook connection, synchronously in a failure callback
    and from the triggerer for a deadline alert."""

    template_fields = ("text",)

    def __init__(self, text: str, http_conn_id: str = WEBHOOK_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = text
        self.http_conn_id = http_conn_id

    def notify(self, context: Any) -> None:
        from informat_airflow.late_runs import made_after_its_deadline_started
        from informat_airflow.notify import post_webhook

        if made_after_its_deadline_started(context):  # a deadline of a run made late
            return
        post_webhook(self.http_conn_id, self.text)

    async def async_notify(self, context: Any) -> None:
        await asyncio.to_thread(self.notify, context)
