"""The synthetic people of the sandbox: students with their parents and addresses, their
registrations, and staff, each with exactly the keys of the contract. Names come from common
name lists (Flemish and non-ASCII), INSZ numbers are made with valid check digits, e-mail
addresses use the reserved ``example.org`` domain; no real person's data."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from informat_client import insz

if TYPE_CHECKING:
    from .instelling import Instelling

LAST_NAMES = [
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Van den Broeck", "Hermans",
    "Vermeulen", "Van Damme", "De Backer", "Verstraete", "Desmet", "Cools", "Vandenberghe",
    "Smets", "Coppens", "Declercq", "Van de Velde", "Aerts", "D'Hondt", "Vlaeminck",
    "Yılmaz", "Çelik", "Öztürk", "Şahin", "Doğan", "El Amrani", "Benali", "Nguyễn", "Trần",
    "Kowalski", "Wiśniewski", "Popescu", "Ndiaye", "Mukendi", "Ørsted", "Müller",
    "Lefèvre", "Noël", "Françoise", "王", "李", "محمد", "الحسن",
]  # fmt: skip
FIRST_NAMES_M = [
    "Lucas", "Liam", "Noah", "Louis", "Arthur", "Jules", "Mathis", "Finn", "Lars", "Warre",
    "Wout", "Seppe", "Vic", "Rune", "Stan", "Mohamed", "Adam", "Emir", "Yusuf", "Ilias",
    "Mehmet", "Çağan", "Noé", "Matéo", "Jérôme", "Aurélien", "Minh", "Wei", "أحمد",
]  # fmt: skip
FIRST_NAMES_V = [
    "Emma", "Olivia", "Louise", "Mila", "Elena", "Marie", "Lotte", "Noor", "Julie", "Fien",
    "Lore", "Ella", "Nora", "Yasmine", "Aya", "Zeynep", "Elif", "Amélie", "Zoë", "Anaïs",
    "Chloé", "Maëlle", "Inès", "Océane", "Ngọc", "Mei", "فاطمة", "Agnieszka",
]  # fmt: skip
PLACES = [
    "Gent", "Antwerpen", "Brugge", "Leuven", "Mechelen", "Aalst", "Kortrijk", "Hasselt",
    "Sint-Niklaas", "Oostende", "Genk", "Roeselare", "Brussel", "Istanbul", "Casablanca",
]  # fmt: skip
FUNCTIONS = ["leraar", "directeur", "opvoeder", "administratief medewerker", "zorgcoördinator"]
# an ambt's code is 8 digits; 00000237 "administratief medewerker" is the one public example, the
# others are synthetic
AMBT_CODES = {
    "leraar": "00000101",
    "directeur": "00000021",
    "opvoeder": "00000402",
    "administratief medewerker": "00000237",
    "zorgcoördinator": "00000615",
}


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def birth_date(rng: random.Random, today: date, min_age: float, max_age: float) -> date:
    days = rng.randint(int(min_age * 365.25), int(max_age * 365.25))
    return today - timedelta(days=days)


class InszPool:
    """Unique synthetic INSZ numbers; the sequence is odd for boys and even for girls."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def draw(self, rng: random.Random, born: date, sex: str) -> str:
        """One random draw; when taken, the next free sequence of that day and sex (drawing
        again slowed a large school group to a crawl once a day's sequences filled up)."""
        sequences = range(1 if sex == "M" else 2, 998, 2)  # odd for boys, even for girls
        first = (rng.choice(sequences) - sequences.start) // 2
        for step in range(len(sequences)):
            number = insz.make(born, sequences[(first + step) % len(sequences)])
            if number not in self._used:
                self._used.add(number)
                return number
        born += timedelta(days=1)  # all taken: the next day (synthetic data)
        return self.draw(rng, born, sex)


# synthetic nationality codes: mostly Belgium (00150, documented); the others only stand in
NATIONALITY_CODES = ["00150"] * 17 + ["00129", "00235", "00139", "00122", "00124", "00322", "00111"]
STREETS = ["Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Nieuwstraat"]
RELATION_TYPES = {"vader": 13, "moeder": 14}


def make_address(rng: random.Random, street: str) -> dict[str, Any]:
    return {
        "straat": street,
        "nr": str(rng.randint(1, 250)),
        "bus": rng.choice([None, None, None, "A", "2"]),
        "postcode": str(rng.choice([9000, 2000, 8000, 3000, 2800, 9300])),
        "gemeente": rng.choice(PLACES[:12]),
        "isFacturatie": True,
        "isAanschrijf": True,
        "isVerblijf": True,
    }


def make_person(rng: random.Random, pool: InszPool, born: date, p_persoon: int) -> dict[str, Any]:
    """The keys a student and an employee share, as the read API's answer them."""
    sex = rng.choice("MV")
    record: dict[str, Any] = {
        "pPersoon": p_persoon,
        "naam": rng.choice(LAST_NAMES),
        "voornaam": rng.choice(FIRST_NAMES_M if sex == "M" else FIRST_NAMES_V),
        "initialen": None,
        "geboortedatum": born.isoformat(),
        "geboorteplaats": rng.choice(PLACES),
        "nationaliteitCode": rng.choice(NATIONALITY_CODES),
        "geslacht": sex,
    }
    # about one in thirty has no Belgian INSZ (a newcomer with a bisnummer instead)
    if rng.random() < 1 / 30:
        record["rijksregisternr"] = None
        record["bisnr"] = insz.make(born, rng.randrange(1, 998), bis=True)
    else:
        record["rijksregisternr"] = pool.draw(rng, born, sex)
        record["bisnr"] = None
    return record


def make_relations(rng: random.Random, student: dict[str, Any], pool: InszPool) -> list[dict]:
    relations = []
    street = rng.choice(STREETS)
    for index, (kind, names) in enumerate((("moeder", FIRST_NAMES_V), ("vader", FIRST_NAMES_M))):
        # the day from the pupil's number: parents born on the 1st only filled the INSZ
        # sequences of those days in a school group of 200,000
        day = 1 + student["pPersoon"] % 28
        year = int(student["geboortedatum"][:4]) - rng.randint(24, 45)
        born = date(year, rng.randint(1, 12), day)
        relations.append(
            {
                "pRelatie": student["pPersoon"] * 10 + index,
                "relatieId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "type": RELATION_TYPES[kind],
                "naam": student["naam"] if kind == "vader" else rng.choice(LAST_NAMES),
                "voornaam": rng.choice(names),
                "insz": pool.draw(rng, born, "V" if kind == "moeder" else "M"),
                "geboortedatum": born.isoformat(),
                "geslacht": "V" if kind == "moeder" else "M",
                "nationaliteitCode": "00150",
                "beroep": None,
                "lpv": index == 0,
                "ophalen": True,
                "isOverleden": False,
                "adressen": [make_address(rng, street)],
                "comnrs": [],  # documented, but not the keys of its items: left empty
                "emails": [
                    email(
                        student["pPersoon"] * 10 + index,
                        f"ouder{student['pPersoon']}{kind[0]}@example.org",
                        "Privé",
                    )
                ],
            }
        )
    return relations


# the type of a school's own address: Personeel's value (public code); for a pupil (modelled)
SCHOOL_EMAIL_TYPE = "School"


def email(p_email: int, address: str, kind: str) -> dict[str, Any]:
    """An e-mail address of a student or a relation, with the keys public code reads."""
    school = kind == SCHOOL_EMAIL_TYPE
    return {
        "pEmail": p_email,
        "email": address,
        "type": kind,
        "schoolcom": True,  # may be used for the school's messages
        "factuurMailen": not school,  # bills go to a parent's address, not the pupil's
    }


def schooljaar_bounds(schooljaar: str) -> tuple[date, date]:
    start = int(schooljaar[:4])
    return date(start, 9, 1), date(start + 1, 6, 30)


def make_student(
    rng: random.Random, pool: InszPool, inst: Instelling, today: date, p_persoon: int, n: int
) -> dict[str, Any]:
    """A student with exactly the keys of the contract (no instellingsnummer: the call says it)."""
    min_age, max_age = (11.5, 19.0) if inst.secundair else (2.5, 12.5)
    born = birth_date(rng, today, min_age, max_age)
    person = make_person(rng, pool, born, p_persoon)
    record = {
        "pPersoon": p_persoon,
        "persoonId": guid(rng),
        "naam": person["naam"],
        "voornaam": person["voornaam"],
        "voornaam2": None,
        "nickname": None,
        "initialen": None,
        "geboortedatum": person["geboortedatum"],
        "geboorteland": "België",
        "geboorteplaats": person["geboorteplaats"],
        "nationaliteitCode": person["nationaliteitCode"],
        "rijksregisternr": person["rijksregisternr"],
        "bisnr": person["bisnr"],
        "geslacht": person["geslacht"],
        "huisdokter": None,
        "telefoonHuisdokter": None,
        "llOpSchool": True,
        "inschrijvingsId": guid(rng),
    }
    relations = make_relations(rng, record, pool)
    record["adressen"] = [dict(relations[0]["adressen"][0])]
    record["relaties"] = relations
    record["comnrs"] = []
    record["emails"] = [dict(relations[0]["emails"][0])]
    if inst.secundair:  # a secondary school gives its pupils a school address
        address = f"leerling{p_persoon}@example.org"
        record["emails"].append(email(p_persoon * 10 + 9, address, SCHOOL_EMAIL_TYPE))
    return record


def make_registration(
    rng: random.Random, student: dict[str, Any], inst: Instelling, schooljaar: str, p_inschr: int
) -> dict[str, Any]:
    start = schooljaar_bounds(schooljaar)[0]
    leerjaar = rng.randint(1, 6)
    klas = f"{leerjaar}{rng.choice('ABCD')}"
    return {
        "inschrijvingsId": student["inschrijvingsId"],
        "pInschr": p_inschr,
        "pPersoon": student["pPersoon"],
        "persoonId": student["persoonId"],
        "instelnr": inst.instellingsnummer,
        "hfdstructuur": "311" if inst.secundair else "211",
        "school": inst.name,
        "stamnr": f"{inst.instellingsnummer[-2:]}{p_inschr:05d}",
        "vestCode": "001",
        "vestiging": inst.name,
        "begindatum": start.isoformat(),
        "einddatum": None,
        "afdCode": f"{leerjaar}{'SO' if inst.secundair else 'LO'}",
        "nrAdmgrp": f"{rng.randrange(10**5, 10**6)}",
        "afdelingsjaar": leerjaar,
        "status": 0,
        "graad": (leerjaar + 1) // 2 if inst.secundair else None,
        "leerjaar": leerjaar,
        "taalkeuze": None,
        "finCode": None,
        "levensbeschouwingCode": rng.choice(["RKG", "ZED", "ISL", "PRO"]),
        "isOkan": rng.random() < 0.02,
        "preRegistrationId": None,
        "inschrKlassen": [
            {
                "inschrKlasId": guid(rng),
                "pInschrKlas": p_inschr,
                "klasId": guid(rng),
                "pKlas": 1000 + leerjaar * 10,
                "klasCode": klas,
                "klas": f"Klas {klas}",
                "groepType": 0,
                "klasnummer": rng.randint(1, 28),
                "begindatum": start.isoformat(),
                "einddatum": None,
            }
        ],
    }


def make_employee(
    rng: random.Random, pool: InszPool, inst: Instelling, today: date, p_persoon: int
) -> dict[str, Any]:
    """A member of staff with exactly the Personeel API's keys."""
    born = birth_date(rng, today, 22, 65)
    person = make_person(rng, pool, born, p_persoon)
    ambt = rng.choice(FUNCTIONS)
    return {
        "pPersoon": p_persoon,
        "personId": guid(rng),
        "personaId": guid(rng),
        "naam": person["naam"],
        "voornaam": person["voornaam"],
        "bijkomendeVoornamen": None,
        "stamnr": f"{rng.randrange(10**10, 10**11)}",
        "sortName": f"{person['naam']} {person['voornaam']}",
        "nickName": None,
        "geslacht": person["geslacht"],
        "initialen": None,
        "geboortedatum": person["geboortedatum"],
        "geboorteplaats": person["geboorteplaats"],
        "geboortelandCode": "00150",
        "nationaliteitCode": person["nationaliteitCode"],
        "rijksregisternr": person["rijksregisternr"],
        "bisnr": person["bisnr"],
        "bank": None,
        "hoofdAmbt": {"code": AMBT_CODES[ambt], "naam": ambt},
        "isActive": True,
        "pensioendatum": None,
        "adressen": [make_address(rng, rng.choice(STREETS))],
        "comnrs": [],
        "emailadressen": [
            {
                "id": str(uuid.UUID(int=p_persoon, version=4)),  # a GUID, without drawing
                "email": f"personeel{p_persoon}@example.org",
                "type": "School",
            },
        ],
        "personeelsgroepen": [{"id": "1", "naam": "Onderwijzend personeel"}],
    }
