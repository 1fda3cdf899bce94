"""Applications: the agency's list and page, and the steps around them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from iris.accounts.models import Organisation, OrgStatus
from iris.admin.queries import paginate
from iris.applications import operations
from iris.applications.forms import EmptyForm, OpenCaseForm, RequestedItemsForm
from iris.applications.models import AGENCY_ROLES, SCHEME_ROLES, Application
from iris.applications.workflow import questionnaire_gaps
from iris.core.db import db
from iris.core.permissions import login_required, roles_required
from iris.core.workflow import WorkflowError
from workflows.application import ApplicationState
from workflows.roles import OrgKind, Role

bp = Blueprint("applications", __name__, url_prefix="/applications")


def _load(public_id: str) -> Application:
    application = db.session.scalar(
        sa.select(Application).where(Application.public_id == public_id)
    )
    if application is None or not application.can_view(current_user):
        abort(404)
    return application


def _refused(exc: WorkflowError, application: Application):  # type: ignore[no-untyped-def]
    db.session.rollback()
    return render_template(
        "workflowui/refused.html",
        subject=application,
        title=_("Not allowed") if exc.status == 403 else _("Not possible now"),
        reasons=exc.reasons,
        back=url_for("applications.detail", public_id=application.public_id),
    ), exc.status


@bp.get("/")
@roles_required(*AGENCY_ROLES, *SCHEME_ROLES)
def index():  # type: ignore[no-untyped-def]
    query = sa.select(Application).order_by(Application.updated_at.desc(), Application.id.desc())
    if not any(current_user.has_role(r) for r in SCHEME_ROLES):
        agencies = [o.id for o in current_user.orgs_with(*AGENCY_ROLES)]
        query = query.where(Application.agency_id.in_(agencies))
    state = request.args.get("state")
    if state in ApplicationState.__members__.values():
        query = query.where(Application.state == state)
    page = paginate(
        query.options(sa.orm.joinedload(Application.agency)),
        max(1, request.args.get("page", 1, type=int) or 1),
        int(current_app.config["IRIS_PAGE_SIZE"]),
    )
    return render_template(
        "applications/index.html",
        applications=page.items,
        page=page,
        states=list(ApplicationState),
        state=state,
        my_agencies=current_user.orgs_with(Role.AGENCY_ADMIN),
        form=EmptyForm(),
    )


@bp.post("/new/<agency_id>")
@roles_required(Role.AGENCY_ADMIN)
def new(agency_id: str):  # type: ignore[no-untyped-def]
    agency = db.session.scalar(sa.select(Organisation).where(Organisation.public_id == agency_id))
    if agency is None or not current_user.has_role(Role.AGENCY_ADMIN, agency):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        application = operations.start_application(agency, actor=current_user)
    except WorkflowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("applications.index"))
    db.session.commit()
    flash(
        _("Your draft application is ready. Complete the self-assessment, then submit it."),
        "success",
    )
    return redirect(url_for("applications.detail", public_id=application.public_id))


def _companies() -> list[Any]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(
                Organisation.kind == OrgKind.AUDIT_COMPANY,
                Organisation.status == OrgStatus.APPROVED,
            )
            .order_by(Organisation.name)
        )
    )


@bp.get("/<public_id>")
@login_required
def detail(public_id: str):  # type: ignore[no-untyped-def]
    application = _load(public_id)
    roles = application.actor_roles(current_user)
    from iris.audits.models import CertificationCase

    cases = db.session.scalars(
        sa.select(CertificationCase)
        .where(CertificationCase.application_id == application.id)
        .order_by(CertificationCase.id)
    ).all()
    answer_form = None
    if application.state is ApplicationState.DEFERRED and roles & set(AGENCY_ROLES):
        answer_form = RequestedItemsForm(
            data={"answers": [i.get("answer") or "" for i in application.requested_items]}
        )
    case_form = None
    if application.state is ApplicationState.ACCEPTED and Role.AGENCY_ADMIN in roles and not cases:
        case_form = OpenCaseForm(companies=_companies(), formdata=None)
    return render_template(
        "applications/detail.html",
        application=application,
        cases=cases,
        answer_form=answer_form,
        case_form=case_form,
        questionnaire_missing=questionnaire_gaps(application)
        if application.state is ApplicationState.DRAFT
        else None,
    )


@bp.post("/<public_id>/requested-items")
@login_required
def answer_items(public_id: str):  # type: ignore[no-untyped-def]
    application = _load(public_id)
    if not application.actor_roles(current_user) & set(AGENCY_ROLES):
        abort(403)
    form = RequestedItemsForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.answer_requested_items(
            application, actor=current_user, answers=[f.data for f in form.answers]
        )
    except WorkflowError as exc:
        return _refused(exc, application)
    db.session.commit()
    flash(_("Your answers are saved. Send them when every item is answered."), "success")
    return redirect(url_for("applications.detail", public_id=public_id))


@bp.post("/<public_id>/case")
@login_required
def open_case(public_id: str):  # type: ignore[no-untyped-def]
    from iris.audits import operations as audit_operations

    application = _load(public_id)
    if Role.AGENCY_ADMIN not in application.actor_roles(current_user):
        abort(403)
    form = OpenCaseForm(companies=_companies())
    if not form.validate_on_submit():
        abort(400)
    company = db.session.get(Organisation, form.audit_company.data)
    try:
        case = audit_operations.open_case(application, actor=current_user, audit_company=company)
    except WorkflowError as exc:
        return _refused(exc, application)
    db.session.commit()
    flash(_("The certification case is open: the audit company will assign its team."), "success")
    return redirect(url_for("audits.case", public_id=case.public_id))
