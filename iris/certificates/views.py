"""Certificate documents for the people entitled to them (the registry is the public side)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort
from flask_login import current_user

from iris.certificates.models import Certificate
from iris.core import storage
from iris.core.db import db
from iris.core.permissions import login_required
from workflows.roles import Role

bp = Blueprint("certificates", __name__)


def can_download(user: Any, cert: Certificate) -> bool:
    """The holder's people, the certifying audit company's people and scheme admins."""
    return bool(
        user.roles_in(cert.agency_id)
        or user.roles_in(cert.audit_company_id)
        or user.has_role(Role.SCHEME_ADMIN)
    )


@bp.get("/certificates/<number>.pdf")
@login_required
def download_pdf(number: str) -> Response:
    cert = db.session.scalar(sa.select(Certificate).where(Certificate.number == number))
    if cert is None or not can_download(current_user, cert):
        abort(404)  # another agency's certificate document: do not reveal it exists
    if not cert.pdf_sha256:
        abort(404)
    data = storage.read_bytes(cert.pdf_sha256)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    return response
