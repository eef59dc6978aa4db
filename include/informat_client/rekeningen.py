"""The Rekeningen API: toegangsgroepen, their users and journals, invoices, PDFs and payments.
Every call works per toegangsgroep; the instellingsnummer its calls carry comes from the
connection's configuration of that toegangsgroep."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

from .answers import STREAM_ERRORS, Call
from .config import REKENINGEN
from .errors import InformatBadResponseError, InformatConfigError
from .transport import Transport


class RekeningenCalls(Transport):
    """The Rekeningen API's calls, on the shared transport."""

    def _instelling_for(self, toegangsgroep: str, instellingsnummer: str | None) -> str:
        if instellingsnummer:
            return instellingsnummer
        group = self.config.toegangsgroepen.get(toegangsgroep)
        if group is None:
            raise InformatConfigError(
                f"toegangsgroep {toegangsgroep!r} is not in the informat connection's "
                "configuration (extra 'toegangsgroepen'), so no instellingsnummer is known for it",
                api=REKENINGEN,
            )
        return group.instellingsnummer

    def _group_call(
        self,
        name: str,
        toegangsgroep: str,
        instellingsnummer: str | None,
        path_args: Mapping[str, Any] | None = None,
        *,
        url: str | None = None,
    ) -> Call:
        """A call on a toegangsgroep: its instelling from the configuration, its literal scope."""
        number = self._instelling_for(toegangsgroep, instellingsnummer)
        args = {"toegangsgroep": toegangsgroep, **(path_args or {})}
        return self._call(name, number, args, url=url, toegangsgroep=toegangsgroep)

    def iter_accessgroups(
        self, instellingsnummer: str, schooljaar: str | None = None
    ) -> Iterator[dict[str, Any]]:
        call = self._call("accessgroups", instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def iter_accessgroup_users(
        self, toegangsgroep: str, *, instellingsnummer: str | None = None
    ) -> Iterator[dict[str, Any]]:
        call = self._group_call("accessgroup_users", toegangsgroep, instellingsnummer)
        return self._iter_listing(call)

    def iter_accessgroup_journals(
        self, toegangsgroep: str, *, instellingsnummer: str | None = None
    ) -> Iterator[dict[str, Any]]:
        call = self._group_call("accessgroup_journals", toegangsgroep, instellingsnummer)
        return self._iter_listing(call)

    def iter_invoices(
        self, toegangsgroep: str, schooljaar: str, *, instellingsnummer: str | None = None
    ) -> Iterator[dict[str, Any]]:
        call = self._group_call("invoices", toegangsgroep, instellingsnummer)
        return self._iter_listing(call, {"schoolYear": schooljaar})

    def request_pdf(
        self,
        toegangsgroep: str,
        invoice_id: str,
        *,
        schooljaar: str | None = None,
        instellingsnummer: str | None = None,
        regenerate: bool = False,
    ) -> dict[str, Any]:
        """Ask Informat for an invoice's PDF; answers the job (``jobId``, ``status``). With
        ``regenerate`` Informat makes it anew (for a PDF it has already deleted).
        Not repeated on a 5xx: a second request would start a second job."""
        call = self._group_call(
            "request_pdf", toegangsgroep, instellingsnummer, {"invoice_id": invoice_id}
        )
        params = {"schoolYear": schooljaar, "regenerate": "true" if regenerate else None}
        # passed on as Informat answers it (unchecked, as before): a job object
        return cast(dict[str, Any], self._get_json(call, params=params))

    def get_pdf_job(
        self, toegangsgroep: str, job_id: str, *, instellingsnummer: str | None = None
    ) -> dict[str, Any]:
        call = self._group_call("pdf_job", toegangsgroep, instellingsnummer, {"job_id": job_id})
        return self._get_record(call)

    @contextmanager
    def download_pdf(
        self,
        toegangsgroep: str,
        job_id: str,
        *,
        download_url: str | None = None,
        instellingsnummer: str | None = None,
        chunk_size: int = 64 * 1024,
    ) -> Iterator[Iterator[bytes]]:
        """The PDF as a stream of chunks: ``with client.download_pdf(g, job) as chunks: ...``.
        A PDF that Informat has already deleted raises :class:`InformatGoneError` (410)."""
        base = self.config.base_urls[REKENINGEN]
        url = urljoin(base, download_url) if download_url else None
        call = self._group_call(
            "pdf_download", toegangsgroep, instellingsnummer, {"job_id": job_id}, url=url
        )
        if url:
            _refuse_foreign_link(call, url, base)
        response = self._retrying(
            lambda: self._send(call, stream=True, accept="application/pdf"), call
        )
        try:
            content_type = response.headers.get("Content-Type", "")
            if "pdf" not in content_type and "octet-stream" not in content_type:
                raise call.error(
                    InformatBadResponseError, f"expected a PDF but got '{content_type}'"
                )

            def chunks() -> Iterator[bytes]:
                try:
                    yield from response.iter_content(chunk_size=chunk_size)
                except STREAM_ERRORS:
                    raise call.error(
                        InformatBadResponseError, "the PDF download was cut off"
                    ) from None

            yield chunks()
        finally:
            response.close()

    def register_payment(
        self,
        toegangsgroep: str,
        payment: Mapping[str, Any],
        *,
        instellingsnummer: str | None = None,
    ) -> dict[str, Any]:
        """Register a payment; never repeated after a 5xx or a timeout (it may have been booked)."""
        call = self._group_call("register_payment", toegangsgroep, instellingsnummer)
        # passed on as Informat answers it (unchecked, as before): the booked payment
        return cast(dict[str, Any], self._get_json(call, json=dict(payment)))


def _refuse_foreign_link(call: Call, url: str, base: str) -> None:
    """The bearer token goes to the Rekeningen API's own origin only, whatever a job answers: the
    same host, and the same scheme (an http link beside an https API would send it in clear)."""
    link, own = urlsplit(url), urlsplit(base)
    if link.netloc.lower() != own.netloc.lower():
        raise call.error(
            InformatBadResponseError,
            "the PDF's download link points to another host than the Rekeningen API",
        )
    if link.scheme.lower() != own.scheme.lower():
        raise call.error(
            InformatBadResponseError,
            f"the PDF's download link uses {link.scheme}:// where the Rekeningen API uses "
            f"{own.scheme}://; the token is not sent over another scheme",
        )
