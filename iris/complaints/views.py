"""Complaints and appeals: the handlers' list; each opens on its lifecycle page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from iris.complaints.models import Appeal, Complaint
from iris.core.db import db
from iris.core.permissions import roles_required
from workflows.roles import Role

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

SCHEME = (Role.SCHEME_ADMIN, Role.APPLICATION_REVIEWER)
COMPANY = (Role.PLANNER, Role.DECISION_MAKER)


@bp.get("/")
@roles_required(*SCHEME, *COMPANY)
def index():  # type: ignore[no-untyped-def]
    complaints = sa.select(Complaint).order_by(Complaint.created_at.desc(), Complaint.id.desc())
    if not any(current_user.has_role(r) for r in SCHEME):
        companies = [o.id for o in current_user.orgs_with(*COMPANY)]
        complaints = complaints.where(Complaint.handler_org_id.in_(companies))
    appeals = []
    if current_user.has_role(Role.SCHEME_ADMIN):
        appeals = db.session.scalars(
            sa.select(Appeal).order_by(Appeal.created_at.desc(), Appeal.id.desc())
        ).all()
    return render_template(
        "complaints/index.html",
        complaints=db.session.scalars(complaints).all(),
        appeals=appeals,
    )
