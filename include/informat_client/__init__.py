"""Client for the Informat Leerlingen, Personeel and Rekeningen API's (no Airflow import)."""

from .client import InformatClient
from .config import LEERLINGEN, PERSONEEL, REKENINGEN, InformatConfig, ToegangsgroepConfig
from .errors import (
    InformatAuthError,
    InformatBadResponseError,
    InformatConfigError,
    InformatConnectionError,
    InformatError,
    InformatForbiddenError,
    InformatGoneError,
    InformatNotFoundError,
    InformatRateLimitError,
    InformatRequestError,
    InformatServerError,
)
from .schooljaar import schooljaar_for

__all__ = [
    "LEERLINGEN",
    "PERSONEEL",
    "REKENINGEN",
    "InformatAuthError",
    "InformatBadResponseError",
    "InformatClient",
    "InformatConfig",
    "InformatConfigError",
    "InformatConnectionError",
    "InformatError",
    "InformatForbiddenError",
    "InformatGoneError",
    "InformatNotFoundError",
    "InformatRateLimitError",
    "InformatRequestError",
    "InformatServerError",
    "ToegangsgroepConfig",
    "schooljaar_for",
]
