"""Complaints and appeals: the handlers' list, the complaint page (identity for the
investigator only, the special audit, the action taken) and the agency's appeal against a
refusal.

Every state change goes through ``fire()`` (the complaint's own steps through the lifecycle
panel and ``/complaint/<id>/transition/<step>``); a refusal answers with its status and the
reason.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from iris.admin.queries import paginate
from iris.complaints import operations as ops
from iris.complaints.forms import ActionForm, AppealForm, ConfirmForm
from iris.complaints.models import Appeal, Complaint
from iris.core.db import db, utcnow, writes
from iris.core.errors import render_error
from iris.core.permissions import login_required, require, roles_required
from iris.core.workflow import WorkflowError
from iris.privacy import hooks as privacy
from workflows.certification import CaseState
from workflows.complaint import ComplaintState
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
            sa.select(Appeal)
            .options(sa.orm.joinedload(Appeal.agency))
            .order_by(Appeal.created_at.desc(), Appeal.id.desc())
        ).all()
    page = paginate(
        complaints.options(sa.orm.joinedload(Complaint.agency)),
        max(1, request.args.get("page", 1, type=int) or 1),
        int(current_app.config["IRIS_PAGE_SIZE"]),
    )
    return render_template(
        "complaints/index.html",
        complaints=page.items,
        page=page,
        appeals=appeals,
    )


def _complaint(public_id: str) -> Complaint:
    c = db.session.scalar(sa.select(Complaint).where(Complaint.public_id == public_id))
    require(c is not None and c.can_view(current_user), 404)
    assert c is not None
    return c


def _refused(exc: WorkflowError) -> Any:
    db.session.rollback()
    return render_error(exc.status, exc.message)


@bp.get("/<public_id>")
@login_required
@writes  # its access log entry (iris.privacy)
def detail(public_id: str) -> Any:
    c = _complaint(public_id)
    investigator = c.investigator_id == current_user.id
    show_identity = c.can_see_complainant(current_user)
    if show_identity:
        privacy.complainant_viewed(c)
        db.session.commit()  # with its access log entry (iris.privacy)
    return render_template(
        "complaints/detail.html",
        c=c,
        show_identity=show_identity,
        special_form=ConfirmForm()
        if investigator and c.state in ops.SPECIAL_AUDIT_STATES and c.special_case_id is None
        else None,
        action_form=ActionForm()
        if investigator and c.state is ComplaintState.SUBSTANTIATED
        else None,
    )


@bp.post("/<public_id>/special-audit")
@login_required
def special_audit(public_id: str) -> Any:
    c = _complaint(public_id)
    if not ConfirmForm().validate_on_submit():
        return render_error(400, _("Check the form and try again."))
    try:
        case = ops.open_special_audit(c, actor=current_user, now=utcnow())
    except WorkflowError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("The special audit is open; the planner assigns its team."), "success")
    if current_user.has_role(Role.PLANNER, case.audit_company_id):
        return redirect(url_for("fieldwork.team", case=case.public_id))
    return redirect(url_for("complaints.detail", public_id=c.public_id))


@bp.post("/<public_id>/action")
@login_required
def action(public_id: str) -> Any:
    c = _complaint(public_id)
    form = ActionForm()
    if not form.validate_on_submit():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return render_error(400, " ".join(errors) or _("Check the form and try again."))
    try:
        ops.take_action(
            c, actor=current_user, reason_code=form.reason_code.data, reason=form.reason.data,
            criterion=(form.criterion.data or "").strip() or None, grade=form.grade.data or None,
            now=utcnow(),
        )  # fmt: skip
    except WorkflowError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("The action is recorded."), "success")
    return redirect(url_for("complaints.detail", public_id=c.public_id))


# --------------------------------------------------------------------------- appeals


@bp.route("/appeals/refusal/<case>", methods=["GET", "POST"])
@roles_required(Role.AGENCY_ADMIN)
def appeal_refusal(case: str) -> Any:
    """The agency appeals against the refusal of its case, within the appeal window."""
    from iris.audits.models import CertificationCase

    item = db.session.scalar(
        sa.select(CertificationCase).where(CertificationCase.public_id == case)
    )
    require(item is not None and current_user.has_role(Role.AGENCY_ADMIN, item.agency_id), 404)
    assert item is not None
    require(item.state is CaseState.REFUSED, 404)
    form = AppealForm()
    if form.validate_on_submit():
        try:
            appeal = ops.lodge_appeal(
                item, actor=current_user, reason=form.reason.data, now=utcnow()
            )
        except WorkflowError as exc:
            return _refused(exc)
        db.session.commit()
        flash(_("Your appeal is lodged. An independent panel will hear it."), "success")
        return redirect(
            url_for("workflowui.subject", subject_type="appeal", public_id=appeal.public_id)
        )
    return render_template("complaints/appeal_form.html", case=item, form=form, now=utcnow())
