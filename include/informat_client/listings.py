"""Reading a listing: one streamed answer parsed record by record (what Informat does), or keyset
pages (a setting for API's that page)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
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
    prefix_of_list = list_key or ""
    what = f"'{list_key}' list" if list_key else "list"
    count = 0
    cut_off = "the answer was cut off after {count} record(s); nothing of it may be used"
    reader = ResponseReader(response)
    try:
        check_json_type(response, call)
        seen = False

        def events() -> Iterator[tuple[str, str, Any]]:
            nonlocal seen
            for prefix, event, value in ijson.parse(reader, use_float=True):
                if prefix == prefix_of_list and event == "start_array":
                    seen = True
                yield prefix, event, value

        try:
            items = f"{list_key}.item" if list_key else "item"
            for record in ijson.items(events(), items):
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
        if not seen:
            raise call.error(InformatBadResponseError, f"the answer has no {what}")
    finally:
        response.close()
        if on_bytes is not None:
            on_bytes(reader.bytes_read)
    log.info("%s instelling %s: %d record(s)", call.label, call.instellingsnummer, count)


def page_records(
    get_page: Callable[[Mapping[str, Any]], Any],
    call: Call,
    params: Mapping[str, Any],
    list_key: str | None,
    page_key: str,
    page_size: int,
    max_pages: int = 100_000,
) -> Iterator[dict[str, Any]]:
    """Keyset pages: each page asks for the records after the last key it saw, so a listing
    that changes between two pages yields no record twice and loses none that stayed."""
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
