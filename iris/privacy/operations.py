"""Personal data operations: they change objects and flush, never commit.

- :func:`record_view` writes an access log entry for restricted personal data that the
  current request shows; the view commits it with the rest of its request.
- :func:`export_personal_data` gathers what the service holds about a person, as plain data.
- :func:`erase_person` pseudonymises a person: name, e-mail and sign-in data are replaced,
  the account is deactivated (its sessions end at their next request) and its API tokens are
  revoked. Certificates, decisions and transition records refer to people by id only, so
  they stay as they were and their hash chains keep verifying.
"""

from __future__ import annotations

import importlib
import secrets
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from iris.accounts.models import Invitation, User
from iris.admin.models import AdminAction, AdminActionKind
from iris.core.db import db, utcnow
from iris.core.history import TransitionRecord
from iris.core.mail import OutboxMessage
from iris.core.outbox import OutboxStatus
from iris.privacy.models import AccessLogEntry, SubjectKind

#: The word every erased person's name starts with (see :func:`erase_person`).
ERASED_PREFIX = "Erased person #"
ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: never deliverable


class PrivacyError(Exception):
    """A refusal the administrator should read; ``status`` is the HTTP answer in a view."""

    status = 409


# Access log --------------------------------------------------------------------------------------


def record_view(
    kind: SubjectKind,
    subject: Any,
    *,
    actor: User,
    endpoint: str,
    details: dict[str, Any] | None = None,
) -> AccessLogEntry:
    """Log that ``actor`` was shown restricted personal data of ``subject``."""
    entry = AccessLogEntry(
        actor_id=actor.id,
        subject_kind=kind,
        subject_id=subject.id,
        subject_ref=str(getattr(subject, "public_id", subject.id)),
        endpoint=endpoint,
        details=details or {},
        at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def is_restricted_document(document: Any) -> bool:
    from iris.questionnaires.models import Confidentiality

    return bool(document.confidentiality == Confidentiality.RESTRICTED)


# Export ------------------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _api_tokens(user: User) -> list[dict[str, Any]] | None:
    """The user's API tokens (metadata only), if the API feature is installed."""
    model = _token_model()
    if model is None:
        return None
    rows = db.session.scalars(sa.select(model).where(model.user_id == user.id)).all()
    hidden = ("hash", "digest", "secret", "token")
    out = []
    for row in rows:
        out.append(
            {
                c.key: _iso(getattr(row, c.key))
                for c in sa.inspect(model).column_attrs
                if not any(word in c.key for word in hidden) and c.key not in ("id", "user_id")
            }
        )
    return out


def _token_model() -> Any | None:
    """The API token model of ``iris.api`` (a mapped class with a ``user_id`` column whose
    name ends in "Token"), or None while that feature does not exist."""
    try:
        module = importlib.import_module("iris.api.models")
    except ImportError:
        return None
    for name in dir(module):
        obj = getattr(module, name)
        if (
            isinstance(obj, type)
            and name.endswith("Token")
            and hasattr(obj, "__table__")
            and "user_id" in obj.__table__.c
        ):
            return obj
    return None


def export_personal_data(user: User) -> dict[str, Any]:
    """Everything the service holds about ``user`` as a person, as JSON-ready data."""
    from iris.questionnaires.models import EvidenceDocument

    records = db.session.scalars(
        sa.select(TransitionRecord)
        .where(TransitionRecord.actor_id == user.id)
        .order_by(TransitionRecord.at, TransitionRecord.id)
    ).all()
    uploads = db.session.scalars(
        sa.select(EvidenceDocument)
        .where(EvidenceDocument.uploaded_by_id == user.id)
        .order_by(EvidenceDocument.id)
    ).all()
    admin = db.session.scalars(
        sa.select(AdminAction)
        .where(sa.or_(AdminAction.actor_id == user.id, AdminAction.user_id == user.id))
        .order_by(AdminAction.id)
    ).all()
    viewed = db.session.scalars(
        sa.select(AccessLogEntry)
        .where(AccessLogEntry.actor_id == user.id)
        .order_by(AccessLogEntry.id)
    ).all()
    data: dict[str, Any] = {
        "exported_at": utcnow().isoformat(),
        "profile": {
            "id": user.public_id,
            "name": user.name,
            "email": user.email,
            "locale": user.locale,
            "active": bool(user.is_active),
            "email_verified_at": _iso(user.email_verified_at),
            "registered_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
        },
        "memberships": [
            {
                "organisation": m.organisation.public_id,
                "organisation_name": m.organisation.name,
                "organisation_kind": str(m.organisation.kind),
                "role": str(m.role),
                "since": _iso(m.created_at),
            }
            for m in user.memberships
        ],
        "history": [
            {
                "subject_type": r.subject_type,
                "subject_id": r.subject_id,
                "seq": r.seq,
                "trigger": r.trigger,
                "from": r.from_state,
                "to": r.to_state,
                "role": r.actor_role,
                "at": _iso(r.at),
                "reason": r.reason,
            }
            for r in records
        ],
        "administration": [
            {
                "kind": str(a.kind),
                "at": _iso(a.at),
                "by_you": a.actor_id == user.id,
                "about_you": a.user_id == user.id,
                "reason": a.reason,
            }
            for a in admin
        ],
        "uploads": [
            {
                "id": d.public_id,
                "title": d.title,
                "file_name": d.file_name,
                "content_type": d.content_type,
                "size": d.size,
                "sha256": d.sha256,
                "confidentiality": str(d.confidentiality),
                "uploaded_at": _iso(d.created_at),
            }
            for d in uploads
        ],
        "restricted_data_viewed": [
            {
                "at": _iso(e.at),
                "kind": str(e.subject_kind),
                "subject": e.subject_ref,
                "page": e.endpoint,
            }
            for e in viewed
        ],
    }
    tokens = _api_tokens(user)
    if tokens is not None:
        data["api_tokens"] = tokens
    return data


# Erasure -----------------------------------------------------------------------------------------


def is_erased(user: User) -> bool:
    return user.name.startswith(ERASED_PREFIX) and user.email.endswith("@" + ERASED_EMAIL_DOMAIN)


def erase_person(user: User, *, actor: User, reason: str) -> str:
    """Pseudonymise ``user``; returns the pseudonym. Written to the administrators' log."""
    if user.id == actor.id:
        raise PrivacyError(_("You cannot erase your own account."))
    if is_erased(user):
        raise PrivacyError(_("This person has already been erased."))
    if not reason.strip():
        raise PrivacyError(_("Give the reason for the erasure."))
    tag = secrets.token_hex(4)
    while db.session.scalar(sa.select(User.id).where(User.name == ERASED_PREFIX + tag)):
        tag = secrets.token_hex(4)  # pragma: no cover - 1 in 4 billion
    pseudonym = ERASED_PREFIX + tag
    old_email, was_active = user.email, bool(user.is_active)
    user.name = pseudonym
    user.email = f"erased-{tag}@{ERASED_EMAIL_DOMAIN}"
    user.password_hash = None  # verify_password refuses an empty hash
    user.email_verified_at = None
    user.last_login_at = None
    user.failed_logins = 0
    user.locked_until = None
    user.is_active = False  # the user loader refuses it: open sessions end now
    # invitations addressed to the person carry their e-mail address
    for invitation in db.session.scalars(
        sa.select(Invitation).where(sa.func.lower(Invitation.email) == old_email.lower())
    ):
        invitation.email = user.email
    redacted = _erase_address(old_email, user.email, pseudonym)
    revoked = _revoke_api_tokens(user, actor=actor)
    db.session.add(
        AdminAction(
            kind=AdminActionKind.USER_ERASED,
            actor_id=actor.id,
            user=user,
            reason=reason.strip(),
            from_status="active" if was_active else "inactive",
            to_status="erased",
            details={"pseudonym": pseudonym, "api_tokens_revoked": revoked or 0, **redacted},
        )
    )
    db.session.flush()
    return pseudonym


def _erase_address(old_email: str, new_email: str, pseudonym: str) -> dict[str, int]:
    """Wherever else the person's address (and with it their name) is kept: mail to them
    (the text greets them by name; mail not yet sent is given up, so nothing reaches the old
    address after the erasure), e-mail subscriptions, and complaints they signed."""
    from iris.complaints.models import Complaint
    from iris.notifications.models import Subscription

    address = sa.func.lower
    mail = db.session.scalars(
        sa.select(OutboxMessage).where(address(OutboxMessage.to_address) == old_email.lower())
    ).all()
    for message in mail:
        message.to_address = new_email
        message.subject = message.body = "[erased]"
        if message.status == OutboxStatus.PENDING:
            message.status = OutboxStatus.FAILED
            message.last_error = "recipient erased"
    subscriptions = db.session.scalars(
        sa.select(Subscription).where(address(Subscription.email) == old_email.lower())
    ).all()
    for subscription in subscriptions:
        subscription.email = new_email
        subscription.unsubscribed_at = subscription.unsubscribed_at or utcnow()
    complaints = db.session.scalars(
        sa.select(Complaint).where(address(Complaint.complainant_contact) == old_email.lower())
    ).all()
    for complaint in complaints:
        complaint.complainant_contact = None
        complaint.complainant_name = pseudonym
    return {
        "mail_redacted": len(mail),
        "subscriptions_ended": len(subscriptions),
        "complaints_redacted": len(complaints),
    }


def _revoke_api_tokens(user: User, *, actor: User) -> int | None:
    """Revoke the person's API tokens through the API feature's own operation (which records
    when and by whom); None while that feature does not exist."""
    model = _token_model()
    try:
        from iris.api.operations import revoke_token
    except ImportError:
        return None
    if model is None:
        return None
    now = utcnow()
    active = db.session.scalars(
        sa.select(model).where(model.user_id == user.id, model.revoked_at.is_(None))
    ).all()
    for token in active:
        revoke_token(token, actor=actor, now=now)
    return len(active)
