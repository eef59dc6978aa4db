"""Mail through the SMTP provider, with a plain-text part beside the HTML: the provider builds
HTML-only messages, which some mail clients, filters and screen readers handle badly. The
subclasses change only how the message is built; connection, login and retries stay the
provider's."""

from __future__ import annotations

from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from functools import cached_property
from typing import Any

from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from informat_pipelines.core.mail_text import plain_text


class MailHook(SmtpHook):
    """``SmtpHook`` whose messages carry ``multipart/alternative``: text first, then HTML."""

    def _build_mime_message(self, *args: Any, **kwargs: Any) -> tuple[MIMEMultipart, list[str]]:
        message, recipients = super()._build_mime_message(*args, **kwargs)
        parts = message.get_payload()
        html_part = next(p for p in parts if p.get_content_type() == "text/html")
        charset = html_part.get_content_charset() or "utf-8"
        html_content = html_part.get_payload(decode=True).decode(charset)
        alternative = MIMEMultipart("alternative")
        alternative.attach(MIMEText(plain_text(html_content), "plain", charset))
        alternative.attach(html_part)
        message.set_payload([alternative if p is html_part else p for p in parts])
        return message, recipients


class MailNotifier(SmtpNotifier):
    """``SmtpNotifier`` sending through :class:`MailHook`; as a deadline's callback, silent for
    a run made after its deadline started (``late_runs.made_after_its_deadline_started``)."""

    def notify(self, context: Any) -> None:
        from informat_airflow.late_runs import made_after_its_deadline_started

        if made_after_its_deadline_started(context):
            return
        super().notify(context)

    async def async_notify(self, context: Any) -> None:  # a deadline's, from the triggerer
        from informat_airflow.late_runs import made_after_its_deadline_started

        if made_after_its_deadline_started(context):
            return
        await super().async_notify(context)

    @cached_property
    def hook(self) -> SmtpHook:
        return MailHook(smtp_conn_id=self.smtp_conn_id, auth_type=self.auth_type)
