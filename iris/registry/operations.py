"""Public actions on the registry: reporting a concern, checking many numbers at once."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from iris.certificates import numbering
from iris.core.db import db
from iris.core.workflow import PUBLIC, fire
from iris.registry import queries
from iris.registry.models import RegistryEntry
from iris.registry.sync import identifier_key

MAX_BULK = 1000


def report_concern(
    entry: RegistryEntry,
    *,
    actor: Any = PUBLIC,
    text: str,
    language: str,
    name: str | None = None,
    contact: str | None = None,
) -> Any:
    """Open a complaint about the certificate's holder, through the complaint lifecycle."""
    from iris.certificates.models import Certificate
    from iris.complaints.models import Complaint
    from workflows.complaint import ComplaintAbout

    cert = db.session.get(Certificate, entry.certificate_id)
    complaint = Complaint(
        about=ComplaintAbout.AGENCY,
        agency_id=cert.agency_id if cert else None,
        audit_company_id=cert.audit_company_id if cert else None,
        certificate_id=entry.certificate_id,
        text=text.strip(),
        language=language,
        channel="registry",
        complainant_name=(name or "").strip() or None,
        complainant_contact=(contact or "").strip() or None,
    )
    fire(complaint, "receive", actor)
    return complaint


@dataclass
class CheckResult:
    query: str
    found: bool
    entries: list[RegistryEntry]
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"query": self.query, "found": self.found}
        if self.error:
            out["error"] = self.error
        out["certificates"] = [
            {
                "number": e.number,
                "status": e.state,
                "holder": e.name,
                "country": e.country,
                "expires_at": e.expires_on,
                "audit_company": e.audit_company_name,
            }
            for e in self.entries
        ]
        return out


def _key(query: str) -> tuple[str | None, str | None]:
    """The lookup key of one line: a certificate number, or a registration number."""
    text = query.strip()
    if not text:
        return None, "empty"
    if len(text) > 64:
        return None, "too_long"
    canonical = numbering.normalise(text)
    if canonical is not None:
        if not numbering.is_valid(canonical):
            return None, "check_digit"
        return identifier_key(canonical), None
    key = identifier_key(text)
    if not key:
        return None, "invalid"
    return key, None


def check_many(items: list[str]) -> list[CheckResult]:
    """One result per item, in order (certificate or registration numbers; ≤ MAX_BULK)."""
    keys = [_key(str(i)) for i in items]
    found = queries.by_identifiers([k for k, _ in keys if k])
    results = []
    for item, (key, error) in zip(items, keys, strict=True):
        entries = found.get(key, []) if key else []
        results.append(
            CheckResult(query=str(item)[:64], found=bool(entries), entries=entries, error=error)
        )
    return results


def read_csv_column(data: bytes) -> list[str]:
    """The first column of every non-empty line of an uploaded CSV (UTF-8, BOM tolerated)."""
    text = data.decode("utf-8-sig", errors="replace")
    sample = text[:2048]
    try:
        dialect: Any = (
            csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
        )
    except csv.Error:
        dialect = csv.excel
    out = []
    for row in csv.reader(io.StringIO(text), dialect):
        if row and row[0].strip():
            out.append(row[0].strip())
    if out and out[0].lower() in {"number", "numbers", "certificate", "query", "numer"}:
        out = out[1:]  # a header line
    return out


def results_csv(results: list[CheckResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "query",
            "found",
            "certificate",
            "status",
            "holder",
            "country",
            "expires",
            "audit_company",
            "note",
        ]
    )
    for r in results:
        if not r.entries:
            writer.writerow([r.query, "no", "", "", "", "", "", "", r.error or "not_found"])
        for e in r.entries:
            writer.writerow(
                [
                    r.query,
                    "yes",
                    e.number,
                    e.state,
                    e.name,
                    e.country,
                    e.expires_on or "",
                    e.audit_company_name,
                    "",
                ]
            )
    return buffer.getvalue()
