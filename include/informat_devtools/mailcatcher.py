"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives, in memory
and optionally as ``.eml`` files in a folder."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from informat_devtools.ports import free_port


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """Every text part (plain and HTML), so that a check that something is absent from a
        mail covers both."""
        parts = (p for p in self.message.walk() if p.get_content_maintype() == "text")
        return "\n".join(p.get_content() for p in parts)

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    @property
    def plain(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class MailCatcher:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, folder: Path | None = None):
        from aiosmtpd.controller import Controller

        self.messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self.folder = folder
        if folder:
            folder.mkdir(parents=True, exist_ok=True)
        catcher = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                mail = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message)
                with catcher._lock:
                    catcher.messages.append(mail)
                    count = len(catcher.messages)
                if catcher.folder:
                    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{count:04d}.eml"
                    (catcher.folder / name).write_bytes(envelope.content)
                return "250 Message accepted for delivery"

        self._controller = Controller(Handler(), hostname=host, port=port or free_port(host))
        self.host = host

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self._lock:
            return list(self.messages)

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
