"""Seeded, deterministic synthetic data for the sandbox: a school group with its instellingen,
students, enrolments, staff, toegangsgroepen and invoices. No real person's data: names are drawn
from common name lists, INSZ numbers are generated with valid check digits, e-mail addresses use
the reserved ``example.org`` domain."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from informat_client import insz
from informat_client.schooljaar import schooljaar_for, shift

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
FUNCTIONS = ["leraar", "directeur", "opvoeder", "secretariaatsmedewerker", "zorgcoördinator"]


@dataclass
class Instelling:
    instellingsnummer: str
    name: str
    students: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    employees: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    preregistrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # when a record last changed, per "students:<pPersoon>" / "registrations:<inschrijvingsId>":
    # Informat knows it (changedSince reads it) but the records do not carry it
    changed: dict[str, datetime] = field(default_factory=dict)

    @property
    def secundair(self) -> bool:
        return self.name.startswith(("Middenschool", "Atheneum", "Technisch"))


@dataclass
class Toegangsgroep:
    name: str
    instellingsnummers: list[str]
    carried_over: set[str]  # schooljaren for which the API rights were carried over
    active: bool = True
    users: list[dict[str, Any]] = field(default_factory=list)
    journals: list[dict[str, Any]] = field(default_factory=list)
    invoices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # schooljaar -> list
    payments: list[dict[str, Any]] = field(default_factory=list)

    def is_active_for(self, schooljaar: str) -> bool:
        return self.active and schooljaar in self.carried_over


@dataclass
class Client:
    client_id: str
    client_secret: str
    instellingsnummers: set[str]
    toegangsgroepen: set[str]


@dataclass
class SchoolGroup:
    seed: int
    today: date
    schooljaren: tuple[str, ...]  # (previous, current)
    instellingen: dict[str, Instelling]
    toegangsgroepen: dict[str, Toegangsgroep]
    clients: dict[str, Client]
    next_person: int

    @property
    def current_schooljaar(self) -> str:
        return self.schooljaren[-1]

    def all_students(self) -> int:
        return sum(len(i.students) for i in self.instellingen.values())


# instellingsnummers of the synthetic school group: five with pupils, one empty (a new school),
# and one that exists but is outside the default client's scopes.
INSTELLINGEN = [
    ("990011", "Basisschool De Regenboog", 0.22),
    ("990012", "Basisschool 't Klavertje", 0.18),
    ("990013", "Middenschool Sint-Jozef", 0.20),
    ("990014", "Atheneum Scheldeland", 0.24),
    ("990015", "Technisch Instituut Leiezone", 0.16),
    ("990016", "Nieuwe school Kouter (nog leeg)", 0.0),
]
OUT_OF_SCOPE_INSTELLING = ("990019", "Buitenschool (geen toegang)", 0.0)

DEFAULT_STUDENTS = 4000


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _birth_date(rng: random.Random, today: date, min_age: float, max_age: float) -> date:
    days = rng.randint(int(min_age * 365.25), int(max_age * 365.25))
    return today - timedelta(days=days)


class _InszPool:
    """Unique synthetic INSZ numbers; the sequence is odd for boys and even for girls."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def draw(self, rng: random.Random, born: date, sex: str) -> str:
        while True:
            sequence = rng.randrange(1 if sex == "M" else 2, 998, 2)
            number = insz.make(born, sequence)
            if number not in self._used:
                self._used.add(number)
                return number


NATIONALITY_CODES = ["00150"] * 17 + ["00129", "00235", "00139", "00122", "00124", "00322", "00111"]
STREETS = ["Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Nieuwstraat"]
RELATION_TYPES = {"vader": 13, "moeder": 14}


def _address(rng: random.Random, street: str) -> dict[str, Any]:
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


def _person(rng: random.Random, pool: _InszPool, born: date, p_persoon: int) -> dict[str, Any]:
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


def _relations(rng: random.Random, student: dict[str, Any], pool: _InszPool) -> list[dict]:
    relations = []
    street = rng.choice(STREETS)
    for index, (kind, names) in enumerate((("moeder", FIRST_NAMES_V), ("vader", FIRST_NAMES_M))):
        born = date(int(student["geboortedatum"][:4]) - rng.randint(24, 45), rng.randint(1, 12), 1)
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
                "adressen": [_address(rng, street)],
                "comnrs": [],  # documented, but not the keys of its items: left empty
                "emails": [
                    {"email": f"ouder{student['pPersoon']}{kind[0]}@example.org", "type": "Privé"}
                ],
            }
        )
    return relations


def _schooljaar_bounds(schooljaar: str) -> tuple[date, date]:
    start = int(schooljaar[:4])
    return date(start, 9, 1), date(start + 1, 6, 30)


def _student(
    rng: random.Random, pool: _InszPool, inst: Instelling, today: date, p_persoon: int, n: int
) -> dict[str, Any]:
    """A student with exactly the keys of the contract (no instellingsnummer: the call says it)."""
    min_age, max_age = (11.5, 19.0) if inst.secundair else (2.5, 12.5)
    born = _birth_date(rng, today, min_age, max_age)
    person = _person(rng, pool, born, p_persoon)
    record = {
        "pPersoon": p_persoon,
        "persoonId": _guid(rng),
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
        "inschrijvingsId": _guid(rng),
    }
    relations = _relations(rng, record, pool)
    record["adressen"] = [dict(relations[0]["adressen"][0])]
    record["relaties"] = relations
    record["comnrs"] = []
    record["emails"] = [dict(relations[0]["emails"][0])]
    return record


def _registration(
    rng: random.Random, student: dict[str, Any], inst: Instelling, schooljaar: str, p_inschr: int
) -> dict[str, Any]:
    start = _schooljaar_bounds(schooljaar)[0]
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
                "inschrKlasId": _guid(rng),
                "pInschrKlas": p_inschr,
                "klasId": _guid(rng),
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


def _employee(
    rng: random.Random, pool: _InszPool, inst: Instelling, today: date, p_persoon: int
) -> dict[str, Any]:
    """A member of staff with exactly the Personeel API's keys."""
    born = _birth_date(rng, today, 22, 65)
    person = _person(rng, pool, born, p_persoon)
    ambt = rng.choice(FUNCTIONS)
    return {
        "pPersoon": p_persoon,
        "personId": _guid(rng),
        "personaId": _guid(rng),
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
        "hoofdAmbt": {"code": ambt[:3].upper(), "naam": ambt},
        "isActive": True,
        "pensioendatum": None,
        "adressen": [_address(rng, rng.choice(STREETS))],
        "comnrs": [],
        "emailadressen": [
            {"email": f"personeel{p_persoon}@example.org", "type": "School"},
        ],
        "personeelsgroepen": [{"id": 1, "naam": "Onderwijzend personeel"}],
    }


def _invoices(
    rng: random.Random,
    group: str,
    students: list[dict[str, Any]],
    schooljaar: str,
    next_id: int,
    today: date,
) -> list[dict[str, Any]]:
    """Invoices of a schooljaar. An invoice that fell due before today already had its PDF made
    by Informat on its due date (``pdfGeneratedAt``); older than a year, Informat deleted it."""
    start, _ = _schooljaar_bounds(schooljaar)
    out = []
    for student in students:
        for _ in range(rng.choice((1, 1, 2))):
            amount = round(rng.uniform(15, 450), 2)
            due = start + timedelta(days=rng.randint(20, 280))
            paid = rng.random() < 0.6
            out.append(
                {
                    "invoiceId": f"F{schooljaar[:4]}-{next_id:07d}",
                    "toegangsgroep": group,
                    "schoolYear": schooljaar,
                    "instelnr": student["_instelnr"],
                    "debtorPersonId": student["persoonId"],
                    "amount": amount,
                    "dueDate": due.isoformat(),
                    "status": "betaald" if paid else "open",
                    "paidAmount": amount if paid else 0.0,
                    "pdfGeneratedAt": f"{due.isoformat()}T06:00:00" if due < today else None,
                }
            )
            next_id += 1
    return out


def build(
    seed: int = 42,
    today: date | None = None,
    students: int = DEFAULT_STUDENTS,
    client_id: str = "sandbox-client",
    client_secret: str = "",
) -> SchoolGroup:
    """Build the school group. Same seed and size: the same data, byte for byte."""
    today = today or date.today()
    rng = random.Random(seed)
    pool = _InszPool()
    current = schooljaar_for(today)
    schooljaren = (shift(current, -1), current)

    instellingen: dict[str, Instelling] = {}
    person = 100_000
    inschrijving = 1
    for number, name, share in [*INSTELLINGEN, OUT_OF_SCOPE_INSTELLING]:
        inst = Instelling(number, name)
        count = round(students * share)
        for n in range(count):
            person += 1
            inst.students.append(_student(rng, pool, inst, today, person, n + 1))
        since = datetime.combine(_schooljaar_bounds(current)[0], datetime.min.time(), UTC)
        for student in inst.students:
            inst.registrations.append(_registration(rng, student, inst, current, inschrijving))
            inst.changed[f"students:{student['pPersoon']}"] = since
            inst.changed[f"registrations:{student['inschrijvingsId']}"] = since
            inschrijving += 1
        staff = max(3, count // 12) if count else 0
        for _ in range(staff):
            person += 1
            employee = _employee(rng, pool, inst, today, person)
            inst.employees.append(employee)
            start, end = _schooljaar_bounds(current)
            inst.assignments.append(
                {
                    "id": person,
                    "personId": employee["personId"],
                    "pPersoon": employee["pPersoon"],
                    "ambt": employee["hoofdAmbt"]["naam"],
                    "begindatum": start.isoformat(),
                    "einddatum": end.isoformat(),
                    "lestijden": rng.choice((12, 16, 20, 22, 24)),
                }
            )
        instellingen[number] = inst

    def users(prefix: str) -> list[dict[str, Any]]:
        return [
            {"userId": f"{prefix}-u1", "login": f"boekhouding@{prefix.lower()}.example.org",
             "active": True, "valid": True},
            {"userId": f"{prefix}-u2", "login": f"directie@{prefix.lower()}.example.org",
             "active": False, "valid": True},
        ]  # fmt: skip

    journals = [
        {"code": "Extern", "name": "Externe betalingen", "type": "financieel"},
        {"code": "Extern_Dubieus", "name": "Externe betalingen (dubieus)", "type": "financieel"},
        {"code": "Kas", "name": "Kas", "type": "financieel"},
    ]
    groups = {
        # carried over for both schooljaren: healthy
        "SG-Noord": Toegangsgroep("SG-Noord", ["990011", "990012"], set(schooljaren)),
        # not carried over to the current schooljaar: nobody logged in via iRekeningen yet
        "SG-Zuid": Toegangsgroep("SG-Zuid", ["990013", "990014"], {schooljaren[0]}),
        "Internaat-De-Linde": Toegangsgroep("Internaat-De-Linde", ["990015"], set(schooljaren)),
        # exists, but the default client has no access to it
        "VZW-Elders": Toegangsgroep("VZW-Elders", ["990019"], set(schooljaren)),
    }
    invoice_id = 1
    for group in groups.values():
        group.users = users(group.name)
        group.journals = [dict(j) for j in journals]
        roster = [
            {"persoonId": s["persoonId"], "_instelnr": n}
            for n in group.instellingsnummers
            for s in instellingen[n].students
        ]
        for schooljaar in schooljaren:
            group.invoices[schooljaar] = _invoices(
                rng, group.name, roster, schooljaar, invoice_id, today
            )
            invoice_id += len(group.invoices[schooljaar])

    client = Client(
        client_id=client_id,
        client_secret=client_secret,
        instellingsnummers={n for n, _, _ in INSTELLINGEN},
        toegangsgroepen={"SG-Noord", "SG-Zuid", "Internaat-De-Linde"},
    )
    return SchoolGroup(
        seed=seed,
        today=today,
        schooljaren=schooljaren,
        instellingen=instellingen,
        toegangsgroepen=groups,
        clients={client_id: client},
        next_person=person + 1,
    )


def scope_of(toegangsgroep: str) -> str:
    """The Rekeningen scope Informat hands out for a toegangsgroep: a literal string (modelled)."""
    return f"api_informat_rekeningen.toegangsgroep.{toegangsgroep}"


def change(
    group: SchoolGroup,
    inst: Instelling,
    *,
    students: int = 0,
    registrations: int = 0,
    new_students: int = 0,
) -> dict[str, list]:
    """A day's changes in an instelling: the first ``students`` students get a new phone-free
    detail (a huisdokter), the first ``registrations`` registrations a new class, and
    ``new_students`` students enrol; each is marked changed now. Deterministic per call order."""
    now = datetime.now(UTC)
    rng = random.Random(f"{group.seed}:{inst.instellingsnummer}:{len(inst.changed)}")
    out: dict[str, list] = {"students": [], "registrations": [], "new_students": []}
    for record in inst.students[:students]:
        record["huisdokter"] = f"Dr. {rng.choice(LAST_NAMES)}"
        inst.changed[f"students:{record['pPersoon']}"] = now
        out["students"].append(record["pPersoon"])
    for record in inst.registrations[:registrations]:
        klas = record["inschrKlassen"][0]
        klas["klasCode"] = f"{record['leerjaar']}{rng.choice('EFGH')}"
        inst.changed[f"registrations:{record['inschrijvingsId']}"] = now
        out["registrations"].append(record["inschrijvingsId"])
    pool = _InszPool()
    pool._used.update(s["rijksregisternr"] for s in inst.students if s.get("rijksregisternr"))
    current = group.current_schooljaar
    for _ in range(new_students):
        person = group.next_person
        group.next_person += 1
        student = _student(rng, pool, inst, group.today, person, len(inst.students) + 1)
        inst.students.append(student)
        p_inschr = 10_000_000 + person
        inst.registrations.append(_registration(rng, student, inst, current, p_inschr))
        inst.changed[f"students:{person}"] = now
        inst.changed[f"registrations:{student['inschrijvingsId']}"] = now
        out["new_students"].append(person)
    return out
