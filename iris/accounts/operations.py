"""Account operations: they change objects and flush, never commit."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _

from iris.accounts.models import Invitation, Membership, Organisation, OrgStatus, User
from iris.core import security
from iris.core.db import db, utcnow
from iris.core.mail import queue_mail
from workflows.roles import OrgKind, Role

VERIFY = "verify-email"
RESET = "reset-password"


class AccountError(Exception):
    """A refusal the user should read (shown as a form error or flash)."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def register_agency(
    *, name: str, email: str, password: str, agency_name: str, country: str, locale: str
) -> User:
    """A new agency with its first administrator, who must verify the e-mail address."""
    from iris.agencies.models import AgencyProfile

    email = normalise_email(email)
    if find_user(email) is not None:
        raise AccountError(
            _("An account with this e-mail already exists. Sign in, or reset your password.")
        )
    user = User(
        email=email,
        name=name.strip(),
        password_hash=security.hash_password(password),
        locale=locale,
    )
    org = Organisation(
        kind=OrgKind.AGENCY, name=agency_name.strip(), country=country, status=OrgStatus.ACTIVE
    )
    org.agency_profile = AgencyProfile(preferred_language=locale)  # type: ignore[attr-defined]
    db.session.add_all([user, org])
    db.session.add(Membership(user=user, organisation=org, role=Role.AGENCY_ADMIN))
    db.session.flush()
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    token = security.make_token(
        VERIFY, {"u": user.public_id, "fp": security.fingerprint(_verified_marker(user))}
    )
    queue_mail(
        user.email,
        "verify_email",
        locale=user.locale,
        user=user,
        link=url_for("accounts.verify_email", token=token, _external=True),
        hours=current_app.config["IRIS_TOKEN_MAX_AGE_HOURS"],
    )


def _verified_marker(user: User) -> str:
    return user.email + "|" + (user.email_verified_at.isoformat() if user.email_verified_at else "")


def _token_user(purpose: str, token: str, marker) -> User:  # type: ignore[no-untyped-def]
    data = security.read_token(
        purpose, token, current_app.config["IRIS_TOKEN_MAX_AGE_HOURS"] * 3600
    )
    user = db.session.scalar(sa.select(User).where(User.public_id == str(data.get("u"))))
    if user is None:
        raise security.TokenError(_("This link is not valid. Check that you copied all of it."))
    if not security.same(str(data.get("fp", "")), security.fingerprint(marker(user))):
        raise security.TokenError(_("This link has already been used."))
    return user


def user_for_verification(token: str) -> User:
    return _token_user(VERIFY, token, _verified_marker)


def verify_email(token: str) -> User:
    user = user_for_verification(token)
    user.email_verified_at = utcnow()
    return user


def _password_marker(user: User) -> str:
    return user.password_hash or ""


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way (no enumeration)."""
    user = find_user(email)
    if user is None or not user.is_active:
        return
    token = security.make_token(
        RESET, {"u": user.public_id, "fp": security.fingerprint(_password_marker(user))}
    )
    queue_mail(
        user.email,
        "reset_password",
        locale=user.locale,
        user=user,
        link=url_for("accounts.reset_password", token=token, _external=True),
        hours=current_app.config["IRIS_TOKEN_MAX_AGE_HOURS"],
    )


def user_for_reset(token: str) -> User:
    return _token_user(RESET, token, _password_marker)


def reset_password(token: str, password: str) -> User:
    user = user_for_reset(token)
    user.password_hash = security.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached this mailbox
    return user


def authenticate(email: str, password: str) -> User:
    """The user for these credentials, or AccountError; counts failures and locks."""
    cfg = current_app.config
    user = find_user(email)
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise AccountError(
            _(
                "Too many failed attempts. Try again in %(m)s minutes, or reset your password.",
                m=minutes,
            )
        )
    if user is None or not security.verify_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= cfg["IRIS_LOGIN_MAX_FAILURES"]:
                user.locked_until = now + timedelta(minutes=cfg["IRIS_LOGIN_LOCK_MINUTES"])
                user.failed_logins = 0
        raise AccountError(_("The e-mail or the password is wrong."))
    if not user.is_active:
        raise AccountError(_("This account is disabled. Contact the scheme administrator."))
    if not user.is_verified:
        raise AccountError(_("Please confirm your e-mail address first: use the link we sent you."))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if user.password_hash and security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    return user


def invite_member(org: Organisation, *, actor: User, email: str, role: Role) -> Invitation:
    if not Membership.role_fits(org.kind, role):
        raise AccountError(_("This role does not exist in this kind of organisation."))
    email = normalise_email(email)
    existing = find_user(email)
    if existing is not None and role in existing.roles_in(org):
        raise AccountError(_("This person already has this role here."))
    token = security.random_token()
    days = current_app.config["IRIS_INVITATION_MAX_AGE_DAYS"]
    invitation = Invitation(
        organisation=org,
        email=email,
        role=role,
        token_digest=security.token_digest(token),
        invited_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    queue_mail(
        email,
        "invitation",
        locale=actor.locale,
        inviter=actor,
        org=org,
        days=days,
        link=url_for("accounts.accept_invitation", token=token, _external=True),
    )
    return invitation


def find_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_digest == security.token_digest(token))
    )
    if invitation is None:
        raise security.TokenError(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise security.TokenError(_("This invitation has already been used."))
    if invitation.expires_at < utcnow():
        raise security.TokenError(
            _("This invitation has expired. Ask your colleague to invite you again."), expired=True
        )
    return invitation


def accept_invitation(
    invitation: Invitation,
    *,
    user: User | None,
    name: str | None = None,
    password: str | None = None,
    locale: str = "en",
) -> User:
    if user is None:
        if find_user(invitation.email) is not None:
            raise AccountError(_("An account with this e-mail exists: sign in to accept."))
        user = User(
            email=invitation.email,
            name=(name or "").strip(),
            password_hash=security.hash_password(password or ""),
            locale=locale,
            email_verified_at=utcnow(),
        )  # the invitation reached this mailbox
        db.session.add(user)
    elif user.email != invitation.email:
        raise AccountError(
            _(
                "This invitation was sent to %(email)s. Sign in with that address to accept it.",
                email=invitation.email,
            )
        )
    if invitation.role not in user.roles_in(invitation.organisation_id):
        db.session.add(
            Membership(user=user, organisation_id=invitation.organisation_id, role=invitation.role)
        )
    invitation.accepted_at = utcnow()
    db.session.flush()
    invitation.accepted_by_id = user.id
    return user


def create_scheme_admin(*, email: str, name: str, password: str) -> User:
    """A scheme administrator, verified, in the (single) scheme manager organisation."""
    if len(password) < 10:
        raise ValueError(_("Use at least %(n)s characters.", n=10))
    if find_user(email) is not None:
        raise ValueError(_("An account with this e-mail already exists."))
    org = scheme_manager()
    user = User(
        email=normalise_email(email),
        name=name,
        email_verified_at=utcnow(),
        password_hash=security.hash_password(password),
    )
    db.session.add(user)
    db.session.add(Membership(user=user, organisation=org, role=Role.SCHEME_ADMIN))
    db.session.flush()
    return user


def scheme_manager() -> Organisation:
    """The scheme manager organisation, created on first use."""
    org = db.session.scalar(
        sa.select(Organisation).where(Organisation.kind == OrgKind.SCHEME_MANAGER)
    )
    if org is None:
        org = Organisation(
            kind=OrgKind.SCHEME_MANAGER,
            name="IRIS Scheme Management (IOM)",
            country="CH",
            city="Geneva",
        )
        db.session.add(org)
        db.session.flush()
    return org
