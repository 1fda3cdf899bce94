"""Outgoing mail through a transactional outbox.

:func:`queue_mail` renders a message and writes an ``OutboxMessage`` row in the caller's
transaction; delivery happens only after that transaction commits. With no SMTP server
configured (``IRIS_SMTP_URL`` empty), messages stay in the outbox, which scheme admins read
at ``/admin/outbox``: the embedded default for a fresh clone.
"""

from __future__ import annotations

import enum
import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Mapped, mapped_column

from iris.core.db import Model, PublicIdMixin, db, enum_column, utcnow
from iris.core.jobs import after_commit

log = logging.getLogger(__name__)


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    LOCAL = "local"  # kept in the local outbox: no SMTP server configured
    FAILED = "failed"


class OutboxMessage(PublicIdMixin, Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(320), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(8), default="en")
    status: Mapped[MailStatus] = mapped_column(
        enum_column(MailStatus), default=MailStatus.PENDING, index=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]


def queue_mail(
    to: str,
    template: str,
    *,
    locale: str = "en",
    idempotency_key: str | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render ``templates/emails/<template>.txt`` and queue it; never commits.

    The template's first line is ``Subject: ...``; the rest is the body.
    """
    with force_locale(locale):
        text = render_template(f"emails/{template}.txt", **context)
    first, _, body = text.lstrip().partition("\n")
    subject = first.removeprefix("Subject:").strip()
    msg = OutboxMessage(
        to_address=to,
        subject=subject,
        body=body.strip() + "\n",
        locale=locale,
        idempotency_key=idempotency_key,
        status=MailStatus.PENDING if current_app.config["IRIS_SMTP_URL"] else MailStatus.LOCAL,
    )
    db.session.add(msg)
    db.session.flush()
    if msg.status is MailStatus.PENDING:
        after_commit(db.session(), deliver_pending, current_app._get_current_object())  # type: ignore[attr-defined]
    return msg


def deliver_pending(app: Any) -> int:
    """Send pending messages; each one is marked sent in its own short transaction."""
    sent = 0
    with app.app_context():
        ids = db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.status == MailStatus.PENDING)
            .order_by(OutboxMessage.id)
        ).all()
        for msg_id in ids:
            msg = db.session.get(OutboxMessage, msg_id)
            if msg is None or msg.status is not MailStatus.PENDING:
                continue
            try:
                _smtp_send(app.config["IRIS_SMTP_URL"], app.config["IRIS_MAIL_FROM"], msg)
            except (OSError, smtplib.SMTPException) as exc:
                msg.attempts += 1
                msg.last_error = str(exc)[:500]
                log.warning("mail %s not delivered: %s", msg.public_id, exc)
            else:
                msg.attempts += 1
                msg.status = MailStatus.SENT
                msg.sent_at = utcnow()
                sent += 1
            db.session.commit()
    return sent


def _smtp_send(url: str, sender: str, msg: OutboxMessage) -> None:
    parts = urlsplit(url)
    email = EmailMessage()
    email["From"] = sender
    email["To"] = msg.to_address
    email["Subject"] = msg.subject
    email["Message-ID"] = f"<{msg.public_id}@iris-certify>"
    email.set_content(msg.body)
    smtp_cls = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_cls(parts.hostname or "localhost", parts.port or 25, timeout=10) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(parts.username, parts.password or "")
        smtp.send_message(email)
