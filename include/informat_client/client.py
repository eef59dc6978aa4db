"""The Informat client: one object for the three API's, on one transport (tokens, retries,
pacing, streamed listings).

One client serves every instellingsnummer and toegangsgroep of a school group and is thread-safe.
A reader finds a call in the module named after its API: ``leerlingen``, ``personeel``,
``rekeningen``; the transport is in ``transport``.
"""

from __future__ import annotations

from .leerlingen import LeerlingenCalls
from .personeel import PersoneelCalls
from .rekeningen import RekeningenCalls


class InformatClient(LeerlingenCalls, PersoneelCalls, RekeningenCalls):
    """Client for the three Informat API's.

    :param config: where Informat lives and how to talk to it (:class:`InformatConfig`).
    :param session: a ``requests.Session`` to use (tests); by default one with a pool of
        ``pool_size`` connections.
    :param sleep: how to wait between retries; injectable so that tests watch retries without
        waiting.
    :param on_secret: called with each new token, so that a host (Airflow) can mask it too.
    :param pool_size: connections kept open for concurrent callers.
    """
