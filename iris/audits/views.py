"""Certification cases: the audit company's queue, the case page, the team, declarations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from iris.accounts.models import Membership, Organisation, User
from iris.audits import operations
from iris.audits.forms import DeclarationForm, TeamForm
from iris.audits.models import (
    CertificationCase,
    ConflictOfInterestDeclaration,
    Relation,
    TeamMember,
)
from iris.audits.queries import ties_with_agency
from iris.core.db import db, utcnow
from iris.core.permissions import login_required, roles_required
from iris.core.workflow import WorkflowError
from workflows.certification import CaseState
from workflows.roles import OrgKind, Role

bp = Blueprint("audits", __name__, url_prefix="/cases")

COMPANY_ROLES = (
    Role.PLANNER, Role.LEAD_AUDITOR, Role.AUDITOR, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER,
)  # fmt: skip
#: who sees every case of the company (auditors see the cases they are on)
OVERSEERS = (Role.PLANNER, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER)


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
    companies = [o.id for o in current_user.orgs_with(*OVERSEERS)]
    query = (
        sa.select(CertificationCase)
        .outerjoin(
            TeamMember,
            sa.and_(
                TeamMember.case_id == CertificationCase.id, TeamMember.user_id == current_user.id
            ),
        )
        .where(
            sa.or_(CertificationCase.audit_company_id.in_(companies), TeamMember.id.is_not(None))
        )
        .options(sa.orm.joinedload(CertificationCase.agency))
        .order_by(CertificationCase.updated_at.desc(), CertificationCase.id.desc())
    )
    cases = db.session.scalars(query).unique().all()
    return render_template("audits/my_cases.html", cases=cases)


def _company_auditors(case: CertificationCase) -> tuple[list[Any], list[Any]]:
    def with_role(role: Role) -> list[Any]:
        return list(
            db.session.scalars(
                sa.select(User)
                .join(Membership)
                .where(Membership.organisation_id == case.audit_company_id, Membership.role == role)
                .order_by(User.name)
            )
        )

    leads = with_role(Role.LEAD_AUDITOR)
    auditors = {u.id: u for u in leads + with_role(Role.AUDITOR)}
    return leads, sorted(auditors.values(), key=lambda u: u.name)


@bp.get("/<public_id>")
@login_required
def case(public_id: str):  # type: ignore[no-untyped-def]
    item = _load(public_id)
    team_form = None
    candidates: list[tuple[Any, list[str]]] = []
    if item.state is CaseState.TEAM_PENDING and Role.PLANNER in item.actor_roles(current_user):
        leads, auditors = _company_auditors(item)
        lead = item.lead
        team_form = TeamForm(
            leads=leads,
            auditors=auditors,
            formdata=None,
            data={
                "lead": lead.user_id if lead else None,
                "auditors": [m.user_id for m in item.team if m is not lead],
            },
        )
        now = utcnow()
        candidates = [(u, ties_with_agency(u, item.agency_id, now)) for u in auditors]
    return render_template(
        "audits/case.html", case=item, team_form=team_form, candidates=candidates
    )


@bp.post("/<public_id>/team")
@login_required
def team(public_id: str):  # type: ignore[no-untyped-def]
    item = _load(public_id)
    if Role.PLANNER not in item.actor_roles(current_user):
        abort(403)
    leads, auditors = _company_auditors(item)
    form = TeamForm(leads=leads, auditors=auditors)
    if not form.validate_on_submit():
        abort(400)
    people = {u.id: u for u in auditors}
    try:
        operations.set_team(
            item,
            actor=current_user,
            lead=people[form.lead.data],
            auditors=[people[i] for i in form.auditors.data if i in people],
        )
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("audits.case", public_id=public_id))
    db.session.commit()
    flash(_("Team saved. Confirm it when every member is trained and independent."), "success")
    return redirect(url_for("audits.case", public_id=public_id))


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
