"""The words of the rollover alerts, in Dutch (default) and English: what is wrong, since when,
what it blocks and exactly what to do. No Airflow import; no personal data in any message."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from informat_client.schooljaar import start_year

from .checks import CHECK_FAILURES, Notification

# kind -> (title, what is wrong, what it blocks, what to do); {g}: toegangsgroep, {sj}: schooljaar
TEXTS: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "nl": {
        "not_carried_over": (
            "Toegangsgroep {g} is niet overgezet naar schooljaar {sj}",
            "De API-rechten van toegangsgroep {g} zijn niet overgezet naar schooljaar {sj}. "
            "Informat levert voor deze toegangsgroep geen gegevens meer via de Rekeningen-API.",
            "het ophalen van rekeningen, het registreren van betalingen en het archiveren van "
            "de PDF's van rekeningen",
            "Log in op toegangsgroep {g} via iRekeningen voor schooljaar {sj}. "
            "Daarmee worden de API-rechten overgezet.",
        ),
        "next_not_carried_over": (
            "Toegangsgroep {g} is nog niet overgezet naar schooljaar {sj}",
            "De API-rechten van toegangsgroep {g} zijn nog niet overgezet naar het nieuwe "
            "schooljaar {sj}. Zonder overzetting stopt de Rekeningen-API op 1 september {y}.",
            "vanaf 1 september {y}: het ophalen van rekeningen, het registreren van betalingen "
            "en het archiveren van de PDF's van rekeningen",
            "Log vóór 1 september {y} in op toegangsgroep {g} via iRekeningen voor "
            "schooljaar {sj}.",
        ),
        "inactive": (
            "Toegangsgroep {g} is niet meer actief",
            "Toegangsgroep {g} was actief, maar Informat meldt ze nu als inactief "
            "(schooljaar {sj}).",
            "het ophalen van rekeningen, het registreren van betalingen en het archiveren van "
            "de PDF's van rekeningen",
            "Controleer in iRekeningen of toegangsgroep {g} nog actief is en activeer ze opnieuw; "
            "log er daarna op in voor schooljaar {sj}. Lukt dat niet, neem dan contact op met "
            "Informat.",
        ),
        "probe_no_data": (
            "Toegangsgroep {g} geeft geen gegevens terug",
            "Toegangsgroep {g} is actief voor schooljaar {sj}, maar een controle-opvraging van "
            "de rekeningen geeft niets terug.",
            "mogelijk het ophalen van rekeningen en het archiveren van hun PDF's",
            "Controleer in iRekeningen of er voor schooljaar {sj} rekeningen zijn in toegangsgroep "
            "{g} en of de toegangsgroep de juiste vestigingen bevat.",
        ),
        "no_active_user": (
            "Toegangsgroep {g} heeft geen actieve gebruiker",
            "Toegangsgroep {g} heeft geen actieve en geldige gebruiker. De eerste actieve "
            "gebruiker in de lijst registreert de betalingen.",
            "het registreren van betalingen en het afpunten van rekeningen",
            "Activeer in iRekeningen minstens één geldige gebruiker van toegangsgroep {g}.",
        ),
        "missing_journal": (
            "Toegangsgroep {g} heeft geen dagboek Extern",
            "In de boekhouding van toegangsgroep {g} ontbreekt een financieel dagboek 'Extern' "
            "of 'Extern_Dubieus'.",
            "het registreren van betalingen en het afpunten van rekeningen",
            "Maak in de subadministratie van toegangsgroep {g} een financieel dagboek 'Extern' "
            "(of 'Extern_Dubieus') aan.",
        ),
        "unknown_toegangsgroep": (
            "Toegangsgroep {g} is onbekend bij Informat",
            "Toegangsgroep {g} staat in de configuratie, maar Informat kent ze niet voor deze "
            "API-client (schooljaar {sj}).",
            "alle controles en gegevens van deze toegangsgroep",
            "Controleer de schrijfwijze van {g} in de Airflow-verbinding 'informat_default' "
            "(extra 'toegangsgroepen'), of vraag Informat om toegang tot deze toegangsgroep.",
        ),
        "check_unreachable": (
            "Controle van toegangsgroep {g} mislukt: Informat onbereikbaar",
            "De controle zelf is mislukt: Informat antwoordde niet of met een fout. Dit zegt "
            "niets over de toegangsgroep zelf.",
            "de controle van toegangsgroep {g} tot Informat weer antwoordt",
            "Geen actie nodig in iRekeningen. Het datateam volgt dit op; houdt het aan, kijk dan "
            "of Informat een storing meldt.",
        ),
        "check_credentials_refused": (
            "Controle van toegangsgroep {g} mislukt: aanmeldgegevens geweigerd",
            "De controle zelf is mislukt: Informat weigert de client_id en client_secret van de "
            "school. Dit zegt niets over de toegangsgroep zelf.",
            "alle koppelingen met Informat, niet alleen deze toegangsgroep",
            "Controleer client_id en client_secret in de Airflow-verbinding 'informat_default'; "
            "vraag zo nodig nieuwe aanmeldgegevens aan via de directie (intakeformulier Informat).",
        ),
    },
    "en": {
        "not_carried_over": (
            "Toegangsgroep {g} was not carried over to schooljaar {sj}",
            "The API rights of toegangsgroep {g} were not carried over to schooljaar {sj}. "
            "Informat no longer serves this toegangsgroep through the Rekeningen API.",
            "fetching invoices, registering payments and archiving invoice PDFs",
            "Log in on toegangsgroep {g} via iRekeningen for schooljaar {sj}; that carries "
            "the API rights over.",
        ),
        "next_not_carried_over": (
            "Toegangsgroep {g} is not yet carried over to schooljaar {sj}",
            "The API rights of toegangsgroep {g} are not yet carried over to the new schooljaar "
            "{sj}. Without that, the Rekeningen API stops on 1 September {y}.",
            "from 1 September {y}: fetching invoices, registering payments and archiving PDFs",
            "Before 1 September {y}, log in on toegangsgroep {g} via iRekeningen for "
            "schooljaar {sj}.",
        ),
        "inactive": (
            "Toegangsgroep {g} is no longer active",
            "Toegangsgroep {g} was active, but Informat now reports it inactive (schooljaar {sj}).",
            "fetching invoices, registering payments and archiving invoice PDFs",
            "Check in iRekeningen whether toegangsgroep {g} is still active and reactivate it; "
            "then log in on it for schooljaar {sj}. If that fails, contact Informat.",
        ),
        "probe_no_data": (
            "Toegangsgroep {g} returns no data",
            "Toegangsgroep {g} is active for schooljaar {sj}, but a probe of its invoices "
            "returns nothing.",
            "possibly fetching invoices and archiving their PDFs",
            "Check in iRekeningen that toegangsgroep {g} has invoices for schooljaar {sj} and "
            "holds the right vestigingen.",
        ),
        "no_active_user": (
            "Toegangsgroep {g} has no active user",
            "Toegangsgroep {g} has no active and valid user; the first active user in the list "
            "authenticates payment registrations.",
            "registering payments and marking invoices paid",
            "Activate at least one valid user of toegangsgroep {g} in iRekeningen.",
        ),
        "missing_journal": (
            "Toegangsgroep {g} has no journal Extern",
            "The accounts of toegangsgroep {g} have no financial journal 'Extern' or "
            "'Extern_Dubieus'.",
            "registering payments and marking invoices paid",
            "Create a financial journal 'Extern' (or 'Extern_Dubieus') in the sub-ledger of "
            "toegangsgroep {g}.",
        ),
        "unknown_toegangsgroep": (
            "Toegangsgroep {g} is unknown to Informat",
            "Toegangsgroep {g} is configured, but Informat does not know it for this API client "
            "(schooljaar {sj}).",
            "every check and all data of this toegangsgroep",
            "Check the spelling of {g} in the Airflow connection 'informat_default' (extra "
            "'toegangsgroepen'), or ask Informat for access to it.",
        ),
        "check_unreachable": (
            "Check of toegangsgroep {g} failed: Informat unreachable",
            "The check itself failed: Informat did not answer, or answered with an error. This "
            "says nothing about the toegangsgroep itself.",
            "checking toegangsgroep {g} until Informat answers again",
            "Nothing to do in iRekeningen. The data team follows this up; if it lasts, check "
            "whether Informat reports an outage.",
        ),
        "check_credentials_refused": (
            "Check of toegangsgroep {g} failed: credentials refused",
            "The check itself failed: Informat refuses the school's client_id and client_secret. "
            "This says nothing about the toegangsgroep itself.",
            "every link with Informat, not only this toegangsgroep",
            "Check client_id and client_secret in the Airflow connection 'informat_default'; "
            "ask for new credentials through the directie (Informat intake form) if needed.",
        ),
    },
}

LABELS = {
    "nl": {
        "new": "Nieuw",
        "reminder": "Herinnering",
        "resolved": "Opgelost",
        "what": "Wat is er mis",
        "since": "Sinds",
        "blocks": "Wat het blokkeert",
        "todo": "Wat te doen",
        "resolved_text": "Dit probleem is opgelost: {title} (gemeld sinds {since}).",
        "detail": "Technisch detail (voor het datateam)",
        "many": "{n} meldingen over toegangsgroepen in Informat",
        "footer": "Deze melding komt van de dagelijkse controle informat_toegangsgroep_rollover. "
        "U krijgt een herinnering zolang het probleem duurt, en een bericht wanneer het "
        "opgelost is.",
    },
    "en": {
        "new": "New",
        "reminder": "Reminder",
        "resolved": "Resolved",
        "what": "What is wrong",
        "since": "Since",
        "blocks": "What it blocks",
        "todo": "What to do",
        "resolved_text": "This problem is resolved: {title} (reported since {since}).",
        "detail": "Technical detail (for the data team)",
        "many": "{n} notices about toegangsgroepen in Informat",
        "footer": "This notice comes from the daily check informat_toegangsgroep_rollover. You "
        "get a reminder while the problem lasts, and a message when it is resolved.",
    },
}


@dataclass(frozen=True)
class Mail:
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str


def _values(notification: Notification) -> dict[str, str]:
    finding = notification.finding
    return {
        "g": finding.toegangsgroep,
        "sj": finding.schooljaar,
        "y": str(start_year(finding.schooljaar)),
    }


def title(notification: Notification, language: str) -> str:
    return TEXTS[language][notification.finding.kind][0].format(**_values(notification))


def render(notification: Notification, language: str) -> str:
    """The plain-text section of one notification."""
    labels = LABELS[language]
    values = _values(notification)
    head, what, blocks, todo = (
        t.format(**values) for t in TEXTS[language][notification.finding.kind]
    )
    since = date.fromisoformat(notification.since).strftime("%d/%m/%Y")
    if notification.event == "resolved":
        return f"[{labels['resolved']}] " + labels["resolved_text"].format(title=head, since=since)
    lines = [
        f"[{labels[notification.event]}] {head}",
        f"{labels['what']}: {what}",
        f"{labels['since']}: {since}",
        f"{labels['blocks']}: {blocks}",
        f"{labels['todo']}: {todo}",
    ]
    if notification.finding.detail and notification.finding.kind in CHECK_FAILURES:
        lines.append(f"{labels['detail']}: {notification.finding.detail}")
    return "\n".join(lines)


def recipients_for(
    notification: Notification,
    admins: Mapping[str, Iterable[str]],
    fallback: Iterable[str],
) -> tuple[str, ...]:
    """A toegangsgroep's admins, or the fallback list when it has none. A failure of the check
    itself also goes to the fallback list (the data team), besides the admins."""
    own = tuple(admins.get(notification.finding.toegangsgroep, ()))
    fallback = tuple(fallback)
    chosen = own + fallback if notification.finding.kind in CHECK_FAILURES else own or fallback
    return tuple(dict.fromkeys(chosen))  # unique, in order


def compose(
    notifications: Iterable[Notification],
    admins: Mapping[str, Iterable[str]],
    fallback: Iterable[str],
    language: str = "nl",
) -> tuple[list[Mail], list[Notification]]:
    """One mail per set of recipients, holding all its notifications of this run. Also returns
    the notifications that have nobody to go to (no admins and no fallback)."""
    grouped: dict[tuple[str, ...], list[Notification]] = {}
    orphaned = []
    for notification in notifications:
        to = recipients_for(notification, admins, fallback)
        if to:
            grouped.setdefault(to, []).append(notification)
        else:
            orphaned.append(notification)
    labels = LABELS[language]
    mails = []
    for to, items in grouped.items():
        if len(items) == 1:
            item = items[0]
            subject = f"[Informat] {labels[item.event]}: {title(item, language)}"
        else:
            subject = f"[Informat] {labels['many'].format(n=len(items))}"
        text = "\n\n".join(render(item, language) for item in items) + f"\n\n{labels['footer']}\n"
        body = "".join(
            "<p>" + html.escape(section).replace("\n", "<br>\n") + "</p>\n"
            for section in text.split("\n\n")
            if section.strip()
        )
        mails.append(Mail(to, subject, text, f"<html><body>\n{body}</body></html>"))
    return mails, orphaned
