"""The school's words and Informat's codes, in one place: what a secretariat writes in its CSV
(M/V, moeder, België, lager onderwijs, vestiging 1) and what a voorinschrijving must carry (1/2,
14, 00150, 211, 001). Each table is a plain mapping a school group can read and extend.

Values marked *(public code)* come from public clients of the real API; *(documented)* from the
contract. A value a table does not know makes the row fail with a Dutch message that says what
to write instead: a guess would put wrong data in Informat.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from importlib import resources


def key(value: str) -> str:
    """A table key: lower case, no accents, single spaces (``België`` -> ``belgie``)."""
    text = unicodedata.normalize("NFKD", value.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("’", "'")
    return " ".join(text.replace("-", " ").replace("_", " ").split())


# sex: 1 male, 2 female (public code: an integer, unlike the read API's M/V)
SEX = {
    "m": 1, "man": 1, "mannelijk": 1, "jongen": 1, "1": 1,
    "v": 2, "f": 2, "vrouw": 2, "vrouwelijk": 2, "meisje": 2, "2": 2,
}  # fmt: skip

# relationship of a parent to the pupil (public code: the valid types of a Relation)
RELATIONSHIP = {
    "vader": 13, "papa": 13,
    "moeder": 14, "mama": 14,
    "plusvader": 5, "stiefvader": 5,
    "plusmoeder": 6, "stiefmoeder": 6,
    "voogd": 2,
    "grootvader": 9, "opa": 9,
    "grootmoeder": 10, "oma": 10,
    "pleegvader": 7,
    "pleegmoeder": 8,
}  # fmt: skip

# country of birth, nationality and an address's country: Informat's 5-character code, "00" +
# Belgium's NIS country code (België 00150). ``COUNTRY`` (key -> code) is built on first use from
# data/nis_country_codes.csv, FOD BOSA's territory code list (its README there names the source):
# every Dutch and English name of the list, its ISO-2 code (MA) and the NIS code (354). The list
# has no ISO-3 codes; the package pycountry gives them (MA -> MAR).
COUNTRY_FILE = "nis_country_codes.csv"

# The list gives China, Palestine and Eswatini two valid codes each, with no preference: the code
# written is the one payroll software sends to the social-security network. Macedonië 148 ended in
# 2019, Noord-Macedonië 154 replaced it. A school that writes the other code (or the old name)
# means the same country: Informat gets one code per country, never two.
PREFERRED = {"CN": "218", "PS": "271", "SZ": "347", "MK": "154"}

# How schools write a country that the list spells otherwise (-> the list's ISO code). Only forms
# that name one country: "Congo" and "Korea" are in AMBIGUOUS_NAMES.
COUNTRY_ALIASES = {
    "belg": "BE", "belgisch": "BE", "belgische": "BE",  # a nationality written as an adjective
    "holland": "NL", "netherlands": "NL",
    # England is part of the United Kingdom, which the list codes as one country
    "groot brittannie": "GB", "great britain": "GB", "engeland": "GB", "england": "GB",
    "turkiye": "TR", "eswatini": "SZ", "north macedonia": "MK",
    "palestina": "PS", "palestine": "PS", "taiwan": "TW",
    "dr congo": "CD", "congo kinshasa": "CD", "democratic republic of the congo": "CD",
    "congo brazzaville": "CG",
    "ivory coast": "CI", "cabo verde": "CV", "bosnie herzegovina": "BA",
    "bosnia herzegovina": "BA", "birma": "MM", "burma": "MM", "timor leste": "TL",
    "viet nam": "VN", "vaticaanstad": "VA", "vatican": "VA",
    "tsjechische republiek": "CZ", "czech republic": "CZ",  # the list says Tsjechië / Czechia
    "verenigde staten van amerika": "US", "united states of america": "US",
}  # fmt: skip

# Short names schools write for more than one country of the list: refused with the candidates'
# codes ("de naam past op meer dan één land"), never guessed.
AMBIGUOUS_NAMES = {"congo": ("CD", "CG"), "korea": ("KP", "KR")}

# The list has no code for stateless (000 and 999 would be wrong): such a row is refused.
STATELESS = {
    "staatloos", "stateless", "apatride", "apatrid", "staatenlos", "vaderlandsloos",
    "geen nationaliteit", "zonder nationaliteit",
}  # fmt: skip

# hoofdstructuur: 3 characters (public code: 211 basisonderwijs, 311 secundair)
STRUCTURE = {
    "basis": "211", "basisonderwijs": "211", "gewoon basisonderwijs": "211",
    "lager": "211", "lager onderwijs": "211", "kleuter": "211", "kleuteronderwijs": "211",
    "secundair": "311", "secundair onderwijs": "311", "gewoon secundair onderwijs": "311",
}  # fmt: skip

# registrationStatus: 0 realised, 1 not realised (public code)
STATUS = {
    "gerealiseerd": 0, "0": 0, "ja": 0,
    "niet gerealiseerd": 1, "niet-gerealiseerd": 1, "1": 1, "nee": 1,
    "voorinschrijving": 1, "pending": 1,
}  # fmt: skip

YES = {"ja", "j", "yes", "y", "1", "true", "waar", "x"}
NO = {"nee", "n", "no", "0", "false", "onwaar", ""}

_DIGITS = re.compile(r"^\d+$")


def sex(value: str) -> int | None:
    return SEX.get(key(value))


def relationship(value: str) -> int | None:
    return RELATIONSHIP.get(key(value))


def _country_key(value: str) -> str:
    text = value.strip()
    if _DIGITS.match(text) and len(text) <= 5:
        return f"{int(text):03d}"  # 354, 0354, 00354: a spreadsheet drops the leading zeros
    return key(text)


def _alpha_3(iso2: str) -> str:
    """The ISO-3 code of an ISO-2 code ("" when pycountry has none: Kosovo's XK is not an ISO
    code). Imported here, not at the top: pycountry costs about 0.1 s to import, which a DAG file
    that imports this module must not pay; ``_countries`` calls this once per row, on first use."""
    import pycountry

    found = pycountry.countries.get(alpha_2=iso2)
    return found.alpha_3 if found else ""


@functools.cache
def _countries() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(key -> 5-character code, key that names more than one country -> their codes), read once
    from the data file: a DAG file that imports this module reads nothing."""
    with (resources.files(__package__) / "data" / COUNTRY_FILE).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    iso_of = {r["nis"]: r["iso2"] for r in rows}
    by_iso: dict[str, set[str]] = defaultdict(set)
    named: dict[str, set[str]] = defaultdict(set)  # key -> NIS codes it names
    for r in rows:
        nis = r["nis"]
        named[nis].add(nis)
        # XX marks 999 in the list, it is not an ISO code: a template's placeholder "XX" must
        # not become "unknown". The names Onbekend / Unknown of 999 are the list's own, and kept.
        isos = (r["iso2"], _alpha_3(r["iso2"])) if r["iso2"] not in ("", "XX") else ()
        for name in (*isos, r["name_nl"], r["name_en"]):
            if name:
                named[key(name)].add(nis)
        if r["iso2"]:
            by_iso[r["iso2"]].add(nis)
    for alias, iso2 in COUNTRY_ALIASES.items():
        named[key(alias)] |= by_iso[iso2]
    for name, isos in AMBIGUOUS_NAMES.items():
        for iso2 in isos:
            named[key(name)] |= by_iso[iso2]
    table, ambiguous = {}, {}
    for k, found in named.items():
        one = {PREFERRED.get(iso_of[nis], nis) for nis in found}
        if len(one) == 1:
            table[k] = "00" + one.pop()
        elif one:  # "Congo": the Democratic Republic (306) or the Republic (307), never guessed
            ambiguous[k] = tuple(sorted("00" + nis for nis in one))
    return table, ambiguous


def __getattr__(name: str) -> object:
    if name == "COUNTRY":  # read on first use (PEP 562), not when a DAG file imports this module
        return _countries()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def country(value: str, extra: Mapping[str, str] | None = None) -> str | None:
    """The 5-character code of a country written as a Dutch or English name (case and accents
    ignored), an ISO code or the NIS code with or without its leading zeros. The school group's
    ``extra`` (the setting ``country_codes``) goes first: it may correct or extend the list."""
    wanted = _country_key(value)
    found = {_country_key(k): v for k, v in (extra or {}).items()}.get(wanted)
    return found or _countries()[0].get(wanted)


def country_problem(value: str) -> str:
    """Why ``country`` found no code for ``value``, in Dutch, without repeating the value."""
    wanted = _country_key(value)
    if wanted in STATELESS:
        return (
            "voor staatlozen bestaat geen landcode (000 en 999 zijn fout); schrijf deze leerling "
            "rechtstreeks in Informat in, of vraag de beheerder een code in country_codes"
        )
    if wanted in _countries()[1]:
        return (
            f"de naam past op meer dan één land ({', '.join(_countries()[1][wanted])}); "
            "schrijf de volledige naam, de ISO-code of de landcode"
        )
    if wanted.isdigit():
        return (
            "onbekende landcode: staat niet in de landenlijst van Informat (NIS); gebruik "
            "bv. 00150 voor België, of vraag de beheerder een nieuwere code in country_codes"
        )
    return (
        "onbekend land; gebruik de Nederlandse of Engelse naam, de ISO-code (BE of BEL) of de "
        "landcode van Informat (00150 voor België)"
    )


def structure(value: str) -> str | None:
    text = value.strip()
    if _DIGITS.match(text) and len(text) == 3:
        return text
    return STRUCTURE.get(key(text))


def padded(value: str, width: int) -> str | None:
    """A numeric code of ``width`` characters (``1`` -> ``001``): spreadsheets drop leading
    zeros. Not numeric, or too long: None."""
    text = value.strip()
    if _DIGITS.match(text) and len(text) <= width:
        return text.zfill(width)
    return None


def status(value: str) -> int | None:
    return STATUS.get(key(value))


def flag(value: str) -> bool | None:
    text = value.strip().lower()
    return True if text in YES else False if text in NO else None


# a name holds letters of any script, combining marks, spaces, hyphens, apostrophes and dots
_NAME_PUNCTUATION = set(" -'.’")


def name_problem(value: str, limit: int) -> str | None:
    """What is wrong with a name, in Dutch, or None: the lengths Informat checks (BR001B,
    BR002B, BR023B) and the characters a name can hold (so that no formula or command is ever
    sent as a name)."""
    if len(value) > limit:
        return f"is langer dan {limit} tekens"
    for char in value:
        if char in _NAME_PUNCTUATION or unicodedata.category(char)[0] in "LM":
            continue
        return "bevat tekens die niet in een naam horen (alleen letters, spatie, - ' .)"
    if not any(unicodedata.category(c)[0] == "L" for c in value):
        return "bevat geen letters"
    return None
