"""Demo certificates in every status, each issued by a real grant.

Runs after the fieldwork demo (FEATURES order) and uses its driver: each agency below is
taken from its application to a ``grant`` through ``fire()`` at a moment in the past, and
the grant issues the certificate (number, signed credential, PDF, registry entry). Then
the certificate moves through its own lifecycle with ``fire()``, so every history chain is
complete and ``flask iris verify-history`` passes on a fresh demo database.

- agency_poznan: superseded by its recertification's new, active certificate (the
  complaints demo's agency);
- agency_kharkiv: suspended (surveillance refused), its appeal lodged, and now its
  surveillance audit planned;
- agency_odesa: suspended, then withdrawn (its appeal is dismissed in the complaints demo);
- agency_chisinau: expired (granted more than three years ago; the timer expired it);
- agency_brno: cancelled by the scheme: issued in error.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from iris.core.db import db, utcnow
from iris.core.signing import keyring_for_app
from iris.core.workflow import SYSTEM, WorkflowError, fire
from iris.fieldwork import operations as fieldwork_ops
from iris.fieldwork.demo import DAY, drive_case, drive_followup
from workflows.certification import AuditType

#: agency key -> (what happens to its certificate, days between the grant and today)
PLAN = (
    ("agency_poznan", "superseded", None),  # granted three years minus 45 days ago
    ("agency_kharkiv", "suspended", 300),
    ("agency_odesa", "withdrawn", 420),
    ("agency_chisinau", "expired", None),  # granted three years and 60 days ago
    ("agency_brno", "cancelled", 150),
)

#: days from the application to the grant in :func:`~iris.fieldwork.demo.drive_case`
TO_GRANT = {True: 47, False: 26}


def _granted_at(outcome: str, days: int | None, now: datetime) -> datetime:
    years = int(current_app.config["IRIS_CERT_VALIDITY_YEARS"])
    if outcome == "superseded":
        return now - timedelta(days=365 * years - 45)
    if outcome == "expired":
        return now - timedelta(days=365 * years + 60)
    assert days is not None
    return now - timedelta(days=days)


def _certified(ctx: Any, key: str, granted: datetime, *, findings: bool) -> Any:
    start = granted - TO_GRANT[findings] * DAY
    case = drive_case(ctx, key, "ac_certa", "certified", start, findings=findings)
    cert = case.issued_certificate
    if cert is None:
        raise WorkflowError("the grant issued no certificate")
    return case, cert


def _afterwards(ctx: Any, key: str, outcome: str, cert: Any, now: datetime) -> Any:
    decider = ctx.objects["ac_certa_decider"]
    if outcome == "suspended":
        fire(cert, "suspend", decider, now=now - 20 * DAY,
             reason_code="surveillance_refused_or_overdue",
             reason="The agency refused the dates offered for its surveillance audit.")  # fmt: skip
    elif outcome == "withdrawn":
        fire(cert, "suspend", decider, now=now - 100 * DAY,
             reason_code="substantiated_complaint",
             reason="Workers were charged visa fees through a sub-agent.")  # fmt: skip
        fire(cert, "withdraw", decider, now=now - 32 * DAY,
             reason="The visa fees were not repaid within the suspension: critical breach.")  # fmt: skip
    elif outcome == "expired":
        fire(cert, "expire", SYSTEM, now=cert.expires_at + timedelta(hours=6))
    elif outcome == "cancelled":
        fire(cert, "cancel", ctx.objects["scheme_admin"], now=now - 140 * DAY,
             reason="Issued in error: the scope named Lithuania instead of Czechia.")  # fmt: skip
    elif outcome == "superseded":
        # the recertification audit, granted before expiry: its new certificate supersedes
        renewal = drive_followup(ctx, key, "ac_certa", AuditType.RECERTIFICATION, "certified",
                                 now - 40 * DAY)  # fmt: skip
        ctx.objects[f"case_{key}_recertification"] = renewal
        return renewal.issued_certificate
    return cert


def seed(ctx: Any) -> None:
    ring = keyring_for_app()
    if not ring.exists():
        ring.generate()
    if ctx.objects.get("ac_certa_decider") is None or "app_reviewer" not in ctx.objects:
        return
    now = utcnow().replace(microsecond=0)
    for i, (key, outcome, days) in enumerate(PLAN):
        if ctx.objects.get(key) is None:
            continue
        try:
            with db.session.begin_nested():
                granted = _granted_at(outcome, days, now)
                case, cert = _certified(ctx, key, granted, findings=i % 2 == 1)
                ctx.objects[f"case_{key}"] = case
                ctx.objects[f"certificate_{key}"] = cert
                current = _afterwards(ctx, key, outcome, cert, now)
                if current is not cert:
                    ctx.objects[f"certificate_{key}_renewed"] = current
        except (WorkflowError, fieldwork_ops.FieldworkError) as exc:
            print(f"certificates demo: {key} not taken to {outcome}: {exc}")
        db.session.flush()
    # the suspended agency agreed to dates at last: its surveillance audit is planned
    if str(getattr(ctx.objects.get("certificate_agency_kharkiv"), "state", "")) == "suspended":
        try:
            with db.session.begin_nested():
                ctx.objects["case_agency_kharkiv_surveillance"] = drive_followup(
                    ctx, "agency_kharkiv", "ac_certa", AuditType.SURVEILLANCE, "audit_planned",
                    now - 10 * DAY,
                )  # fmt: skip
        except (WorkflowError, fieldwork_ops.FieldworkError) as exc:
            print(f"certificates demo: the surveillance audit was left out: {exc}")
