"""The public registry's tables: one entry per certificate, and the verification log.

:class:`RegistryEntry` is a denormalised, public-only copy of each certificate, rebuilt in
the same transaction as every change of the certificate (see :mod:`iris.registry.sync`), so
the public channels (verify page, API, feed, badge, status list) read one indexed row and
show a change as soon as its transaction commits. It holds no personal data and no audit
content: the holder's public facts as certified, the status, the dates and the status
history (steps and reason codes, never free-text reasons or people).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from iris.core.db import db


class RegistryEntry(db.Model):
    __tablename__ = "registry_entries"

    certificate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    state: Mapped[str] = mapped_column(sa.String(20), index=True)
    name: Mapped[str] = mapped_column(sa.String(300), index=True)
    country: Mapped[str] = mapped_column(sa.String(2), index=True)
    city: Mapped[str] = mapped_column(sa.String(200), default="")
    #: destination countries of the certified corridors, as ",PL,DE,"
    destinations: Mapped[str] = mapped_column(sa.String(400), default=",")
    audit_company_id: Mapped[int] = mapped_column(index=True)
    audit_company_name: Mapped[str] = mapped_column(sa.String(300))
    #: folded (lower case, no accents) names, city, numbers: for accent-insensitive search
    search_text: Mapped[str] = mapped_column(sa.Text)
    issued_on: Mapped[str | None] = mapped_column(sa.String(10))
    expires_on: Mapped[str | None] = mapped_column(sa.String(10))
    status_changed_at: Mapped[datetime | None]
    #: id of the transition record of the last change: the registry's generation
    last_change_id: Mapped[int] = mapped_column(default=0, index=True)
    #: the public JSON document (the API's answer for this certificate), ready to send
    document: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (
        # the latest entry of each audit company (the registry's filter choices): one probe
        sa.Index("ix_registry_entries_company_latest", "audit_company_id", "certificate_id"),
        # the status and country filters, in the registry's order (name, number)
        sa.Index("ix_registry_entries_state_country_name", "state", "country", "name"),
    )


class RegistryIdentifier(db.Model):
    """Every identifier an employer may check a certificate by: its number, and the holder's
    registration numbers (as written and digits only). Bulk checks look them up by index."""

    __tablename__ = "registry_identifiers"

    identifier: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registry_entries.certificate_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )


class VerificationEvent(db.Model):
    """One verification request: for abuse control and statistics, never who asked."""

    __tablename__ = "verification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    #: page, api, api_bulk, badge, csv, search
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: found, not_found, invalid, or for bulk checks "n/m found"
    result: Mapped[str] = mapped_column(sa.String(40))
    #: salted SHA-256 of the client address (the salt is the app's secret key)
    address_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    count: Mapped[int] = mapped_column(default=1)


from iris.registry import sync as _sync  # noqa: E402,F401  (registers the flush listener)
