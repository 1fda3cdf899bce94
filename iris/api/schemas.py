"""The API's marshmallow schemas: they validate requests and generate the OpenAPI document.

Request schemas refuse unknown fields (marshmallow's default ``RAISE``): a misspelt field is
a 422 naming it, never silently ignored. Response schemas document what the views return;
the hot verification path returns its stored JSON as it is (iris/registry), and its schema
describes that document.
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields as f
from marshmallow import validate as v


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --------------------------------------------------------------------------- errors


class ErrorBodySchema(ma.Schema):
    code = f.String(required=True, metadata={"description": "A stable, machine-readable code."})
    message = f.String(required=True, metadata={"description": "What went wrong, for people."})
    fields = f.Dict(
        keys=f.String(),
        values=f.List(f.String()),
        metadata={"description": "422 only: the messages of each field (dotted path)."},
    )
    reasons = f.List(
        f.String(), metadata={"description": "409/403 of a workflow step: each failed condition."}
    )


class ErrorSchema(ma.Schema):
    error = f.Nested(ErrorBodySchema, required=True)


# --------------------------------------------------------------------------- paging


class PageArgs(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # other query parameters (e.g. lang) are not ours

    page = f.Integer(load_default=1, validate=v.Range(min=1, max=100_000))
    per_page = f.Integer(load_default=25, validate=v.Range(min=1, max=100))


class PageMeta(ma.Schema):
    page = f.Integer(required=True)
    per_page = f.Integer(required=True)
    total = f.Integer(required=True, metadata={"description": "Items matching, all pages."})
    pages = f.Integer(required=True)


# --------------------------------------------------------------------------- meta


class PingSchema(ma.Schema):
    ok = f.Boolean(required=True)


class OrgRefSchema(ma.Schema):
    id = f.String(required=True, metadata={"description": "The organisation's public id."})
    name = f.String(required=True)


class MembershipSchema(ma.Schema):
    organisation = f.Nested(OrgRefSchema, required=True)
    kind = f.String(required=True)
    role = f.String(required=True)


class MeSchema(ma.Schema):
    id = f.String(required=True)
    name = f.String(required=True)
    email = f.String(required=True)
    memberships = f.List(f.Nested(MembershipSchema), required=True)
    token = f.Dict(required=True, metadata={"description": "name, scopes and expires_at"})


# --------------------------------------------------------------------------- certificates


class HolderSchema(ma.Schema):
    name = f.String(required=True)
    trade_names = f.List(f.String())
    country = f.String(required=True)
    city = f.String()
    registration_numbers = f.Dict(keys=f.String(), values=f.String())


class HistoryItemSchema(ma.Schema):
    at = f.String(required=True)
    event = f.String(required=True)
    to = f.String(required=True)
    reason_code = f.String()
    superseded_by = f.String()
    from_ = f.String(data_key="from", allow_none=True, required=True)


class CertificateSchema(ma.Schema):
    """The registry's public document of one certificate (no personal data)."""

    number = f.String(required=True)
    status = f.String(
        required=True,
        validate=v.OneOf(["active", "suspended", "withdrawn", "expired", "superseded", "cancelled"]),
    )
    status_changed_at = f.String(allow_none=True)
    holder = f.Nested(HolderSchema, required=True)
    scope = f.Dict(required=True, metadata={"description": "corridors, services, sites"})
    audit_company = f.Dict(required=True, metadata={"description": "name, country"})
    standard = f.Dict(required=True, metadata={"description": "name, version"})
    issued_at = f.String(allow_none=True)
    original_issued_at = f.String(allow_none=True)
    expires_at = f.String(allow_none=True)
    last_surveillance_at = f.String(allow_none=True)
    next_surveillance_due = f.String(allow_none=True)
    suspension_ends_at = f.String(allow_none=True)
    history = f.List(f.Nested(HistoryItemSchema), required=True)
    verify_url = f.String(required=True)
    credential = f.String(
        allow_none=True, metadata={"description": "The signed credential: a compact JWS (EdDSA)."}
    )


class CertificateNumberPath(ma.Schema):
    number = f.String(
        required=True,
        metadata={"description": "IRIS-<country>-<year>-<sequence><check digit>, any case."},
    )


class SearchArgs(PageArgs):
    q = f.String(validate=v.Length(max=200), metadata={"description": "Name or number."})
    status = f.String(
        validate=v.OneOf(["active", "suspended", "withdrawn", "expired", "superseded", "cancelled"])
    )
    country = f.String(validate=v.Regexp(r"^[A-Za-z]{2}$"), metadata={"description": "ISO 3166"})
    destination = f.String(validate=v.Regexp(r"^[A-Za-z]{2}$"))
    audit_company = f.String(validate=v.Regexp(r"^[0-9]{1,9}$"))


class HolderSummarySchema(ma.Schema):
    name = f.String(required=True)
    country = f.String(required=True)
    city = f.String(allow_none=True)


class CertificateSummarySchema(ma.Schema):
    number = f.String(required=True)
    status = f.String(required=True)
    holder = f.Nested(HolderSummarySchema, required=True)
    audit_company = f.String(required=True)
    issued_at = f.String(allow_none=True)
    expires_at = f.String(allow_none=True)
    url = f.String(required=True)


class CertificatePageSchema(PageMeta):
    items = f.List(f.Nested(CertificateSummarySchema), required=True)


class VerifyManySchema(Strict):
    numbers = f.List(
        f.String(),
        required=True,
        metadata={"description": "Certificate or registration numbers, at most 1,000."},
    )


class CheckedCertificateSchema(ma.Schema):
    number = f.String(required=True)
    status = f.String(required=True)
    holder = f.String(required=True)
    country = f.String(required=True)
    expires_at = f.String(allow_none=True)
    audit_company = f.String(required=True)


class CheckResultSchema(ma.Schema):
    query = f.String(required=True)
    found = f.Boolean(required=True)
    error = f.String()
    certificates = f.List(f.Nested(CheckedCertificateSchema), required=True)


class VerifyResultsSchema(ma.Schema):
    results = f.List(f.Nested(CheckResultSchema), required=True)


# --------------------------------------------------------------------------- applications


class ProgressSchema(ma.Schema):
    answered = f.Integer(required=True)
    required = f.Integer(required=True)
    percent = f.Integer(required=True)


class MissingSchema(ma.Schema):
    key = f.String(required=True)
    message = f.String(required=True)


class QuestionnaireSummarySchema(ma.Schema):
    code = f.String(required=True)
    version = f.String(required=True)
    progress = f.Nested(ProgressSchema, required=True)
    band = f.String(allow_none=True, metadata={"description": "readiness band"})
    overall = f.Float(allow_none=True, metadata={"description": "overall score, 0 to 1"})
    scores = f.Dict(allow_none=True, metadata={"description": "scores per principle"})
    missing = f.List(f.Nested(MissingSchema), required=True)


class RequestedItemSchema(ma.Schema):
    text = f.String(required=True)
    answer = f.String(allow_none=True)


class ApplicationSchema(ma.Schema):
    id = f.String(required=True, metadata={"description": "The application's public id."})
    state = f.String(required=True)
    state_label = f.String(required=True)
    agency = f.Nested(OrgRefSchema, required=True)
    created_at = f.DateTime(required=True)
    updated_at = f.DateTime(required=True)
    submitted_at = f.DateTime(allow_none=True)
    requested_items = f.List(f.Nested(RequestedItemSchema), required=True)
    deferral_due_at = f.DateTime(allow_none=True)
    questionnaire = f.Nested(QuestionnaireSummarySchema, allow_none=True, required=True)
    url = f.String(required=True, metadata={"description": "The application's page."})


class ApplicationPageSchema(PageMeta):
    items = f.List(f.Nested(ApplicationSchema), required=True)


class ApplicationListArgs(PageArgs):
    state = f.String(
        validate=v.OneOf(
            ["draft", "submitted", "under_review", "deferred", "accepted", "rejected",
             "lapsed", "withdrawn"]
        )
    )  # fmt: skip


class ApplicationCreateSchema(Strict):
    agency = f.String(
        required=True,
        validate=v.Length(min=1, max=32),
        metadata={"description": "Public id of an agency you are the administrator of."},
    )


class FieldSpecSchema(ma.Schema):
    key = f.String(required=True)
    question = f.String(required=True)
    section = f.String(required=True)
    type = f.String(required=True)
    text = f.String(required=True)
    required = f.Boolean(required=True)
    visible = f.Boolean(required=True)
    critical = f.Boolean(required=True)
    choices = f.List(f.String())
    evidence = f.List(f.String(), metadata={"description": "ids of linked evidence documents"})


class QuestionnaireSchema(ma.Schema):
    application = f.String(required=True)
    code = f.String(required=True)
    version = f.String(required=True)
    editable = f.Boolean(required=True)
    answers = f.Dict(keys=f.String(), values=f.Raw(allow_none=True), required=True)
    fields = f.List(f.Nested(FieldSpecSchema), required=True)
    progress = f.Nested(ProgressSchema, required=True)
    missing = f.List(f.Nested(MissingSchema), required=True)
    discarded = f.List(
        f.String(), metadata={"description": "After a change: answers no longer asked, removed."}
    )


class AnswersSchema(Strict):
    answers = f.Dict(
        keys=f.String(validate=v.Length(min=1, max=60)),
        values=f.Raw(allow_none=True),
        required=True,
        metadata={
            "description": "Answers by field key, as stored: yes_no/ypna/single_choice a "
            "choice, multiple_choice a list of choices, number a number, text a string, date "
            "YYYY-MM-DD, table a list of rows (objects by column), declaration "
            '{"name": "Full Name"}; null removes an answer.'
        },
    )


class EvidenceUploadSchema(Strict):
    file = Upload(required=True, metadata={"description": "PDF, PNG, JPEG, Word or Excel."})
    title = f.String(required=True, validate=v.Length(min=1, max=300))
    doc_type = f.String(load_default="other", validate=v.Length(max=60))
    language = f.String(load_default="en", validate=v.Length(max=8))
    valid_from = f.Date(load_default=None)
    valid_to = f.Date(load_default=None)
    confidentiality = f.String(
        load_default="audit_only", validate=v.OneOf(["public", "audit_only", "restricted"])
    )
    answer_key = f.String(
        load_default=None,
        validate=v.Length(max=60),
        metadata={"description": "Link the document to this answer of the self-assessment."},
    )


class EvidenceSchema(ma.Schema):
    id = f.String(required=True)
    title = f.String(required=True)
    file_name = f.String(required=True)
    content_type = f.String(required=True)
    size = f.Integer(required=True)
    sha256 = f.String(required=True)
    doc_type = f.String(required=True)
    language = f.String(required=True)
    valid_from = f.Date(allow_none=True)
    valid_to = f.Date(allow_none=True)
    confidentiality = f.String(required=True)
    linked_to = f.List(f.String(), required=True)


# --------------------------------------------------------------------------- cases


class TeamMemberSchema(ma.Schema):
    name = f.String(required=True)
    team_role = f.String(required=True)
    confirmed = f.Boolean(required=True)


class CaseSchema(ma.Schema):
    id = f.String(required=True)
    state = f.String(required=True)
    state_label = f.String(required=True)
    audit_type = f.String(required=True)
    agency = f.Nested(OrgRefSchema, required=True)
    audit_company = f.Nested(OrgRefSchema, required=True)
    application = f.String(allow_none=True)
    my_relation = f.List(f.String(), required=True)
    team = f.List(f.Nested(TeamMemberSchema), required=True)
    cap_due_at = f.DateTime(allow_none=True)
    recommendation = f.String(allow_none=True)
    updated_at = f.DateTime(required=True)
    url = f.String(required=True)


class CasePageSchema(PageMeta):
    items = f.List(f.Nested(CaseSchema), required=True)


class FindingEventSchema(ma.Schema):
    decision = f.String(required=True)
    comment = f.String(allow_none=True)
    at = f.DateTime(required=True)


class FindingSchema(ma.Schema):
    id = f.String(required=True)
    case = f.String(required=True)
    criterion = f.String(required=True)
    grade = f.String(required=True)
    status = f.String(required=True)
    statement = f.String(required=True)
    evidence = f.String(required=True)
    due_at = f.DateTime(allow_none=True)
    correction = f.String(allow_none=True)
    root_cause = f.String(allow_none=True)
    action = f.String(allow_none=True)
    owner = f.String(allow_none=True)
    target_date = f.Date(allow_none=True)
    verified_at = f.DateTime(allow_none=True)
    events = f.List(f.Nested(FindingEventSchema), required=True)


class FindingListSchema(ma.Schema):
    items = f.List(f.Nested(FindingSchema), required=True)


class FindingCreateSchema(Strict):
    grade = f.String(required=True, validate=v.OneOf(["observation", "minor", "major", "critical"]))
    criterion = f.String(required=True, validate=v.Length(min=1, max=20))
    statement = f.String(required=True, validate=v.Length(min=1, max=5000))
    evidence = f.String(required=True, validate=v.Length(min=1, max=5000))
    due_on = f.Date(load_default=None, metadata={"description": "Default: the CAP deadline."})


class CorrectiveActionSchema(Strict):
    correction = f.String(required=True, validate=v.Length(min=1, max=5000))
    root_cause = f.String(required=True, validate=v.Length(min=1, max=5000))
    action = f.String(required=True, validate=v.Length(min=1, max=5000))
    owner = f.String(required=True, validate=v.Length(min=1, max=200))
    target_date = f.Date(required=True)
    document = f.String(
        load_default=None, metadata={"description": "id of an evidence document of the agency"}
    )


class ReviewSchema(Strict):
    decision = f.String(required=True, validate=v.OneOf(["accept", "return"]))
    comment = f.String(load_default="", validate=v.Length(max=5000))

    @ma.validates_schema
    def _comment_when_returned(self, data: dict, **_kw: object) -> None:
        if data.get("decision") == "return" and not (data.get("comment") or "").strip():
            raise ma.ValidationError("Say what is missing.", field_name="comment")


# --------------------------------------------------------------------------- workflow


class ActionSchema(ma.Schema):
    trigger = f.String(required=True)
    label = f.String(required=True)
    allowed = f.Boolean(required=True)
    blocked_by = f.List(f.String(), required=True)
    reason_required = f.Boolean(required=True)
    reason_codes = f.List(f.String(), required=True)
    inputs = f.List(f.String(), required=True)
    irreversible = f.Boolean(required=True)


class ActionsSchema(ma.Schema):
    subject_type = f.String(required=True)
    id = f.String(required=True)
    state = f.String(required=True)
    state_label = f.String(required=True)
    actions = f.List(f.Nested(ActionSchema), required=True)


class FireSchema(Strict):
    reason = f.String(load_default=None, allow_none=True, validate=v.Length(max=4000))
    reason_code = f.String(load_default=None, allow_none=True, validate=v.Length(max=60))
    requested_items = f.List(f.String(validate=v.Length(min=1, max=1000)), validate=v.Length(max=50))
    eligibility_checklist = f.List(f.String(validate=v.Length(max=60)), validate=v.Length(max=50))
    recommendation = f.String(validate=v.OneOf(["grant", "refuse"]))
    panel = f.List(f.String(validate=v.Length(max=32)), validate=v.Length(max=20))
    confirm = f.Boolean(
        load_default=False, metadata={"description": "Required true for a step that is final."}
    )


class FiredSchema(ma.Schema):
    subject_type = f.String(required=True)
    id = f.String(required=True)
    trigger = f.String(required=True)
    from_state = f.String(allow_none=True, required=True)
    state = f.String(required=True)
    at = f.DateTime(required=True)

