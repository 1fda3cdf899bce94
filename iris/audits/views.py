"""The engine-level pages of a certification case: the case overview (details, the
certificate and its audit schedule, the lifecycle panel and its history) under ``/cases/``,
and the conflict-of-interest declarations register.

The audit's working pages — the queue, the planner's team assignment, the workspace,
ratings, findings, corrective actions — are the fieldwork feature's, under ``/audit/``.
The old ``/cases/`` queue redirects there.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from iris.accounts.models import Organisation
from iris.audits import operations
from iris.audits.forms import DeclarationForm, FollowupForm
from iris.audits.models import CertificationCase, ConflictOfInterestDeclaration, Relation
from iris.audits.queries import AUDIT_TYPE_WORDS
from iris.core.db import db, utcnow
from iris.core.errors import render_error
from iris.core.permissions import login_required, require, roles_required
from iris.core.workflow import WorkflowError
from iris.fieldwork import queries as fieldwork_queries
from workflows.certification import AuditType, CaseState
from workflows.roles import OrgKind, Role

bp = Blueprint("audits", __name__, url_prefix="/cases")

COMPANY_ROLES = (
    Role.PLANNER, Role.LEAD_AUDITOR, Role.AUDITOR, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER,
)  # fmt: skip


def _load(public_id: str) -> CertificationCase:
    case = db.session.scalar(
        sa.select(CertificationCase).where(CertificationCase.public_id == public_id)
    )
    if case is None or not case.can_view(current_user):
        abort(404)  # an auditor not on the team does not learn the case exists
    return case


@bp.get("/")
@roles_required(*COMPANY_ROLES)
def my_cases():  # type: ignore[no-untyped-def]
    """The queue moved to the fieldwork pages."""
    return redirect(url_for("fieldwork.my_cases"), 301)


def _schedule(case: CertificationCase) -> tuple[Any, Any]:
    """The certificate in force that this certified case stands behind, and what is due."""
    if case.state is not CaseState.CERTIFIED:
        return None, None
    from iris.audits.workflow import due_followup
    from iris.certificates.models import certificate_in_force

    cert = certificate_in_force(db.session, case.agency_id)
    if cert is None or cert.audit_company_id != case.audit_company_id:
        return None, None
    return cert, due_followup(cert, utcnow())


def _may_open_followup(case: CertificationCase) -> bool:
    return current_user.has_role(Role.PLANNER, case.audit_company_id) or current_user.has_role(
        Role.SCHEME_ADMIN
    )


@bp.get("/<public_id>")
@login_required
def case(public_id: str):  # type: ignore[no-untyped-def]
    item = _load(public_id)
    cert, due = _schedule(item)
    form = FollowupForm() if cert is not None and _may_open_followup(item) else None
    if form is not None and due is not None:
        form.audit_type.data = due[0].value
    return render_template(
        "audits/case.html",
        case=item,
        certificate=cert,
        due=due,
        followup_form=form,
        type_words=AUDIT_TYPE_WORDS,
        team_page=Role.PLANNER in item.actor_roles(current_user),
        audit_pages=fieldwork_queries.can_see_case(current_user, item),
    )


@bp.post("/<public_id>/followup")
@login_required
def followup(public_id: str):  # type: ignore[no-untyped-def]
    """The planner or the scheme manager starts a surveillance, recertification or special
    audit from a certified case; the new case opens on the planner's team page."""
    item = _load(public_id)
    require(_may_open_followup(item), 403)
    cert, _due = _schedule(item)
    if cert is None:
        return render_error(
            409, _("Follow-up audits start from the case behind the certificate in force.")
        )
    form = FollowupForm()
    if not form.validate_on_submit():
        return render_error(400, _("Choose the kind of audit."))
    try:
        new = operations.open_followup(
            cert, actor=current_user, audit_type=AuditType(form.audit_type.data), now=utcnow()
        )
    except WorkflowError as exc:
        db.session.rollback()
        return render_error(exc.status, exc.message)
    db.session.commit()
    flash(
        _("The %(kind)s audit is open: assign its team.", kind=AUDIT_TYPE_WORDS[new.audit_type]),
        "success",
    )
    if current_user.has_role(Role.PLANNER, new.audit_company_id):
        return redirect(url_for("fieldwork.team", case=new.public_id))
    return redirect(url_for("audits.case", public_id=new.public_id))


@bp.route("/declarations", methods=["GET", "POST"])
@roles_required(*COMPANY_ROLES, Role.APPLICATION_REVIEWER)
def declarations():  # type: ignore[no-untyped-def]
    agencies = list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.kind == OrgKind.AGENCY)
            .order_by(Organisation.name)
        )
    )
    form = DeclarationForm(agencies=agencies)
    if form.validate_on_submit():
        agency = db.session.get(Organisation, form.agency.data)
        operations.declare_conflict(
            actor=current_user,
            agency=agency,
            relation=Relation(form.relation.data),
            period_start=form.period_start.data,
            period_end=form.period_end.data,
            note=form.note.data or None,
        )
        db.session.commit()
        flash(
            _("Declaration recorded. You will not be assigned to this agency's cases."), "success"
        )
        return redirect(url_for("audits.declarations"))
    mine = db.session.scalars(
        sa.select(ConflictOfInterestDeclaration)
        .where(ConflictOfInterestDeclaration.user_id == current_user.id)
        .order_by(ConflictOfInterestDeclaration.declared_at.desc())
    ).all()
    return render_template(
        "audits/declarations.html", form=form, declarations=mine
    ), 422 if form.is_submitted() else 200
