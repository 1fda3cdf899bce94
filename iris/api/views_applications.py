"""The agency's side of the API: applications, the self-assessment, evidence.

Each operation does what the matching page does, with the same checks and the same
operation: ``applications.operations.start_application`` (page: "Start an application"),
``questionnaires.operations.save_answers`` (the self-assessment's sections),
``questionnaires.operations.upload_evidence`` (the evidence register). Submitting, like
every state change, is a step of the lifecycle: ``POST /api/v1/transitions/application/
<id>/submit`` (views_workflow).

Answers are given as the stored JSON values and checked with
``questionnaires.definition.value_problem``, the rule the questionnaire applies to carried
over and imported answers (the web form produces the same values from its inputs). Either
every answer of a request is accepted, or none is stored (422 naming each bad one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.validators import ValidationError

from iris.accounts.models import Organisation
from iris.api import schemas as s
from iris.api.auth import token_required
from iris.api.blueprint import API_PREFIX, bp
from iris.api.errors import api_error, invalid
from iris.applications import operations as app_ops
from iris.applications.models import AGENCY_ROLES, SCHEME_ROLES, Application
from iris.core.db import db
from iris.core.workflow import WorkflowError
from iris.questionnaires import definition as d
from iris.questionnaires import operations as q_ops
from iris.questionnaires.forms import check_upload
from iris.questionnaires.permissions import can_edit_response, can_view_response, is_agency_member
from iris.questionnaires.queries import missing_in, progress, response_for
from workflows.application import ApplicationState
from workflows.roles import Role

TAGS = ["applications"]
ERR = s.ErrorSchema


def _err(status: int, text: str) -> Any:
    return bp.alt_response(status, schema=ERR, description=text)


def _load(public_id: str) -> Application:
    """As the application page: another agency's application is not acknowledged (404)."""
    application = db.session.scalar(
        sa.select(Application).where(Application.public_id == public_id)
    )
    if application is None or not application.can_view(current_user):
        abort(404)
    return application


def _missing(response: Any) -> list[dict[str, str]]:
    return [{"key": m.key, "message": str(m)} for m in missing_in(response, with_urls=False)]


def _progress(p: Any) -> dict[str, int]:
    return {"answered": p.answered, "required": p.required, "percent": p.percent}


def application_json(application: Application) -> dict[str, Any]:
    response = response_for(application)
    questionnaire = None
    if response is not None and can_view_response(current_user, response):
        _per, overall = progress(response)
        questionnaire = {
            "code": response.version.code,
            "version": response.version.version,
            "progress": _progress(overall),
            "band": str(response.band) if response.band else None,
            "overall": response.overall,
            "scores": response.scores,
            "missing": _missing(response),
        }
    return {
        "id": application.public_id,
        "state": str(application.state),
        "state_label": application.state_label,
        "agency": {"id": application.agency.public_id, "name": application.agency.name},
        "created_at": application.created_at,
        "updated_at": application.updated_at,
        "submitted_at": application.submitted_at,
        "requested_items": [
            {"text": str(i.get("text", "")), "answer": i.get("answer")}
            for i in application.requested_items or []
        ],
        "deferral_due_at": application.deferral_due_at,
        "questionnaire": questionnaire,
        "url": url_for("applications.detail", public_id=application.public_id, _external=True),
    }


@bp.route(f"{API_PREFIX}/applications", tags=TAGS)
@token_required("applications:read")
@bp.arguments(s.ApplicationListArgs, location="query")
@bp.response(200, s.ApplicationPageSchema)
@_err(403, "Not an agency or the scheme manager")
def list_applications(args: dict[str, Any]) -> Any:
    """Your agencies' applications (the scheme manager: every application), newest first"""
    if not any(current_user.has_role(r) for r in (*AGENCY_ROLES, *SCHEME_ROLES)):
        abort(403)
    query = sa.select(Application)
    if not any(current_user.has_role(r) for r in SCHEME_ROLES):
        agencies = [o.id for o in current_user.orgs_with(*AGENCY_ROLES)]
        query = query.where(Application.agency_id.in_(agencies))
    if args.get("state"):
        query = query.where(Application.state == ApplicationState(args["state"]))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    page, per_page = args["page"], args["per_page"]
    items = db.session.scalars(
        query.order_by(Application.updated_at.desc(), Application.id.desc())
        .options(sa.orm.joinedload(Application.agency))
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return {
        "items": [application_json(a) for a in items],
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
    }


@bp.route(f"{API_PREFIX}/applications", methods=["POST"], tags=TAGS)
@token_required("applications:write")
@bp.arguments(s.ApplicationCreateSchema)
@bp.response(201, s.ApplicationSchema)
@_err(404, "No agency of yours has this id (agency administrators only)")
@_err(409, "Not possible now (with the reasons)")
def create_application(data: dict[str, Any]) -> Any:
    """Start a draft application for an agency you administer"""
    agency = db.session.scalar(
        sa.select(Organisation).where(Organisation.public_id == data["agency"])
    )
    if agency is None or not current_user.has_role(Role.AGENCY_ADMIN, agency):
        abort(404)
    try:
        application = app_ops.start_application(agency, actor=current_user)
    except WorkflowError as exc:
        return refused(exc)
    db.session.commit()
    return application_json(application)


def refused(exc: WorkflowError | q_ops.QuestionnaireError) -> Any:
    db.session.rollback()
    if isinstance(exc, WorkflowError):
        code = {403: "forbidden", 404: "not_found"}.get(exc.status, "conflict")
        return api_error(exc.status, code, exc.message, reasons=exc.reasons)
    return api_error(409, "conflict", str(exc), reasons=[str(exc)])


@bp.route(f"{API_PREFIX}/applications/<public_id>", tags=TAGS)
@token_required("applications:read")
@bp.response(200, s.ApplicationSchema)
@_err(404, "No such application, or not yours")
def get_application(public_id: str) -> Any:
    """One application: state, questionnaire version, progress, scores, what is missing"""
    return application_json(_load(public_id))


# --------------------------------------------------------------------------- questionnaire


def questionnaire_json(response: Any, discarded: list[str] | None = None) -> dict[str, Any]:
    definition = response.definition
    answers = response.answers or {}
    visible = d.visible_answers(definition, answers)
    linked = response.evidence_keys()
    fields = []
    for section in definition.sections:
        for question in section.questions:
            for spec in question.fields:
                item: dict[str, Any] = {
                    "key": spec.key,
                    "question": question.key,
                    "section": section.code,
                    "type": spec.type,
                    "text": d.text_in(spec.text, "en"),
                    "required": spec.required,
                    "visible": spec.key in visible,
                    "critical": question.critical is not None,
                    "evidence": [doc.public_id for doc in linked.get(spec.key, [])],
                }
                if spec.type in ("yes_no", "ypna", "single_choice", "multiple_choice"):
                    item["choices"] = list(spec.choices)
                fields.append(item)
    _per, overall = progress(response)
    out = {
        "application": response.application.public_id,
        "code": response.version.code,
        "version": response.version.version,
        "editable": can_edit_response(current_user, response),
        "answers": answers,
        "fields": fields,
        "progress": _progress(overall),
        "missing": _missing(response),
    }
    if discarded is not None:
        out["discarded"] = discarded
    return out


@bp.route(f"{API_PREFIX}/applications/<public_id>/questionnaire", tags=TAGS)
@token_required("applications:read")
@bp.response(200, s.QuestionnaireSchema)
@_err(404, "No such application, not yours, or the self-assessment is not started")
def get_questionnaire(public_id: str) -> Any:
    """The self-assessment: every field (type, choices, visibility) and the answers by key"""
    response = response_for(_load(public_id))
    if response is None or not can_view_response(current_user, response):
        abort(404)
    return questionnaire_json(response)


def _stored(spec: d.Field, value: Any, previous: Any) -> Any:
    """The stored value of one answer, or ValueError with the reason (the form's rules)."""
    if value is None:
        return None
    if spec.type == "file":
        raise ValueError(_("Answer this by uploading evidence with answer_key %(key)s.", key=spec.key))
    if spec.type == "text" and isinstance(value, str):
        value = value.strip() or None
    if spec.type == "multiple_choice" and isinstance(value, list):
        value = [c for c in spec.choices if c in value] if set(value) <= set(spec.choices) else value
    if spec.type == "declaration":
        if not isinstance(value, dict) or set(value) - {"name"}:
            raise ValueError(_('Sign with {"name": "your full name"}.'))
        name = value.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ValueError(_("Type your full name (at most 200 characters) to sign."))
        if isinstance(previous, dict) and previous.get("name") == name.strip():
            return dict(previous)  # unchanged: keep when and by whom it was signed
        return {
            "name": name.strip(),
            "signed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "signed_by": current_user.public_id,
        }
    if value is not None and not d.is_answered(value):
        return None
    problem = d.value_problem(spec, value, today=dt.datetime.now(dt.UTC).date())
    if problem:
        raise ValueError(problem)
    return value


@bp.route(f"{API_PREFIX}/applications/<public_id>/questionnaire", methods=["PATCH"], tags=TAGS)
@token_required("applications:write")
@bp.arguments(s.AnswersSchema)
@bp.response(200, s.QuestionnaireSchema)
@_err(403, "You may see this application but not change its self-assessment")
@_err(404, "No such application, or not yours")
@_err(409, "The self-assessment can no longer change (the application is not a draft)")
def answer_questionnaire(data: dict[str, Any], public_id: str) -> Any:
    """Answer questions by key (starting the self-assessment if needed); null removes an answer

    All or nothing: if any answer is not acceptable, nothing is stored (422, by key).
    """
    application = _load(public_id)
    if not is_agency_member(current_user, application.agency_id):
        abort(403)
    response = response_for(application)
    try:
        if response is None:
            response = q_ops.start_response(application, actor=current_user)
        definition = response.definition
        previous = response.answers or {}
        changes: dict[str, Any] = {}
        problems: dict[str, list[str]] = {}
        for key, value in data["answers"].items():
            spec = definition.fields.get(key)
            if spec is None:
                problems[f"answers.{key}"] = [_("No question has this key.")]
                continue
            try:
                changes[key] = _stored(spec, value, previous.get(key))
            except ValueError as exc:
                problems[f"answers.{key}"] = [str(exc)]
        if problems:
            db.session.rollback()
            return invalid(problems)
        result = q_ops.save_answers(response, actor=current_user, changes=changes)
    except q_ops.QuestionnaireError as exc:
        return refused(exc)
    db.session.commit()
    return questionnaire_json(response, discarded=result.discarded)


# --------------------------------------------------------------------------- evidence


def evidence_json(doc: Any) -> dict[str, Any]:
    return {
        "id": doc.public_id,
        "title": doc.title,
        "file_name": doc.file_name,
        "content_type": doc.content_type,
        "size": doc.size,
        "sha256": doc.sha256,
        "doc_type": doc.doc_type,
        "language": doc.language,
        "valid_from": doc.valid_from,
        "valid_to": doc.valid_to,
        "confidentiality": str(doc.confidentiality),
        "linked_to": sorted({link.answer_key for link in doc.links}),
    }


@bp.route(f"{API_PREFIX}/applications/<public_id>/evidence", methods=["POST"], tags=TAGS)
@token_required("applications:write")
@bp.arguments(s.EvidenceUploadSchema, location="multipart")
@bp.response(201, s.EvidenceSchema)
@_err(403, "You may see this application but not add evidence to it")
@_err(404, "No such application, or not yours")
@_err(409, "The self-assessment can no longer change")
@_err(413, "The file is larger than the upload limit")
def upload_evidence(data: dict[str, Any], public_id: str) -> Any:
    """Upload a document into the agency's evidence register, optionally backing an answer

    The same checks as the evidence register's page: the type is judged by the content (PDF,
    PNG, JPEG, Word, Excel) and must match the file name's extension; the size limit is
    IRIS_MAX_UPLOAD_MB.
    """
    application = _load(public_id)
    if not is_agency_member(current_user, application.agency_id):
        abort(403)
    problems: dict[str, list[str]] = {}
    try:
        upload = check_upload(data["file"])
    except ValidationError as exc:
        problems["file"] = [str(exc)]
        upload = None
    if upload is None and "file" not in problems:
        problems["file"] = [_("Choose a file to upload.")]
    version = q_ops.latest_published()
    types = version.parsed.evidence_types if version is not None else {"other": {}}
    if data["doc_type"] not in types:
        problems["doc_type"] = [_("One of: %(types)s.", types=", ".join(types))]
    from iris.core.templating import LOCALE_NAMES

    if data["language"] not in (*LOCALE_NAMES, "other"):
        problems["language"] = [_("One of: %(langs)s.", langs=", ".join([*LOCALE_NAMES, "other"]))]
    if data["valid_from"] and data["valid_to"] and data["valid_to"] < data["valid_from"]:
        problems["valid_to"] = [_("The end of validity cannot be before its start.")]
    response = None
    key = data.get("answer_key")
    if key:
        response = response_for(application)
        if response is None or key not in response.definition.fields:
            problems["answer_key"] = [_("No question of this self-assessment has this key.")]
    if problems:
        return invalid(problems)
    assert upload is not None
    if response is not None and not can_edit_response(current_user, response):
        return refused(q_ops.QuestionnaireError(_("This self-assessment can no longer be changed.")))
    doc = q_ops.upload_evidence(
        application.agency, actor=current_user, data=upload.data, file_name=upload.file_name,
        content_type=upload.content_type, title=data["title"], doc_type=data["doc_type"],
        language=data["language"], valid_from=data["valid_from"], valid_to=data["valid_to"],
        confidentiality=data["confidentiality"],
    )  # fmt: skip
    if response is not None and key:
        try:
            q_ops.save_answers(response, actor=current_user, changes={}, documents={key: [doc]})
        except q_ops.QuestionnaireError as exc:
            return refused(exc)
    db.session.commit()
    return evidence_json(doc)
