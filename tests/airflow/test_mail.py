"""Every mail carries a plain-text part beside the HTML (HTML-only mail reads badly in some
clients, filters and screen readers), sent through the SMTP
provider to a real SMTP server: the project's own mails and the failure notice."""

from __future__ import annotations

from informat_devtools.mailcatcher import MailCatcher

from ..support.airflow import set_smtp_connection

HTML = (
    "<html><body><p>Het bestand <b>a&amp;b.csv</b> is verwerkt.</p>"
    "<ul><li>doorgestuurd: 3</li><li>geweigerd: 1</li></ul>"
    '<p>Zie <a href="https://example.org/r">het verslag</a>.</p></body></html>'
)


def test_plain_text_keeps_lines_lists_links_and_decodes_entities():
    from informat_pipelines.core.mail_text import plain_text

    assert plain_text(HTML) == (
        "Het bestand a&b.csv is verwerkt.\n\n- doorgestuurd: 3\n- geweigerd: 1\n\n"
        "Zie het verslag (https://example.org/r).\n"
    )


def test_a_mail_has_a_text_part_and_an_html_part(monkeypatch):
    from informat_airflow import notify

    with MailCatcher() as mail:
        set_smtp_connection(monkeypatch, mail.port)
        notify.send_mail("smtp_default", ("school@example.org",), "[Informat] test", HTML)
        [received] = mail.wait_for(1)
    types = [p.get_content_type() for p in received.message.walk()]
    assert "text/plain" in types and "text/html" in types
    assert received.plain.startswith("Het bestand a&b.csv is verwerkt.")
    assert "<b>a&amp;b.csv</b>" in received.html


def test_the_failure_notice_has_a_text_part_too(monkeypatch):
    from informat_airflow.alerts import on_failure

    monkeypatch.setenv("INFORMAT_DATA_TEAM", "data@example.org")
    with MailCatcher() as mail:
        set_smtp_connection(monkeypatch, mail.port)
        [notifier] = [n for n in on_failure() if type(n).__name__ == "MailNotifier"]
        notifier.subject, notifier.html_content = "[Informat] x: task y failed", "<p>failed</p>"
        notifier.notify({})
        [received] = mail.wait_for(1)
    assert received.plain.strip() == "failed" and "<p>failed</p>" in received.html
