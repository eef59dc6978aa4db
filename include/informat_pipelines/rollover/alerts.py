"""Delivering the rollover checks' outcome: reconcile today's findings with what was announced
before, send each mail and the optional webhook message, and give back the new state and the
run's summary. The channels are passed in, so this runs (and is tested) without Airflow."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from informat_client import InformatClient, ToegangsgroepConfig
from informat_client.masking import get_logger

from .checks import (
    Finding,
    GroupReport,
    Settings,
    check_all,
    format_summary,
    reconcile,
    summary_rows,
)
from .messages import compose

log = get_logger(__name__)

SendMail = Callable[[tuple[str, ...], str, str], None]


def check(
    client: InformatClient,
    groups: Mapping[str, ToegangsgroepConfig],
    today: date,
    settings: Settings,
) -> dict[str, Any]:
    """Check every toegangsgroep; the result is plain JSON (it travels between two tasks, as an
    XCom, so it holds no e-mail address: the recipients are read from the connection again when
    the mails go out, ``admins_of``)."""
    if not groups:
        raise ValueError("the informat connection lists no toegangsgroepen in its extra")
    reports = check_all(client, groups.values(), today, settings)
    without_addresses = {k: v for k, v in asdict(settings).items() if k != "fallback_recipients"}
    return {
        "today": today.isoformat(),
        "settings": without_addresses,
        "reports": [asdict(r) for r in reports],
    }


@dataclass(frozen=True)
class Recipients:
    """Who hears of a toegangsgroep: its admins (as the connection names them) and, for a group
    without admins or a failed check, the settings' fallback recipients."""

    admins: Mapping[str, list[str]]
    fallback: tuple[str, ...] = ()


def recipients_of(groups: Mapping[str, ToegangsgroepConfig], settings: Settings) -> Recipients:
    return Recipients(
        {name: list(g.admins) for name, g in groups.items()}, settings.fallback_recipients
    )


def _reports(checked: Mapping[str, Any]) -> Iterable[GroupReport]:
    return [
        GroupReport(**{**r, "findings": [Finding(**f) for f in r["findings"]]})
        for r in checked["reports"]
    ]


def deliver(
    checked: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    recipients: Recipients,
    send_mail: SendMail,
    post_webhook: Callable[[str], Any],
    save_state: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send what today's findings warrant (new problems, reminders, "opgelost") and return the
    new state and the summary rows (every toegangsgroep with its state).

    The state is saved (``save_state``; None: a dry run that keeps the real state as it was)
    as soon as the mails are out, before the webhook, which is best effort: a broken webhook
    never makes tomorrow's run send the same mails again."""
    settings = Settings.from_mapping(checked["settings"])
    today = date.fromisoformat(checked["today"])
    new_state, notifications = reconcile(previous, _reports(checked), today, settings)
    mails, orphaned = compose(
        notifications, recipients.admins, recipients.fallback, settings.language
    )
    for notification in orphaned:
        log.warning(
            "nobody to tell about %s of %s: no admins and no fallback_recipients",
            notification.finding.kind,
            notification.finding.toegangsgroep,
        )
    for mail in mails:
        send_mail(mail.recipients, mail.subject, mail.html)
    if save_state is not None:
        save_state(new_state)
    else:
        log.info("dry run (a given date): the state of the real checks is not changed")
    if mails:
        try:
            post_webhook("\n\n".join(f"{m.subject}\n{m.text}" for m in mails))
        except Exception as exc:  # the second channel; the mails went out
            log.warning("webhook not posted: %s", type(exc).__name__)
    rows = summary_rows(new_state)
    log.info(
        "Toegangsgroepen on %s: %d notification(s) sent\n%s",
        today,
        len(notifications),
        format_summary(rows),
    )
    return new_state, rows
