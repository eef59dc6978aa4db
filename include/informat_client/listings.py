"""Reading a listing: one streamed answer parsed record by record (what Informat does), or keyset
pages (a setting for API's that page)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import ijson
import requests

from . import masking
from .answers import STREAM_ERRORS, Call, ResponseReader, check_json_type
from .errors import InformatBadResponseError

log = masking.get_logger(__name__)


def stream_records(
    response: requests.Response,
    call: Call,
    list_key: str | None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """A listing answered in one piece, parsed record by record: memory stays flat. A body cut
    off or malformed part-way raises, so that no half list is ever taken for the whole.

    ``list_key`` names the list in an object (``{"students": [...]}``); None reads a bare array
    (the Personeel API's answers). A record that is not an object is a bad answer.
    """
    what = f"'{list_key}' list" if list_key else "list"
    count = 0
    cut_off = "the answer was cut off after {count} record(s); nothing of it may be used"
    reader = ResponseReader(response)
    try:
        check_json_type(response, call)
        try:
            items = f"{list_key}.item" if list_key else "item"
            # straight from the response into ijson's C parser: no Python step per JSON event
            for record in ijson.items(reader, items, use_float=True):
                if not isinstance(record, dict):
                    raise call.error(
                        InformatBadResponseError,
                        f"record {count + 1} of the {what} is not an object",
                    )
                count += 1
                yield record
        except ijson.JSONError as exc:
            if reader.bytes_read == 0:
                reason = "empty answer where JSON was expected"
            elif "premature EOF" in str(exc):
                reason = cut_off.format(count=count)
            else:
                reason = f"malformed JSON after {count} record(s); nothing of it may be used"
            raise call.error(InformatBadResponseError, reason) from None
        except STREAM_ERRORS:
            raise call.error(InformatBadResponseError, cut_off.format(count=count)) from None
        if count == 0 and not _has_list(reader, list_key):
            raise call.error(InformatBadResponseError, f"the answer has no {what}")
    finally:
        response.close()
        if on_bytes is not None:
            on_bytes(reader.bytes_read)
    log.info("%s instelling %s: %d record(s)", call.label, call.instellingsnummer, count)


def _has_list(reader: ResponseReader, list_key: str | None) -> bool:
    """Whether an answer without records holds an empty list where the list belongs (a body
    that small was read whole into the reader's head)."""
    if reader.bytes_read > len(reader.head):
        return False  # a large answer with no record in its list: no list
    try:
        body = json.loads(reader.head)
    except ValueError:
        return False
    if list_key is None:
        return isinstance(body, list)
    return isinstance(body, dict) and isinstance(body.get(list_key), list)


@dataclass(frozen=True)
class Paging:
    """How a listing pages: the key of the list in an answer (None: a bare JSON array), the
    record key the pages are keyed on, records per page, and a bound on the pages."""

    list_key: str | None
    page_key: str
    page_size: int
    max_pages: int = 100_000


def page_records(
    get_page: Callable[[Mapping[str, Any]], Any],
    call: Call,
    params: Mapping[str, Any],
    paging: Paging,
) -> Iterator[dict[str, Any]]:
    """Keyset pages: each page asks for the records after the last key it saw, so a listing
    that changes between two pages yields no record twice and loses none that stayed."""
    list_key, page_key = paging.list_key, paging.page_key
    page_size, max_pages = paging.page_size, paging.max_pages
    after: Any = None
    count = pages = 0
    while True:
        if pages >= max_pages:
            raise call.error(
                InformatBadResponseError, f"more than {max_pages} pages: the listing never ends"
            )
        page_params = {**params, "pageSize": page_size, "after": after}
        body = get_page(page_params)
        if list_key is None:  # a bare array: a short page is the last one
            body = {"records": body, "hasMore": isinstance(body, list) and len(body) >= page_size}
        key = list_key or "records"
        if not isinstance(body, Mapping) or not isinstance(body.get(key), list):
            raise call.error(InformatBadResponseError, f"the answer has no '{key}' list")
        records = body[key]
        pages += 1
        for record in records:
            key = record.get(page_key)
            if after is not None and key is not None and key <= after:
                continue  # never yield a record twice, whatever the server does
            count += 1
            yield record
        if not body.get("hasMore") or not records:
            break
        last = records[-1].get(page_key)
        if last is None or (after is not None and last <= after):
            raise call.error(
                InformatBadResponseError, "the listing's pages do not advance (same key again)"
            )
        after = last
    log.info(
        "%s instelling %s: %d record(s) in %d page(s)",
        call.label,
        call.instellingsnummer,
        count,
        pages,
    )
