"""Scheme administration screens: users, organisations, auditors and the mail outbox.

Every view is for scheme administrators only. Changes are POSTs behind a confirmation
page (with a reason where the history needs one); nothing is ever deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from iris.accounts.models import Membership, Organisation, User
from iris.admin import forms as f
from iris.admin import operations as ops
from iris.admin import queries
from iris.admin.models import AdminAction, AdminActionKind
from iris.core.countries import country_name, language_name
from iris.core.db import db
from iris.core.mail import OutboxMessage
from iris.core.permissions import roles_required
from iris.core.roles import role_label
from workflows.roles import OrgKind, Role

bp = Blueprint("admin", __name__, url_prefix="/admin")

bp.add_app_template_filter(country_name, "country_name")
bp.add_app_template_filter(language_name, "language_name")

_URL = re.compile(r"https?://[^\s<>\"']+")


@bp.app_template_filter("linkify")
def linkify(text: str | None) -> Markup:
    """Plain text with its web addresses made clickable; everything else escaped."""
    text = text or ""
    parts: list[Markup] = []
    last = 0
    for m in _URL.finditer(text):
        parts.append(escape(text[last : m.start()]))
        parts.append(Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(m.group(0)))
        last = m.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@bp.app_template_global()
def org_kind_label(kind: str) -> str:
    return str(f.KIND_LABELS.get(OrgKind(kind), kind))


@bp.app_template_global()
def org_status_label(status: str) -> str:
    from iris.accounts.models import OrgStatus

    return str(f.STATUS_LABELS.get(OrgStatus(status), status))


@bp.app_template_global()
def outbox_status_label(status: str) -> str:
    return {
        "pending": _("Waiting to be sent"),
        "sent": _("Sent"),
        "local": _("Kept here (no mail server)"),
        "failed": _("Failed"),
    }.get(str(status), str(status))


@bp.app_template_global()
def action_label(entry: AdminAction) -> str:
    """One line of the administrators' history, in words."""
    org = entry.organisation.name if entry.organisation else ""
    role = role_label(entry.details.get("role", "")) if entry.details.get("role") else ""
    kind = AdminActionKind(entry.kind)
    words = {
        AdminActionKind.USER_DEACTIVATED: _("Account deactivated"),
        AdminActionKind.USER_ACTIVATED: _("Account activated"),
        AdminActionKind.MEMBERSHIP_ADDED: _("Role given: %(role)s at %(org)s", role=role, org=org),
        AdminActionKind.MEMBERSHIP_REMOVED: _(
            "Role removed: %(role)s at %(org)s", role=role, org=org
        ),
        AdminActionKind.ORGANISATION_CREATED: _("Registered, awaiting approval"),
        AdminActionKind.ORGANISATION_APPROVED: _("Approved"),
        AdminActionKind.ORGANISATION_SUSPENDED: _("Suspended"),
        AdminActionKind.ORGANISATION_REINSTATED: _("Reinstated"),
        AdminActionKind.AUDITOR_PROFILE_UPDATED: _("Auditor profile updated"),
        AdminActionKind.AUDITOR_APPROVED: _("Approved as an IRIS auditor"),
        AdminActionKind.AUDITOR_APPROVAL_WITHDRAWN: _("Auditor approval withdrawn"),
        AdminActionKind.USER_ERASED: _("Personal data erased (pseudonymised)"),
    }
    return words[kind]


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _per_page() -> int:
    return int(current_app.config["IRIS_PAGE_SIZE"])


def _user(public_id: str) -> User:
    return db.first_or_404(sa.select(User).where(User.public_id == public_id))


def _org(public_id: str) -> Organisation:
    return db.first_or_404(sa.select(Organisation).where(Organisation.public_id == public_id))


def _confirm(template_args: dict[str, Any], form: f.ReasonForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("admin/confirm.html", form=form, **template_args), status


def _confirmed(  # type: ignore[no-untyped-def]
    form: f.ReasonForm,
    template_args: dict[str, Any],
    run: Callable[[], Any],
    success: Callable[[], str],
    back: str,
):
    """The confirmation step every admin change shares: show the page; on a valid POST run
    the operation, commit, flash ``success()`` and go back; a refusal re-renders the page."""
    if not form.validate_on_submit():
        return _confirm(template_args, form)
    try:
        run()
    except ops.AdminError as exc:
        form.form_errors.append(str(exc))
        return _confirm(template_args, form, exc.status)
    db.session.commit()
    flash(success(), "success")
    return redirect(back)


# Users ------------------------------------------------------------------------------------------------


@bp.get("/users")
@roles_required(Role.SCHEME_ADMIN)
def users():  # type: ignore[no-untyped-def]
    form = f.UserSearchForm(request.args)
    form.validate()
    page = queries.paginate(queries.users(form.q.data, form.status.data), _page(), _per_page())
    return render_template("admin/users.html", form=form, page=page)


def _user_detail(user: User, membership_form: f.MembershipForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "admin/user_detail.html",
        user=user,
        form=membership_form,
        history=queries.history(user=user),
        is_auditor=ops.is_auditor(user),
    ), status


@bp.get("/users/<public_id>")
@roles_required(Role.SCHEME_ADMIN)
def user_detail(public_id: str):  # type: ignore[no-untyped-def]
    user = _user(public_id)
    form = f.MembershipForm()
    form.set_organisations(queries.all_organisations())
    return _user_detail(user, form)


@bp.post("/users/<public_id>/memberships")
@roles_required(Role.SCHEME_ADMIN)
def add_membership(public_id: str):  # type: ignore[no-untyped-def]
    user = _user(public_id)
    form = f.MembershipForm()
    form.set_organisations(queries.all_organisations())
    if not form.validate_on_submit():
        return _user_detail(user, form, 422)
    org = _org(form.organisation.data)
    try:
        ops.add_membership(user, actor=current_user, organisation=org, role=Role(form.role.data))
    except ops.AdminError as exc:
        form.role.errors = [*form.role.errors, str(exc)]
        return _user_detail(user, form, exc.status)
    db.session.commit()
    flash(
        _(
            "%(name)s is now %(role)s at %(org)s.",
            name=user.name,
            role=role_label(form.role.data),
            org=org.name,
        ),
        "success",
    )
    return redirect(url_for("admin.user_detail", public_id=user.public_id))


@bp.route("/users/<public_id>/memberships/<org_id>/<role>/remove", methods=["GET", "POST"])
@roles_required(Role.SCHEME_ADMIN)
def remove_membership(public_id: str, org_id: str, role: str):  # type: ignore[no-untyped-def]
    user = _user(public_id)
    org = _org(org_id)
    try:
        role_enum = Role(role)
    except ValueError:
        abort(404)
    membership = db.first_or_404(
        sa.select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == org.id,
            Membership.role == role_enum,
        )
    )
    form = f.ReasonForm()
    back = url_for("admin.user_detail", public_id=user.public_id)
    args = {
        "title": _("Remove a role"),
        "message": _(
            "Remove the role “%(role)s” of %(name)s at %(org)s? The account stays; "
            "only this role goes.",
            role=role_label(membership.role),
            name=user.name,
            org=org.name,
        ),
        "submit": _("Remove the role"),
        "cancel": back,
        "danger": True,
        "reason": False,
    }
    return _confirmed(
        form,
        args,
        lambda: ops.remove_membership(membership, actor=current_user),
        lambda: _("The role is removed."),
        back,
    )


@bp.route("/users/<public_id>/<any(deactivate, activate):action>", methods=["GET", "POST"])
@roles_required(Role.SCHEME_ADMIN)
def set_user_active(public_id: str, action: str):  # type: ignore[no-untyped-def]
    user = _user(public_id)
    form = f.ReasonForm()
    back = url_for("admin.user_detail", public_id=user.public_id)
    if action == "deactivate":
        args = {
            "title": _("Deactivate %(name)s", name=user.name),
            "message": _(
                "%(name)s (%(email)s) will be signed out and will not be able to sign "
                "in until the account is activated again. Nothing is deleted.",
                name=user.name,
                email=user.email,
            ),
            "submit": _("Deactivate the account"),
            "danger": True,
        }
        operation = ops.deactivate_user
    else:
        args = {
            "title": _("Activate %(name)s", name=user.name),
            "message": _(
                "%(name)s (%(email)s) will be able to sign in again.",
                name=user.name,
                email=user.email,
            ),
            "submit": _("Activate the account"),
            "danger": False,
        }
        operation = ops.activate_user
    args.update(cancel=back, reason=True)
    return _confirmed(
        form,
        args,
        lambda: operation(user, actor=current_user, reason=form.reason.data),
        lambda: (
            _("The account of %(name)s is deactivated.", name=user.name)
            if action == "deactivate"
            else _("The account of %(name)s is active again.", name=user.name)
        ),
        back,
    )


# Organisations ---------------------------------------------------------------------------------------


@bp.get("/organisations")
@roles_required(Role.SCHEME_ADMIN)
def organisations():  # type: ignore[no-untyped-def]
    form = f.OrganisationSearchForm(request.args)
    if not form.validate():
        abort(400, _("Unknown filter: choose a kind and a status from the lists."))
    stmt = queries.organisations(form.q.data, form.kind.data or None, form.status.data or None)
    page = queries.paginate(stmt, _page(), _per_page(), rows=True)
    return render_template("admin/organisations.html", form=form, page=page)


@bp.route("/organisations/new", methods=["GET", "POST"])
@roles_required(Role.SCHEME_ADMIN)
def new_audit_company():  # type: ignore[no-untyped-def]
    form = f.AuditCompanyForm()
    if not form.is_submitted():
        form.country.data = "PL"
    if form.validate_on_submit():
        org = ops.create_audit_company(
            actor=current_user,
            name=form.name.data,
            country=form.country.data,
            city=form.city.data,
            address=form.address.data,
        )
        db.session.commit()
        flash(_("%(org)s is registered and awaits approval.", org=org.name), "success")
        return redirect(url_for("admin.organisation_detail", public_id=org.public_id))
    return render_template("admin/organisation_new.html", form=form)


@bp.get("/organisations/<public_id>")
@roles_required(Role.SCHEME_ADMIN)
def organisation_detail(public_id: str):  # type: ignore[no-untyped-def]
    org = _org(public_id)
    members = sorted(org.memberships, key=lambda m: (m.user.name, m.role))
    return render_template(
        "admin/organisation_detail.html",
        org=org,
        members=members,
        actions=ops.available_status_actions(org),
        history=queries.history(organisation=org),
    )


@bp.route(
    "/organisations/<public_id>/<any(approve, suspend, reinstate):action>", methods=["GET", "POST"]
)
@roles_required(Role.SCHEME_ADMIN)
def change_organisation_status(public_id: str, action: str):  # type: ignore[no-untyped-def]
    org = _org(public_id)
    if action not in ops.available_status_actions(org):
        abort(
            409,
            _(
                "%(org)s cannot be %(done)s in its current status.",
                org=org.name,
                done=ops.done_words(action),
            ),
        )
    form = f.ReasonForm()
    if ops.STATUS_ACTIONS[action][3]:
        form.require_reason()
    back = url_for("admin.organisation_detail", public_id=org.public_id)
    words = {
        "approve": (
            _("Approve %(org)s", org=org.name),
            _(
                "%(org)s will be listed as an approved audit company: agencies can choose "
                "it and its people can be assigned to audits.",
                org=org.name,
            ),
            _("Approve"),
            False,
        ),
        "suspend": (
            _("Suspend %(org)s", org=org.name),
            _(
                "%(org)s will not be offered to agencies and its people cannot be assigned "
                "to new audits until it is reinstated.",
                org=org.name,
            ),
            _("Suspend"),
            True,
        ),
        "reinstate": (
            _("Reinstate %(org)s", org=org.name),
            _("%(org)s will be an approved audit company again.", org=org.name),
            _("Reinstate"),
            False,
        ),
    }[action]
    args = {
        "title": words[0],
        "message": words[1],
        "submit": words[2],
        "danger": words[3],
        "cancel": back,
        "reason": True,
    }
    return _confirmed(
        form,
        args,
        lambda: ops.STATUS_OPERATIONS[action](org, actor=current_user, reason=form.reason.data),
        lambda: _(
            "%(org)s is now %(status)s.",
            org=org.name,
            status=org_status_label(org.status).lower(),
        ),
        back,
    )


# Auditors ---------------------------------------------------------------------------------------------


@bp.get("/auditors")
@roles_required(Role.SCHEME_ADMIN)
def auditors():  # type: ignore[no-untyped-def]
    form = f.AuditorSearchForm(request.args)
    form.validate()
    page = queries.paginate(queries.auditors(form.q.data, form.approval.data), _page(), _per_page())
    return render_template("admin/auditors.html", form=form, page=page)


def _auditor(public_id: str) -> User:
    user = _user(public_id)
    if not ops.is_auditor(user):
        abort(404)
    return user


@bp.route("/auditors/<public_id>", methods=["GET", "POST"])
@roles_required(Role.SCHEME_ADMIN)
def auditor_detail(public_id: str):  # type: ignore[no-untyped-def]
    user = _auditor(public_id)
    profile = getattr(user, "auditor_profile", None)
    form = f.AuditorProfileForm(obj=profile)
    if form.validate_on_submit():
        ops.update_auditor_profile(
            user,
            actor=current_user,
            languages=form.languages.data,
            countries=form.countries.data,
            iris_trained_on=form.iris_trained_on.data,
        )
        db.session.commit()
        flash(_("The auditor profile of %(name)s is saved.", name=user.name), "success")
        return redirect(url_for("admin.auditor_detail", public_id=user.public_id))
    return render_template(
        "admin/auditor_detail.html",
        user=user,
        profile=profile,
        form=form,
        history=queries.history(user=user),
    )


@bp.route("/auditors/<public_id>/<any(approve, withdraw):action>", methods=["GET", "POST"])
@roles_required(Role.SCHEME_ADMIN)
def auditor_approval(public_id: str, action: str):  # type: ignore[no-untyped-def]
    user = _auditor(public_id)
    form = f.ReasonForm()
    back = url_for("admin.auditor_detail", public_id=user.public_id)
    if action == "approve":
        args = {
            "title": _("Approve %(name)s as an IRIS auditor", name=user.name),
            "message": _("%(name)s can then be assigned to IRIS audits.", name=user.name),
            "submit": _("Approve"),
            "danger": False,
        }
        operation = ops.approve_auditor
    else:
        form.require_reason()
        args = {
            "title": _("Withdraw the approval of %(name)s", name=user.name),
            "message": _("%(name)s will no longer be assignable to IRIS audits.", name=user.name),
            "submit": _("Withdraw the approval"),
            "danger": True,
        }
        operation = ops.withdraw_auditor_approval
    args.update(cancel=back, reason=True)
    return _confirmed(
        form,
        args,
        lambda: operation(user, actor=current_user, reason=form.reason.data),
        lambda: (
            _("%(name)s is approved as an IRIS auditor.", name=user.name)
            if action == "approve"
            else _("The approval of %(name)s is withdrawn.", name=user.name)
        ),
        back,
    )


# Outbox -------------------------------------------------------------------------------------------------


@bp.get("/outbox")
@roles_required(Role.SCHEME_ADMIN)
def outbox():  # type: ignore[no-untyped-def]
    form = f.OutboxSearchForm(request.args)
    form.validate()
    page = queries.paginate(queries.outbox(form.q.data), _page(), _per_page())
    return render_template(
        "admin/outbox.html",
        form=form,
        page=page,
        smtp=bool(current_app.config.get("IRIS_SMTP_URL")),
    )


@bp.get("/outbox/<public_id>")
@roles_required(Role.SCHEME_ADMIN)
def outbox_message(public_id: str):  # type: ignore[no-untyped-def]
    msg = db.first_or_404(sa.select(OutboxMessage).where(OutboxMessage.public_id == public_id))
    return render_template("admin/outbox_message.html", msg=msg)
