"""The school's words and Informat's codes, in one place: what a secretariat writes in its CSV
(M/V, moeder, België, lager onderwijs, vestiging 1) and what a voorinschrijving must carry (1/2,
14, 00150, 211, 001). Each table is a plain mapping a school group can read and extend.

Values marked *(public code)* come from public clients of the real API; *(documented)* from the
contract. A value a table does not know makes the row fail with a Dutch message that says what
to write instead: a guess would put wrong data in Informat.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping


def key(value: str) -> str:
    """A table key: lower case, no accents, single spaces (``België`` -> ``belgie``)."""
    text = unicodedata.normalize("NFKD", value.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
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

# country of birth, nationality and an address's country: Informat's 5-character codes.
# Belgium is documented; any other country is written as its 5-digit code from Informat's own
# list (or added to the setting ``country_codes``), never guessed from a name.
COUNTRY = {"belgie": "00150", "be": "00150", "bel": "00150", "belgisch": "00150", "belg": "00150"}

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


def country(value: str, extra: Mapping[str, str] | None = None) -> str | None:
    """The 5-character code of a country written as a name, an ISO code or the code itself."""
    text = value.strip()
    if _DIGITS.match(text) and len(text) <= 5:
        return text.zfill(5)  # a spreadsheet drops the leading zeros of 00150
    found = {key(k): v for k, v in (extra or {}).items()}.get(key(text))
    return found or COUNTRY.get(key(text))


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
