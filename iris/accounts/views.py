from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from iris.accounts import operations as ops
from iris.accounts.forms import (
    AcceptInvitationForm,
    EmailForm,
    InviteForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from iris.accounts.models import Invitation, Organisation, User
from iris.core.db import db
from iris.core.permissions import login_required, public, require
from iris.core.security import TokenError
from iris.core.urls import safe_next
from iris.extensions import limiter, login_manager
from iris.main.forms import EmptyForm
from workflows.roles import ROLES_BY_ORG_KIND, Role

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = None  # the login page says it itself


@login_manager.user_loader
def _load_user(public_id: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.public_id == public_id))
    return user if user is not None and user.is_active else None


def _limit(key: str):  # type: ignore[no-untyped-def]
    return limiter.limit(lambda: current_app.config[key], methods=["POST"])


def _locale() -> str:
    return str(get_locale() or "en")


@bp.route("/login", methods=["GET", "POST"])
@public
@_limit("IRIS_RATELIMIT_LOGIN")
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = ops.authenticate(form.email.data, form.password.data)
        except ops.AccountError as exc:
            db.session.commit()  # keep the failure count
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            flash(_("Welcome back, %(name)s.", name=user.name), "success")
            from flask import request

            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
@public
@_limit("IRIS_RATELIMIT_REGISTER")
def register():  # type: ignore[no-untyped-def]
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            ops.register_agency(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                agency_name=form.agency_name.data,
                country=form.country.data,
                locale=_locale(),
            )
        except ops.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            return render_template("accounts/check_email.html", email=form.email.data)
    return render_template("accounts/register.html", form=form)


@bp.route("/account/confirm/<token>", methods=["GET", "POST"])
@public
def verify_email(token: str):  # type: ignore[no-untyped-def]
    form = EmptyForm()
    try:
        user = ops.user_for_verification(token)
    except TokenError as exc:
        return render_template("accounts/token_problem.html", message=str(exc), resend=True), 400
    if form.validate_on_submit():
        ops.verify_email(token)
        db.session.commit()
        flash(_("Thank you: your e-mail address is confirmed. You can sign in now."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/verify_email.html", form=form, user=user)


@bp.route("/account/confirm/resend", methods=["GET", "POST"])
@public
@_limit("IRIS_RATELIMIT_PASSWORD_RESET")
def resend_verification():  # type: ignore[no-untyped-def]
    form = EmailForm()
    if form.validate_on_submit():
        user = ops.find_user(form.email.data)
        if user is not None and not user.is_verified:
            ops.send_verification(user)
            db.session.commit()
        return render_template("accounts/check_email.html", email=form.email.data)
    return render_template("accounts/resend.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@_limit("IRIS_RATELIMIT_PASSWORD_RESET")
def forgot_password():  # type: ignore[no-untyped-def]
    form = EmailForm()
    if form.validate_on_submit():
        ops.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/check_email.html", email=form.email.data, reset=True)
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):  # type: ignore[no-untyped-def]
    try:
        ops.user_for_reset(token)
    except TokenError as exc:
        return render_template("accounts/token_problem.html", message=str(exc), reset=True), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        ops.reset_password(token, form.password.data)
        db.session.commit()
        logout_user()
        flash(_("Your password has been changed. Sign in with the new one."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    try:
        invitation = ops.find_invitation(token)
    except TokenError as exc:
        return render_template("accounts/token_problem.html", message=str(exc)), 400
    user = current_user if current_user.is_authenticated else None
    form = EmptyForm() if user else AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            accepted = ops.accept_invitation(
                invitation,
                user=user,
                name=getattr(form, "name", None) and form.name.data,
                password=getattr(form, "password", None) and form.password.data,
                locale=_locale(),
            )
        except ops.AccountError as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            if user is None:
                login_user(accepted)
            flash(_("Welcome to %(org)s.", org=invitation.organisation.name), "success")
            return redirect(url_for("main.home"))
    return render_template("accounts/invitation.html", form=form, invitation=invitation)


def _manageable(org: Organisation) -> bool:
    if current_user.has_role(Role.SCHEME_ADMIN):
        return True
    return Role.AGENCY_ADMIN in current_user.roles_in(org)


@bp.route("/organisations/<public_id>/members", methods=["GET", "POST"])
@login_required
def members(public_id: str):  # type: ignore[no-untyped-def]
    org = db.first_or_404(sa.select(Organisation).where(Organisation.public_id == public_id))
    require(bool(current_user.roles_in(org)) or current_user.has_role(Role.SCHEME_ADMIN), 404)
    can_manage = _manageable(org)
    form = InviteForm()
    form.set_roles(ROLES_BY_ORG_KIND[org.kind])
    if form.validate_on_submit():
        require(can_manage)
        try:
            ops.invite_member(
                org, actor=current_user, email=form.email.data, role=Role(form.role.data)
            )
        except ops.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("accounts.members", public_id=org.public_id))
    pending = db.session.scalars(
        sa.select(Invitation)
        .where(Invitation.organisation_id == org.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc())
    ).all()
    return render_template(
        "accounts/members.html", org=org, form=form, pending=pending, can_manage=can_manage
    )
