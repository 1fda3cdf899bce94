"""Outgoing mail through a transactional outbox (:mod:`iris.core.outbox`).

:func:`queue_mail` renders a message and writes an ``OutboxMessage`` row in the caller's
transaction; delivery happens only after that transaction commits (a job: in the Celery
worker with Redis, inline without), and again on the worker's periodic sweep until it
succeeds, with exponential backoff between attempts. With no SMTP server configured
(``IRIS_SMTP_URL`` empty), messages stay in the outbox as ``local``, which scheme admins
read at ``/admin/outbox``: the embedded default for a fresh clone.

Every message carries a stable ``Message-ID`` built from its public id, so a receiver can
drop the rare duplicate sent when a worker dies between the server's acceptance and the
"sent" commit (see :mod:`iris.core.outbox`).
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Mapped, mapped_column

from iris.core.db import Model, PublicIdMixin, db
from iris.core.jobs import after_commit_for_row, job
from iris.core.outbox import OutboxMixin, OutboxStatus, deliver, queued

log = logging.getLogger(__name__)

#: Kept for callers that name mail states; the outbox states of every outbox table.
MailStatus = OutboxStatus


class OutboxMessage(OutboxMixin, PublicIdMixin, Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(320), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(8), default="en")

    def transmit(self, config: Any) -> None:
        smtp_send(config["IRIS_SMTP_URL"], config["IRIS_MAIL_FROM"], self)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.public_id} to {self.to_address} {self.status}>"


def render_mail(template: str, locale: str, **context: Any) -> tuple[str, str]:
    """(subject, body) of ``templates/emails/<template>.txt`` in ``locale``.

    The template's first line is ``Subject: ...``; the rest is the body.
    """
    with force_locale(locale):
        text = render_template(f"emails/{template}.txt", **context)
    first, _, body = text.lstrip().partition("\n")
    return first.removeprefix("Subject:").strip(), body.strip() + "\n"


def queue_mail(
    to: str,
    template: str,
    *,
    locale: str = "en",
    idempotency_key: str | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render ``templates/emails/<template>.txt`` and queue it; never commits.

    With an ``idempotency_key`` already in the outbox, the existing message is returned
    and nothing new is queued: the same event never mails the same person twice.
    """
    if idempotency_key is not None:
        existing = queued(db.session(), OutboxMessage, idempotency_key)
        if existing is not None:
            return existing
    subject, body = render_mail(template, locale, **context)
    msg = OutboxMessage(
        to_address=to,
        subject=subject,
        body=body,
        locale=locale,
        idempotency_key=idempotency_key,
        status=OutboxStatus.PENDING if current_app.config["IRIS_SMTP_URL"] else OutboxStatus.LOCAL,
    )
    db.session.add(msg)
    if msg.status is OutboxStatus.PENDING:
        # its id once flushed: no flush here (a step would write its subject twice)
        after_commit_for_row(db.session(), deliver_mail, msg)
    return msg


@job
def deliver_mail(ids: list[int] | None = None) -> int:
    """Deliver the given messages (or every due one); the number sent."""
    report = deliver(db.session(), OutboxMessage, current_app.config, ids)
    return len(report.sent)


def deliver_pending(app: Any) -> int:
    """Send every due message now (the sweep's work, for the mail outbox only)."""
    with app.app_context():
        return deliver_mail()


def smtp_send(url: str, sender: str, msg: OutboxMessage) -> None:
    """Hand one message to the SMTP server of ``IRIS_SMTP_URL``.

    ``smtp://host:port``, ``smtp+starttls://user:pass@host:587`` or ``smtps://host:465``.
    """
    if not url:
        raise smtplib.SMTPException("no SMTP server configured (IRIS_SMTP_URL)")
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
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(email)
