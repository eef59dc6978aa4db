"""The tags a DAG of this project may carry: every DAG has ``informat``, the API's it calls, and
what it does. The integrity test refuses any other tag, so the UI's tag filter stays useful."""

from __future__ import annotations

API_TAGS = frozenset({"leerlingen", "personeel", "rekeningen"})
PURPOSE_TAGS = frozenset(
    {"extract", "data-quality", "inschrijvingen", "archive", "alerts", "setup"}
)
TAGS = frozenset({"informat"}) | API_TAGS | PURPOSE_TAGS
