"""Scheme administration operations: they change objects and flush, never commit.

Every operation writes an :class:`~iris.admin.models.AdminAction`. Nothing is deleted: a
user is deactivated, never removed; an organisation is suspended, never removed. Removing a
membership removes a role, not the person.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from iris.accounts.models import AuditorProfile, Membership, Organisation, OrgStatus, User
from iris.admin.models import AdminAction, AdminActionKind
from iris.core.db import db, utcnow
from iris.core.roles import role_label
from workflows.roles import ROLES_BY_ORG_KIND, OrgKind, Role


class AdminError(Exception):
    """A refusal the administrator should read; ``status`` is the HTTP answer in a view."""

    status = 422


class NotPossibleNow(AdminError):
    """The object's current state does not allow this (409)."""

    status = 409


def _log(
    kind: AdminActionKind,
    *,
    actor: User,
    user: User | None = None,
    organisation: Organisation | None = None,
    reason: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    **details: Any,
) -> AdminAction:
    entry = AdminAction(
        kind=kind,
        actor_id=actor.id,
        user=user,
        organisation=organisation,
        reason=reason or None,
        from_status=from_status,
        to_status=to_status,
        details=details,
    )
    db.session.add(entry)
    return entry


# Users -------------------------------------------------------------------------------------------


def deactivate_user(user: User, *, actor: User, reason: str | None = None) -> User:
    """The user can no longer sign in; open sessions end at their next request."""
    if user.id == actor.id:
        raise AdminError(_("You cannot deactivate your own account."))
    if not user.is_active:
        raise NotPossibleNow(_("This account is already deactivated."))
    user.is_active = False
    _log(
        AdminActionKind.USER_DEACTIVATED,
        actor=actor,
        user=user,
        reason=reason,
        from_status="active",
        to_status="inactive",
    )
    db.session.flush()
    return user


def activate_user(user: User, *, actor: User, reason: str | None = None) -> User:
    if user.is_active:
        raise NotPossibleNow(_("This account is already active."))
    user.is_active = True
    user.failed_logins = 0
    user.locked_until = None
    _log(
        AdminActionKind.USER_ACTIVATED,
        actor=actor,
        user=user,
        reason=reason,
        from_status="inactive",
        to_status="active",
    )
    db.session.flush()
    return user


def add_membership(
    user: User, *, actor: User, organisation: Organisation, role: Role
) -> Membership:
    """Give ``user`` a role in ``organisation``; the role must exist in that kind of organisation."""
    if not Membership.role_fits(organisation.kind, role):
        allowed = ", ".join(role_label(r) for r in ROLES_BY_ORG_KIND[organisation.kind])
        raise AdminError(
            _(
                "The role “%(role)s” does not exist in %(org)s (a %(kind)s). "
                "Roles there: %(allowed)s.",
                role=role_label(role),
                org=organisation.name,
                kind=_kind_words(organisation.kind),
                allowed=allowed,
            )
        )
    if role in user.roles_in(organisation):
        raise NotPossibleNow(
            _("%(name)s already has this role in %(org)s.", name=user.name, org=organisation.name)
        )
    membership = Membership(user=user, organisation=organisation, role=role)
    db.session.add(membership)
    if role in (Role.AUDITOR, Role.LEAD_AUDITOR) and getattr(user, "auditor_profile", None) is None:
        db.session.add(AuditorProfile(user=user, languages=[], countries=[]))
    _log(
        AdminActionKind.MEMBERSHIP_ADDED,
        actor=actor,
        user=user,
        organisation=organisation,
        role=role.value,
    )
    db.session.flush()
    return membership


def remove_membership(membership: Membership, *, actor: User) -> None:
    if membership.user_id == actor.id and membership.role is Role.SCHEME_ADMIN:
        raise AdminError(_("You cannot remove your own scheme administrator role."))
    _log(
        AdminActionKind.MEMBERSHIP_REMOVED,
        actor=actor,
        user=membership.user,
        organisation=membership.organisation,
        role=membership.role.value,
    )
    membership.user.memberships.remove(membership)
    db.session.flush()


def _kind_words(kind: OrgKind) -> str:
    return {
        OrgKind.AGENCY: _("recruitment agency"),
        OrgKind.AUDIT_COMPANY: _("audit company"),
        OrgKind.SCHEME_MANAGER: _("scheme manager"),
    }[kind]


# Audit companies ---------------------------------------------------------------------------------


def create_audit_company(
    *, actor: User, name: str, country: str, city: str, address: str
) -> Organisation:
    """A new audit company, awaiting approval."""
    org = Organisation(
        kind=OrgKind.AUDIT_COMPANY,
        name=name,
        country=country,
        city=city,
        address=address,
        status=OrgStatus.PENDING,
        status_changed_at=utcnow(),
    )
    db.session.add(org)
    _log(
        AdminActionKind.ORGANISATION_CREATED,
        actor=actor,
        organisation=org,
        to_status=OrgStatus.PENDING.value,
    )
    db.session.flush()
    return org


#: action → (statuses it starts from, status it leads to, log kind, reason required)
STATUS_ACTIONS: dict[str, tuple[frozenset[OrgStatus], OrgStatus, AdminActionKind, bool]] = {
    "approve": (
        frozenset({OrgStatus.PENDING}),
        OrgStatus.APPROVED,
        AdminActionKind.ORGANISATION_APPROVED,
        False,
    ),
    "suspend": (
        frozenset({OrgStatus.APPROVED}),
        OrgStatus.SUSPENDED,
        AdminActionKind.ORGANISATION_SUSPENDED,
        True,
    ),
    "reinstate": (
        frozenset({OrgStatus.SUSPENDED}),
        OrgStatus.APPROVED,
        AdminActionKind.ORGANISATION_REINSTATED,
        True,
    ),
}


def available_status_actions(org: Organisation) -> list[str]:
    if org.kind is not OrgKind.AUDIT_COMPANY:
        return []
    return [name for name, (sources, *_rest) in STATUS_ACTIONS.items() if org.status in sources]


def _change_status(
    org: Organisation, action: str, *, actor: User, reason: str | None
) -> Organisation:
    sources, target, kind, needs_reason = STATUS_ACTIONS[action]
    if org.kind is not OrgKind.AUDIT_COMPANY:
        raise NotPossibleNow(_("Only audit companies are approved or suspended here."))
    if org.status not in sources:
        raise NotPossibleNow(
            _(
                "%(org)s is %(status)s: it cannot be %(done)s now.",
                org=org.name,
                status=_status_words(org.status),
                done=done_words(action),
            )
        )
    if needs_reason and not (reason or "").strip():
        raise AdminError(_("Give a reason: it is kept in the history."))
    previous = org.status
    org.status = target
    org.status_changed_at = utcnow()
    _log(
        kind,
        actor=actor,
        organisation=org,
        reason=reason,
        from_status=previous.value,
        to_status=target.value,
    )
    db.session.flush()
    return org


def approve_audit_company(
    org: Organisation, *, actor: User, reason: str | None = None
) -> Organisation:
    return _change_status(org, "approve", actor=actor, reason=reason)


def suspend_audit_company(
    org: Organisation, *, actor: User, reason: str | None = None
) -> Organisation:
    return _change_status(org, "suspend", actor=actor, reason=reason)


def reinstate_audit_company(
    org: Organisation, *, actor: User, reason: str | None = None
) -> Organisation:
    return _change_status(org, "reinstate", actor=actor, reason=reason)


STATUS_OPERATIONS = {
    "approve": approve_audit_company,
    "suspend": suspend_audit_company,
    "reinstate": reinstate_audit_company,
}


def _status_words(status: OrgStatus) -> str:
    return {
        OrgStatus.ACTIVE: _("active"),
        OrgStatus.PENDING: _("awaiting approval"),
        OrgStatus.APPROVED: _("approved"),
        OrgStatus.SUSPENDED: _("suspended"),
    }[status]


def done_words(action: str) -> str:
    return {"approve": _("approved"), "suspend": _("suspended"), "reinstate": _("reinstated")}[
        action
    ]


# Auditors -------------------------------------------------------------------------------------------


def is_auditor(user: User) -> bool:
    return bool(user.all_roles & {Role.AUDITOR, Role.LEAD_AUDITOR})


def _profile(user: User) -> AuditorProfile:
    profile: AuditorProfile | None = getattr(user, "auditor_profile", None)
    if profile is None:
        profile = AuditorProfile(user=user, languages=[], countries=[])
        db.session.add(profile)
    return profile


def update_auditor_profile(
    user: User,
    *,
    actor: User,
    languages: list[str],
    countries: list[str],
    iris_trained_on: date | None,
) -> AuditorProfile:
    profile = _profile(user)
    profile.languages = list(languages)
    profile.countries = list(countries)
    profile.iris_trained_on = iris_trained_on
    _log(
        AdminActionKind.AUDITOR_PROFILE_UPDATED,
        actor=actor,
        user=user,
        languages=list(languages),
        countries=list(countries),
        iris_trained_on=iris_trained_on.isoformat() if iris_trained_on else None,
    )
    db.session.flush()
    return profile


def approve_auditor(user: User, *, actor: User, reason: str | None = None) -> AuditorProfile:
    """Approve an auditor for IRIS audits: trained, with at least one language."""
    profile = _profile(user)
    if profile.is_approved:
        raise NotPossibleNow(_("This auditor is already approved."))
    missing = []
    if profile.iris_trained_on is None:
        missing.append(_("the date of the IRIS auditor training"))
    if not profile.languages:
        missing.append(_("at least one language"))
    if missing:
        raise NotPossibleNow(
            _(
                "Before approval, record %(missing)s in the auditor's profile.",
                missing=_(" and ").join(missing),
            )
        )
    profile.approved_at = utcnow()
    profile.approved_by_id = actor.id
    _log(
        AdminActionKind.AUDITOR_APPROVED,
        actor=actor,
        user=user,
        reason=reason,
        from_status="not_approved",
        to_status="approved",
    )
    db.session.flush()
    return profile


def withdraw_auditor_approval(
    user: User, *, actor: User, reason: str | None = None
) -> AuditorProfile:
    profile = _profile(user)
    if not profile.is_approved:
        raise NotPossibleNow(_("This auditor is not approved."))
    if not (reason or "").strip():
        raise AdminError(_("Give a reason: it is kept in the history."))
    profile.approved_at = None
    profile.approved_by_id = None
    _log(
        AdminActionKind.AUDITOR_APPROVAL_WITHDRAWN,
        actor=actor,
        user=user,
        reason=reason,
        from_status="approved",
        to_status="not_approved",
    )
    db.session.flush()
    return profile
