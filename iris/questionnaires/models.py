"""Questionnaire versions, responses and evidence documents.

- A :class:`QuestionnaireVersion` holds one definition (the JSON of a file in
  ``definitions/``). Once published it is frozen: the publish operation refuses changes, and
  a ``before_flush`` hook refuses any change to a published row at the ORM level, whoever
  tries. A corrected catalogue is a new version.
- A :class:`Response` is an application's self-assessment, pinned to the version it was
  started on (``version_id``), answers stored as JSON by stable key, scores recomputed and
  stored on every save.
- An :class:`EvidenceDocument` belongs to an agency (its evidence register); its bytes live in
  the content-addressed store (``iris.core.storage``) under their sha256. One document can
  back several answers (:class:`EvidenceLink`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from iris.accounts.models import Organisation, User
from iris.applications.models import Application
from iris.core.db import PublicIdMixin, TimestampMixin, db, enum_column, utcnow
from iris.core.labels import register_labels
from iris.questionnaires.definition import Definition, parse_definition
from iris.questionnaires.scoring import Band, ScoreResult, from_json

#: The code of the IRIS self-assessment; the newest published version is used for new responses.
SELF_ASSESSMENT = "iris-self-assessment"


class PublishedVersionError(Exception):
    """A published questionnaire version may not change."""


class Confidentiality(enum.StrEnum):
    PUBLIC = "public"
    AUDIT_ONLY = "audit_only"
    RESTRICTED = "restricted"  # restricted personal data


#: words for the codes (``{{ value|label }}``); the same as the evidence form's choices
register_labels(
    Confidentiality,
    {
        Confidentiality.PUBLIC: _l("Public"),
        Confidentiality.AUDIT_ONLY: _l("For the audit only"),
        Confidentiality.RESTRICTED: _l("Restricted: contains personal data"),
    },
)
register_labels(
    Band,
    {
        Band.READY: _l("Ready for audit"),
        Band.GAPS: _l("Gaps to close"),
        Band.NOT_READY: _l("Not ready"),
    },
)


class QuestionnaireVersion(PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "questionnaire_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80))
    version: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(300))
    #: deferred: a large document, parsed once per process (see ``parsed``), so requests that
    #: only need the version's identity never load or decode it
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON, deferred=True)
    #: sha256 of the canonical JSON of ``definition``: identifies the content exactly
    sha256: Mapped[str] = mapped_column(sa.String(64))
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def parsed(self) -> Definition:
        """The built definition (parsed once per process per content)."""
        return _parse_cached(self.sha256, self)

    def __repr__(self) -> str:
        return f"<QuestionnaireVersion {self.code} {self.version}>"


_PARSED: dict[str, Definition] = {}


def _parse_cached(digest: str, version: QuestionnaireVersion) -> Definition:
    found = _PARSED.get(digest)
    if found is None:
        found = _PARSED[digest] = parse_definition(version.definition)
    return found


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published_versions(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, QuestionnaireVersion):
            continue
        state = sa.inspect(obj)
        published = state.attrs.published_at.history
        was_published = bool(published.deleted and published.deleted[0] is not None) or (
            not published.has_changes() and obj.published_at is not None
        )
        if not was_published:
            continue
        if obj in session.deleted:
            raise PublishedVersionError(
                f"questionnaire {obj.code} {obj.version} is published and cannot be deleted"
            )
        changed = [
            attr.key
            for attr in state.attrs
            if attr.key not in ("updated_at",) and attr.history.has_changes()
        ]
        if changed:
            raise PublishedVersionError(
                f"questionnaire {obj.code} {obj.version} is published and cannot change "
                f"({', '.join(sorted(changed))}); publish a new version instead"
            )


class Response(PublicIdMixin, TimestampMixin, db.Model):
    """An application's self-assessment, pinned to one questionnaire version."""

    __tablename__ = "questionnaire_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_versions.id"))
    #: stable key -> JSON value (see definition.py for the value of each answer type)
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: ScoreResult.to_json() of the last save
    scores: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    band: Mapped[Band | None] = mapped_column(enum_column(Band, name="readiness_band"))
    overall: Mapped[float | None]
    #: what the last move to a newer version carried, dropped and needs anew
    migration_report: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    application: Mapped[Application] = relationship()
    agency: Mapped[Organisation] = relationship()
    version: Mapped[QuestionnaireVersion] = relationship(lazy="joined")
    links: Mapped[list[EvidenceLink]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )

    @property
    def definition(self) -> Definition:
        return self.version.parsed

    @property
    def score(self) -> ScoreResult | None:
        return from_json(self.scores) if self.scores else None

    def evidence_keys(self) -> dict[str, list[EvidenceDocument]]:
        out: dict[str, list[EvidenceDocument]] = {}
        for link in self.links:
            out.setdefault(link.answer_key, []).append(link.document)
        return out

    def __repr__(self) -> str:
        return f"<Response {self.public_id}>"


class EvidenceDocument(PublicIdMixin, TimestampMixin, db.Model):
    """A document in an agency's evidence register. Never deleted (it is evidence)."""

    __tablename__ = "evidence_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(300))
    doc_type: Mapped[str] = mapped_column(sa.String(60))  # an evidence_types key
    language: Mapped[str] = mapped_column(sa.String(8))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    confidentiality: Mapped[Confidentiality] = mapped_column(
        enum_column(Confidentiality), default=Confidentiality.AUDIT_ONLY
    )
    retention_until: Mapped[date | None]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    agency: Mapped[Organisation] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
    links: Mapped[list[EvidenceLink]] = relationship(back_populates="document")

    __table_args__ = (
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name="valid_period",
        ),
        sa.CheckConstraint("size >= 0", name="size_nonnegative"),
    )

    def is_expired(self, today: date) -> bool:
        return self.valid_to is not None and self.valid_to < today

    def expires_within(self, today: date, days: int) -> bool:
        return (
            self.valid_to is not None
            and not self.is_expired(today)
            and (self.valid_to - today).days <= days
        )

    def __repr__(self) -> str:
        return f"<EvidenceDocument {self.public_id} {self.file_name!r}>"


class EvidenceLink(db.Model):
    """A document backing one answer (a question key, or a file part's key) of a response."""

    __tablename__ = "evidence_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire_responses.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_documents.id"), index=True)
    answer_key: Mapped[str] = mapped_column(sa.String(80))
    linked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship(back_populates="links")
    document: Mapped[EvidenceDocument] = relationship(back_populates="links", lazy="joined")

    __table_args__ = (sa.UniqueConstraint("response_id", "document_id", "answer_key"),)
