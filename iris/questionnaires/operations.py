"""Changes to questionnaires, responses and evidence. Each flushes; none commits."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from iris.core import storage
from iris.core.db import db, utcnow
from iris.questionnaires import definition as d
from iris.questionnaires.models import (
    SELF_ASSESSMENT,
    EvidenceDocument,
    EvidenceLink,
    PublishedVersionError,
    QuestionnaireVersion,
    Response,
)
from iris.questionnaires.scoring import Thresholds, score_response
from workflows.application import ApplicationState

#: Application states in which the agency may still change its self-assessment.
EDITABLE_STATES = (ApplicationState.DRAFT,)


class QuestionnaireError(Exception):
    """An operation that cannot be done now; the message is for the user."""


def canonical_sha256(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    version: QuestionnaireVersion
    status: str  # "created" | "replaced" | "unchanged"


def import_version(data: Any, *, actor: Any = None) -> ImportResult:
    """Import a definition (parsed YAML/JSON). Raises DefinitionError listing every problem
    (nothing is written then) and PublishedVersionError if that version is published with
    other content."""
    definition = d.parse_definition(data)
    digest = canonical_sha256(data)
    existing = db.session.scalar(
        sa.select(QuestionnaireVersion).where(
            QuestionnaireVersion.code == definition.code,
            QuestionnaireVersion.version == definition.version,
        )
    )
    title = d.text_in(definition.title, "en")[:300]
    if existing is not None:
        if existing.sha256 == digest:
            return ImportResult(existing, "unchanged")
        if existing.is_published:
            raise PublishedVersionError(
                f"{definition.code} {definition.version} is published and cannot change; "
                "give the changed definition a new version"
            )
        existing.definition = data
        existing.sha256 = digest
        existing.title = title
        existing.imported_by_id = getattr(actor, "id", None)
        db.session.flush()
        return ImportResult(existing, "replaced")
    version = QuestionnaireVersion(
        code=definition.code,
        version=definition.version,
        title=title,
        definition=data,
        sha256=digest,
        imported_by_id=getattr(actor, "id", None),
    )
    db.session.add(version)
    db.session.flush()
    return ImportResult(version, "created")


def publish_version(version: QuestionnaireVersion, *, actor: Any = None) -> QuestionnaireVersion:
    if version.is_published:
        raise PublishedVersionError(f"{version.code} {version.version} is already published")
    version.parsed  # noqa: B018 (a stored definition that no longer parses is never published)
    version.published_at = utcnow()
    version.published_by_id = getattr(actor, "id", None)
    db.session.flush()
    return version


def latest_published(code: str = SELF_ASSESSMENT) -> QuestionnaireVersion | None:
    return db.session.scalar(
        sa.select(QuestionnaireVersion)
        .where(QuestionnaireVersion.code == code, QuestionnaireVersion.published_at.is_not(None))
        .order_by(QuestionnaireVersion.published_at.desc(), QuestionnaireVersion.id.desc())
        .limit(1)
    )


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


def thresholds() -> Thresholds:
    cfg = current_app.config
    return Thresholds(
        section_min=cfg.get("IRIS_READINESS_SECTION_MIN", 60) / 100,
        overall_min=cfg.get("IRIS_READINESS_OVERALL_MIN", 80) / 100,
    )


def is_editable(response: Response) -> bool:
    return response.application.state in EDITABLE_STATES


def start_response(application: Any, *, actor: Any, code: str = SELF_ASSESSMENT) -> Response:
    if application.state not in EDITABLE_STATES:
        raise QuestionnaireError(
            _("The self-assessment can only be started on a draft application.")
        )
    existing = db.session.scalar(
        sa.select(Response).where(Response.application_id == application.id)
    )
    if existing is not None:
        return existing
    version = latest_published(code)
    if version is None:
        raise QuestionnaireError(_("No questionnaire version is published yet."))
    response = Response(
        application_id=application.id,
        agency_id=application.agency_id,
        version=version,
        answers={},
        updated_by_id=actor.id,
    )
    response.application = application
    db.session.add(response)
    rescore(response)
    db.session.flush()
    return response


def rescore(response: Response, *, visible: Mapping[str, Any] | None = None) -> None:
    """Recompute the whole score; ``visible``: the answers' visible part if already known."""
    result = score_response(
        response.definition, response.answers or {}, thresholds(), visible=visible
    )
    response.scores = result.to_json()
    response.band = result.band
    response.overall = result.overall


@dataclass
class SaveResult:
    discarded: list[str] = field(default_factory=list)  # stale answers of hidden questions
    newly_visible: list[str] = field(default_factory=list)  # fields shown by the new answers


def save_answers(
    response: Response,
    *,
    actor: Any,
    changes: Mapping[str, Any],
    documents: Mapping[str, list[EvidenceDocument]] | None = None,
    visible: Mapping[str, Any] | None = None,
) -> SaveResult:
    """Store ``changes`` (key -> value; None removes an answer), link ``documents`` (key ->
    documents) and rescore. Answers of questions hidden by the new answers are discarded, with
    their evidence links, so nothing stale is kept or submitted.

    ``visible``: the response's visible answers before the changes, if the caller has them.
    """
    if not is_editable(response):
        raise QuestionnaireError(_("This self-assessment can no longer be changed."))
    definition = response.definition
    if visible is None:
        visible = d.visible_answers(definition, response.answers or {})
    before = set(visible)
    answers = dict(response.answers or {})
    for key, value in changes.items():
        if key not in definition.fields:
            continue
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value
    visible = d.visible_answers(definition, answers)
    discarded = [k for k in answers if k not in visible]
    for key in discarded:
        del answers[key]
    response.answers = answers
    response.updated_by_id = actor.id
    for key, docs in (documents or {}).items():
        for doc in docs:
            link_evidence(response, key, doc, actor=actor)
    for link in list(response.links):
        if link.answer_key not in visible:
            response.links.remove(link)
    rescore(response, visible=visible)
    db.session.flush()
    after = set(visible)
    return SaveResult(
        discarded=discarded, newly_visible=[k for k in visible if k not in before and k in after]
    )


def link_evidence(response: Response, key: str, doc: EvidenceDocument, *, actor: Any) -> None:
    if doc.agency_id != response.agency_id:
        raise QuestionnaireError(_("A document of another agency cannot back this answer."))
    if any(link.document_id == doc.id and link.answer_key == key for link in response.links):
        return
    response.links.append(EvidenceLink(document=doc, answer_key=key, linked_by_id=actor.id))


def unlink_evidence(response: Response, key: str, doc: EvidenceDocument, *, actor: Any) -> None:
    if not is_editable(response):
        raise QuestionnaireError(_("This self-assessment can no longer be changed."))
    for link in list(response.links):
        if link.document_id == doc.id and link.answer_key == key:
            response.links.remove(link)
    db.session.flush()


@dataclass
class MigrationReport:
    from_version: str
    to_version: str
    carried: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # keys the new version no longer has
    needs_answer: list[str] = field(default_factory=list)  # invalid now, or new and required

    def to_json(self) -> dict[str, Any]:
        return {
            "from_version": self.from_version,
            "to_version": self.to_version,
            "carried": self.carried,
            "dropped": self.dropped,
            "needs_answer": self.needs_answer,
        }


def plan_migration(
    response: Response, target: QuestionnaireVersion, today: dt.date
) -> MigrationReport:
    """What moving ``response`` to ``target`` would carry over by stable key, drop, and ask anew."""
    new = target.parsed
    report = MigrationReport(response.version.version, target.version)
    carried: dict[str, Any] = {}
    for key, value in (response.answers or {}).items():
        spec = new.fields.get(key)
        if spec is None:
            report.dropped.append(key)
        elif spec.type != response.definition.fields[key].type or d.value_problem(
            spec, value, today=today
        ):
            report.needs_answer.append(key)
        else:
            carried[key] = value
    visible = d.visible_answers(new, carried)
    for key in list(carried):
        if key not in visible:
            report.dropped.append(key)
            del carried[key]
    report.carried = list(carried)
    old_fields = response.definition.fields
    for key in visible:  # questions the old version did not ask
        spec = new.fields[key]
        if spec.required and key not in old_fields and spec.type != "file":
            report.needs_answer.append(key)
    return report


def migrate_response(
    response: Response, target: QuestionnaireVersion, *, actor: Any, today: dt.date
) -> MigrationReport:
    """Move a draft response to a newer published version, carrying answers by stable key."""
    if not is_editable(response):
        raise QuestionnaireError(_("This self-assessment can no longer be changed."))
    if not target.is_published or target.code != response.version.code:
        raise QuestionnaireError(
            _("Answers can only move to a published version of the same questionnaire.")
        )
    if target.id == response.version_id:
        raise QuestionnaireError(_("The self-assessment already uses this version."))
    report = plan_migration(response, target, today)
    response.answers = {k: response.answers[k] for k in report.carried}
    new = target.parsed
    for link in list(response.links):
        if link.answer_key not in new.fields:
            response.links.remove(link)
    response.version = target
    response.migration_report = report.to_json()
    response.updated_by_id = actor.id
    rescore(response)
    db.session.flush()
    return report


# --------------------------------------------------------------------------------------------
# Evidence
# --------------------------------------------------------------------------------------------


def upload_evidence(
    agency: Any,
    *,
    actor: Any,
    data: bytes,
    file_name: str,
    content_type: str,
    title: str,
    doc_type: str,
    language: str,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    confidentiality: str = "audit_only",
) -> EvidenceDocument:
    """Store the bytes by their sha256 and register the document for the agency."""
    digest = storage.file_store().put(data)
    doc = EvidenceDocument(
        agency_id=agency.id,
        sha256=digest,
        file_name=file_name[:255],
        content_type=content_type,
        size=len(data),
        title=(title or file_name)[:300],
        doc_type=doc_type,
        language=language,
        valid_from=valid_from,
        valid_to=valid_to,
        confidentiality=confidentiality,
        uploaded_by_id=actor.id,
    )
    db.session.add(doc)
    db.session.flush()
    return doc


def update_evidence(doc: EvidenceDocument, *, actor: Any, **fields: Any) -> EvidenceDocument:
    """Change a document's details (never its bytes: a new file is a new document)."""
    allowed = {"title", "doc_type", "language", "valid_from", "valid_to", "confidentiality"}
    for name, value in fields.items():
        if name not in allowed:
            raise ValueError(f"cannot change {name}")
        setattr(doc, name, value)
    db.session.flush()
    return doc
