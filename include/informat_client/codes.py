"""Informat's own error codes of the Leerlingen API and what each means, in Informat's Dutch:
``BRnnn`` field validation of a voorinschrijving, ``DNF001`` no voorinschrijving for the id,
``MNA…`` a voorinschrijving that can no longer change (public code: the error-code table of
``kobavzw/informat-php-client``). Shown to whoever must fix the row."""

from __future__ import annotations

MESSAGES = {
    "BR000": "De waarde voor het veld kon niet omgezet worden naar het verwachte type.",
    "BR001A": "De achternaam is verplicht.",
    "BR001B": "De achternaam mag maximum 50 karakters lang zijn.",
    "BR002A": "De voornaam is verplicht.",
    "BR002B": "De voornaam mag maximum 50 karakters lang zijn.",
    "BR003": "Bijkomende namen mogen maximum 160 karakters lang zijn.",
    "BR004A": "Ongeldige geboortedatum.",
    "BR005A": "Code geboorteland is verplicht.",
    "BR005B": "Code geboorteland moet 5 karakters bevatten.",
    "BR006A": "Code geboorteplaats mag maximum 10 karakters bevatten.",
    "BR007A": "Geboorteplaats mag maximum 50 karakters bevatten.",
    "BR008A": "Code nationaliteit is verplicht.",
    "BR008B": "Code nationaliteit moet 5 karakters bevatten.",
    "BR009": "Ongeldig geslacht.",
    "BR010A": "Ongeldig rijksregisternummer.",
    "BR011": "Het eID-nummer mag maximum 12 karakters lang zijn.",
    "BR012": "Het gsm-nummer mag maximum 20 karakters lang zijn.",
    "BR013": "Ongeldig e-mailadres.",
    "BR014": "Naam dokter mag maximum 100 karakters lang zijn.",
    "BR015": "Telefoonnummer dokter mag maximum 20 karakters lang zijn.",
    "BR016": "Moedertaal mag maximum 100 karakters lang zijn.",
    "BR020A": "Er zijn maximum 2 relaties toegelaten.",
    "BR021": "Ongeldig relatietype.",
    "BR022A": "Achternaam is verplicht voor relaties.",
    "BR022B": "Achternaam relatie mag maximum 50 karakters lang zijn.",
    "BR023A": "Voornaam is verplicht voor relaties.",
    "BR023B": "Voornaam relatie mag maximum 30 karakters lang zijn.",
    "BR024A": "Straat is verplicht voor relaties.",
    "BR024B": "Straat relatie mag maximum 50 karakters lang zijn.",
    "BR025A": "Huisnummer is verplicht voor relaties.",
    "BR025B": "Huisnummer relatie mag maximum 10 karakters lang zijn.",
    "BR026": "Busnummer relatie mag maximum 6 karakters lang zijn.",
    "BR027A": "Postcode is verplicht voor relaties.",
    "BR027B": "Postcode relatie mag maximum 8 karakters lang zijn.",
    "BR028A": "Gemeente is verplicht voor relaties.",
    "BR028B": "Gemeente relatie mag maximum 30 karakters lang zijn.",
    "BR029A": "Landcode is verplicht voor relaties.",
    "BR029B": "Landcode relatie moet 5 karakters lang zijn.",
    "BR030": "Telefoonnummer relatie mag maximum 20 karakters lang zijn.",
    "BR031": "GSM-nummer relatie mag maximum 20 karakters lang zijn.",
    "BR032": "Ongeldig e-mailadres voor relatie.",
    "BR033": "Ongeldige preregistratie ID.",
    "BR034A": "Schooljaar is verplicht.",
    "BR034B": "Ongeldig schooljaar.",
    "BR035A": "Instellingsnummer is verplicht.",
    "BR035B": "Instellingsnummer moet 6 karakters lang zijn.",
    "BR036A": "Structuur is verplicht.",
    "BR036B": "Structuur moet 3 karakters lang zijn.",
    "BR037A": "Locatie ID is verplicht.",
    "BR037B": "Locatie ID moet 3 karakters lang zijn.",
    "BR038A": "Administratieve groep is verplicht.",
    "BR038B": "Administratieve groep moet 6 karakters lang zijn.",
    "BR039": "Administratieve groep detail mag maximum 200 karakters lang zijn.",
    "BR040A": "Datum voorinschrijving is verplicht.",
    "BR040B": "Datum voorinschrijving moet voor de begindatum vallen.",
    "BR041A": "Startdatum is verplicht.",
    "BR041B": "Startdatum moet tussen het begin en het einde van het geselecteerde schooljaar "
    "vallen.",
    "BR042": "Ongeldige registratie status.",
    "BR043A": "Ongeldig rijksregisternummer voor relatie.",
    "DNF001": "Geen inschrijving gevonden voor ID.",
    "MNA001": "De voorinschrijving is reeds geaccepteerd en kan niet meer gewijzigd worden.",
    "MNA002": "De voorinschrijving is reeds geweigerd en kan niet meer gewijzigd worden.",
    "MNA003": "De voorinschrijving is reeds geaccepteerd en kan niet meer verwijderd worden.",
    "MNA004": "De voorinschrijving is reeds geweigerd en kan niet meer verwijderd worden.",
    "MNA005": "De persoonsgegevens wijzigen van deze voorinschrijving is niet toegestaan.",
}
# the codes that say a voorinschrijving was already decided by the school: no change reaches it
DECIDED = frozenset({"MNA001", "MNA002", "MNA003", "MNA004"})


def meaning(code: str, answered: str | None = None) -> str:
    """What ``code`` means: Informat's own message when it answered one, else the known one."""
    return answered or MESSAGES.get(code, "onbekende foutcode van Informat")
