"""The Rekeningen API of the sandbox (modelled): toegangsgroepen, invoices, PDF jobs, payments."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .. import data as seed_data
from ..state import API_PREFIXES, ApiError, PdfJob, SandboxState, State, json_body
from .common import accessgroup, authorize, listing, schooljaar_param

router = APIRouter(prefix=API_PREFIXES["rekeningen"])


@router.get("/accessgroups")
async def accessgroups(request: Request, state: State):
    client, _ = authorize(state, request, "rekeningen")
    year = schooljaar_param(state, request)
    records = [
        {
            "name": group.name,
            "schoolYear": year,
            "active": group.is_active_for(year),
            "instituteNos": list(group.instellingsnummers),
        }
        for name, group in sorted(state.group.toegangsgroepen.items())
        if name in client.toegangsgroepen
    ]
    return listing(state, request, "accessgroups", records, "name")


@router.get("/accessgroups/{name}/users")
async def accessgroup_users(request: Request, name: str, state: State):
    client, _ = authorize(state, request, "rekeningen", name)
    group = accessgroup(state, client, name, request.query_params.get("schoolYear"))
    return listing(state, request, "users", group.users, "userId")


@router.get("/accessgroups/{name}/journals")
async def accessgroup_journals(request: Request, name: str, state: State):
    client, _ = authorize(state, request, "rekeningen", name)
    group = accessgroup(state, client, name, request.query_params.get("schoolYear"))
    return listing(state, request, "journals", group.journals, "code")


@router.get("/accessgroups/{name}/invoices")
async def invoices(request: Request, name: str, state: State):
    client, _ = authorize(state, request, "rekeningen", name)
    year = schooljaar_param(state, request)
    group = accessgroup(state, client, name, year)
    return listing(state, request, "invoices", group.invoices.get(year, []), "invoiceId")


@router.post("/accessgroups/{name}/invoices/{invoice_id}/pdf")
async def request_pdf(request: Request, name: str, invoice_id: str, state: State):
    client, _ = authorize(state, request, "rekeningen", name)
    year = request.query_params.get("schoolYear")
    group = accessgroup(state, client, name, year)
    invoice = find_invoice(group, invoice_id)
    if invoice is None:
        raise ApiError(404, "Unknown invoice", "INVOICE_UNKNOWN")
    job = PdfJob(
        secrets.token_hex(8), name, invoice_id, time.monotonic(), invoice.get("schoolYear")
    )
    job.failed = invoice_id in state.faults.pdf_failed_invoices
    regenerate = request.query_params.get("regenerate", "").lower() == "true"
    if invoice.get("pdfGeneratedAt") and not regenerate:
        # Informat already made this PDF: the job answers the existing one at once
        job.generated_at = datetime.fromisoformat(invoice["pdfGeneratedAt"])
    with state.lock:
        state.pdf_jobs[job.job_id] = job
        state.stats["pdf_requests"] += 1
    return JSONResponse({"jobId": job.job_id, "status": "pending"}, status_code=202)


def pdf_job(state: SandboxState, client: seed_data.Client, job_id: str) -> PdfJob:
    job = state.pdf_jobs.get(job_id)
    if job is None:
        raise ApiError(404, "Unknown PDF job", "PDF_JOB_UNKNOWN")
    accessgroup(state, client, job.toegangsgroep, job.schooljaar)
    return job


@router.get("/pdf-jobs/{job_id}")
async def get_pdf_job(request: Request, job_id: str, state: State):
    client, _ = authorize(state, request, "rekeningen")
    job = pdf_job(state, client, job_id)
    with state.lock:
        job.polls += 1
        state.stats["pdf_polls"] += 1
    answer: dict[str, Any] = {"jobId": job.job_id, "invoiceId": job.invoice_id}
    if job.failed:
        return {**answer, "status": "failed", "message": "PDF generation failed"}
    ready = job.generated_at is not None or (
        not state.faults.pdf_never_ready and time.monotonic() - job.created_at >= state.pdf_delay
    )
    if not ready:
        return {**answer, "status": "pending"}
    if job.generated_at is None:
        job.generated_at = datetime.now().replace(microsecond=0)
        invoice = find_invoice(state.group.toegangsgroepen[job.toegangsgroep], job.invoice_id)
        if invoice is not None:
            invoice["pdfGeneratedAt"] = job.generated_at.isoformat()
    content = pdf_bytes(job.invoice_id, job.job_id)
    return {
        **answer,
        "status": "ready",
        "generatedAt": job.generated_at.isoformat(),
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "downloadUrl": f"pdf-jobs/{job.job_id}/download",
    }


@router.get("/pdf-jobs/{job_id}/download")
async def download_pdf(request: Request, job_id: str, state: State):
    client, _ = authorize(state, request, "rekeningen")
    job = pdf_job(state, client, job_id)
    if job.generated_at is None:
        raise ApiError(409, "PDF is not ready yet", "PDF_NOT_READY")
    expired = state.faults.pdf_expired or job.generated_at < datetime.now() - timedelta(days=365)
    if expired:
        raise ApiError(410, "PDF no longer available (kept at most one year)", "PDF_EXPIRED")
    content = pdf_bytes(job.invoice_id, job.job_id)
    with state.lock:
        state.stats["pdf_downloads"] += 1
        corrupt = state.faults.take_corrupt_pdf()
    if corrupt:
        content = content[:-20] + b"%% corrupted in transit"[:20]
    return Response(content, media_type="application/pdf")


@router.post("/accessgroups/{name}/payments")
async def register_payment(request: Request, name: str, state: State):
    client, _ = authorize(state, request, "rekeningen", name)
    group = accessgroup(state, client, name, request.query_params.get("schoolYear"))
    body = await json_body(request)
    if not any(u.get("active") and u.get("valid") for u in group.users):
        raise ApiError(409, f"No active and valid user in toegangsgroep {name}", "NO_ACTIVE_USER")
    if not any(j.get("code") in ("Extern", "Extern_Dubieus") for j in group.journals):
        raise ApiError(
            409, f"No journal Extern or Extern_Dubieus in toegangsgroep {name}", "NO_JOURNAL"
        )
    invoice = find_invoice(group, str(body.get("invoiceId", "")))
    if invoice is None:
        raise ApiError(404, "Unknown invoice", "INVOICE_UNKNOWN")
    try:
        amount = float(body["amount"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, "amount is required", "AMOUNT_INVALID") from None
    with state.lock:
        payment = {"paymentId": len(group.payments) + 1, **body}
        group.payments.append(payment)
        invoice["paidAmount"] = round(invoice["paidAmount"] + amount, 2)
        if invoice["paidAmount"] >= invoice["amount"]:
            invoice["status"] = "betaald"
    return JSONResponse(payment, status_code=201)


def find_invoice(group: seed_data.Toegangsgroep, invoice_id: str) -> dict[str, Any] | None:
    for items in group.invoices.values():
        for invoice in items:
            if invoice["invoiceId"] == invoice_id:
                return invoice
    return None


def pdf_bytes(invoice_id: str, job_id: str) -> bytes:
    """A small, valid, deterministic PDF for an invoice."""
    text = f"Rekening {invoice_id}".encode("latin-1", "replace")
    stream = b"BT /F1 18 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out
