"""The authorisation matrix, declared: for every route, who gets in.

``tests/security/test_matrix.py`` walks ``app.url_map`` and, for every route, every role of
``workflows/roles.py`` and anonymous visitors, requests it with an object of the user's own
organisation and with another organisation's, and compares the answer with the row here.
A route without a row fails that test, which prints the row to add.

A row says:

- ``public()``: anyone, signed in or not, gets the same answer, never 401/403/5xx;
- ``signed_in()``: every signed-in user gets in; anonymous visitors are sent to sign in;
- ``roles(R1, R2, ...)``: those roles get in; other signed-in users get 403 or 404;
  anonymous visitors are sent to sign in;
- ``token()``: the JSON API with a bearer token only: without one, 401 with a JSON error
  (a signed-in browser session is not a token);
- ``scoped=True``: the route shows one object; another organisation's object answers 404 to
  everyone, except the roles in ``sees_all`` (the scheme manager's, who oversee every
  organisation), who get the same answer as for their own;
- ``args``: how the route's URL is filled from the objects of :mod:`tests.security.objects`.

"Gets in" means a 2xx or 3xx answer that is not a redirect to the sign-in page (a form shown,
a file sent, or a redirect to the next step). State-changing methods (POST, PUT, PATCH,
DELETE) are only sent by those who must be refused: they must get the refusal and write
nothing to the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from workflows.roles import Role

Args = Callable[[SimpleNamespace], dict[str, Any]]

AGENCY = frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER})
SCHEME = frozenset({Role.APPLICATION_REVIEWER, Role.SCHEME_ADMIN})
AUDIT_COMPANY = frozenset(
    {Role.PLANNER, Role.LEAD_AUDITOR, Role.AUDITOR, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER}
)
ALL_ROLES = AGENCY | SCHEME | AUDIT_COMPANY


def _none(o: SimpleNamespace) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Expect:
    kind: str  # public | signed_in | roles | token
    allowed: frozenset[Role] = frozenset()
    scoped: bool = False
    sees_all: frozenset[Role] = frozenset()
    args: Args = _none
    #: for public routes: the answer everyone gets (default: any 2xx/3xx); for others: the
    #: answer the allowed roles get for their own object when it is not "gets in" (the
    #: object's state refuses the action: 403/409), with the reason in ``note``
    status: frozenset[int] | None = None
    note: str = ""

    def lets_in(self, role: Role | None) -> bool:
        if self.kind == "public":
            return True
        if self.kind == "token" or role is None:
            return False
        return self.kind == "signed_in" or role in self.allowed


def public(args: Args = _none, status: set[int] | None = None, note: str = "") -> Expect:
    return Expect("public", args=args, status=frozenset(status) if status else None, note=note)


def signed_in(
    args: Args = _none, *, scoped: bool = False, sees_all: frozenset[Role] = frozenset()
) -> Expect:
    return Expect("signed_in", ALL_ROLES, scoped=scoped, sees_all=sees_all, args=args)


def roles(
    *allowed: Role | frozenset[Role],
    args: Args = _none,
    scoped: bool = False,
    sees_all: Role | frozenset[Role] = frozenset(),
    status: set[int] | None = None,
    note: str = "",
) -> Expect:
    flat: set[Role] = set()
    for a in allowed:
        flat |= set(a) if isinstance(a, frozenset) else {a}
    every = frozenset({sees_all}) if isinstance(sees_all, Role) else sees_all
    return Expect("roles", frozenset(flat), scoped=scoped, sees_all=every, args=args,
                  status=frozenset(status) if status else None, note=note)  # fmt: skip


def token(args: Args = _none) -> Expect:
    return Expect("token", args=args)


# URL arguments ---------------------------------------------------------------------------------


def _application(o: SimpleNamespace) -> dict[str, Any]:
    return {"public_id": o.application.public_id, "application": o.application.public_id,
            "section": o.section, "key": o.answer_key, "doc": o.doc.public_id}  # fmt: skip


def _case(o: SimpleNamespace) -> dict[str, Any]:
    return {"case": o.case.public_id, "public_id": o.case.public_id, "key": o.answer_key,
            "code": o.criterion, "trigger": "submit_cap"}  # fmt: skip


def _finding(o: SimpleNamespace) -> dict[str, Any]:
    return {"finding": o.finding.public_id, "public_id": o.finding.public_id}


def _agency(o: SimpleNamespace) -> dict[str, Any]:
    return {"public_id": o.agency.public_id, "agency_id": o.agency.public_id,
            "section": "licences", "row_id": o.licence.public_id}  # fmt: skip


def _doc(o: SimpleNamespace) -> dict[str, Any]:
    return {"doc": o.doc.public_id}


def _certificate(o: SimpleNamespace) -> dict[str, Any]:
    return {"number": o.certificate.number}


def _user(o: SimpleNamespace) -> dict[str, Any]:
    return {"public_id": o.user.public_id, "org_id": o.agency.public_id, "role": "agency_admin",
            "action": "deactivate"}  # fmt: skip


def _auditor(o: SimpleNamespace) -> dict[str, Any]:
    return {"public_id": o.world.lead.public_id, "action": "withdraw"}


def _org(o: SimpleNamespace) -> dict[str, Any]:
    return {"public_id": o.company.public_id, "action": "suspend"}


def _subject(o: SimpleNamespace) -> dict[str, Any]:
    return {"subject_type": "certification", "public_id": o.case.public_id,
            "trigger": "submit_cap"}  # fmt: skip


def _complaint(o: SimpleNamespace) -> dict[str, Any]:
    return {"public_id": o.complaint.public_id}


def _token(o: SimpleNamespace) -> dict[str, Any]:
    return {"token": "not-a-real-token"}


BAD_TOKEN = {200, 400, 404}  # a page saying the link is invalid, or not found

# The table -------------------------------------------------------------------------------------

EXPECTED: dict[str, Expect] = {
    # public pages
    "main.home": public(),
    "main.healthz": public(),
    "main.set_language": public(),
    "accounts.login": public(),
    "accounts.register": public(),
    "accounts.forgot_password": public(),
    "accounts.resend_verification": public(),
    "accounts.verify_email": public(_token, BAD_TOKEN),
    "accounts.reset_password": public(_token, BAD_TOKEN),
    "accounts.accept_invitation": public(_token, BAD_TOKEN),
    "registry.search": public(),
    "registry.export_csv": public(),
    "registry.bulk_check": public(),
    "registry.feed": public(),
    "registry.status_list": public(),
    "registry.jwks": public(),
    "registry.verify_form": public(),
    "registry.verify": public(_certificate),
    "registry.badge": public(_certificate),
    "registry.concern": public(_certificate),
    "registry.certificate_feed": public(_certificate),
    "registry.concern_status": public(_token, BAD_TOKEN),
    "notifications.subscribe": public(_certificate),
    "notifications.confirm": public(_token, BAD_TOKEN),
    "notifications.unsubscribe": public(_token, BAD_TOKEN),
    # any signed-in user
    "accounts.logout": signed_in(),
    "privacy.my_data": signed_in(),
    "privacy.my_data_json": signed_in(),
}

CONTENT = frozenset(
    {Role.LEAD_AUDITOR, Role.AUDITOR, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER}
)  # the audit's content: the team, and the company's technical reviewer and decision maker
TEAM = frozenset({Role.LEAD_AUDITOR, Role.AUDITOR})
ADMIN = Role.SCHEME_ADMIN
HANDLERS = SCHEME | {Role.PLANNER, Role.DECISION_MAKER}
STATE = "the fixture's case is in findings_issued, where this is not possible (403)"

EXPECTED |= {
    # scheme administration: the scheme manager oversees every organisation (not scoped)
    "admin.users": roles(ADMIN),
    "admin.user_detail": roles(ADMIN, args=_user),
    "admin.set_user_active": roles(ADMIN, args=_user),
    "admin.add_membership": roles(ADMIN, args=_user),
    "admin.remove_membership": roles(ADMIN, args=_user),
    "admin.auditors": roles(ADMIN),
    "admin.auditor_detail": roles(ADMIN, args=_auditor),
    "admin.auditor_approval": roles(ADMIN, args=_auditor),
    "admin.organisations": roles(ADMIN),
    "admin.organisation_detail": roles(ADMIN, args=_org),
    "admin.change_organisation_status": roles(ADMIN, args=_org),
    "admin.new_audit_company": roles(ADMIN),
    "admin.outbox": roles(ADMIN),
    "admin.outbox_message": roles(ADMIN, args=lambda o: {"public_id": o.mail.public_id}),
    "notifications.webhooks": roles(ADMIN),
    "notifications.deactivate_webhook": roles(
        ADMIN, args=lambda o: {"public_id": o.webhook.public_id}
    ),
    "oversight.dashboard": roles(ADMIN),
    "workflowui.diagrams": roles(ADMIN),
    "privacy.access_log": roles(ADMIN),
    "privacy.erase": roles(ADMIN, args=_user),
    # the agency: its own people, and the scheme admin
    "accounts.members": roles(AGENCY, ADMIN, args=_agency, scoped=True, sees_all=ADMIN),
    "agencies.profile": roles(AGENCY, ADMIN, args=_agency, scoped=True, sees_all=ADMIN),
    "agencies.licence_file": roles(AGENCY, ADMIN, args=_agency, scoped=True, sees_all=ADMIN),
    "agencies.edit_details": roles(Role.AGENCY_ADMIN, args=_agency, scoped=True),
    "agencies.add_row": roles(Role.AGENCY_ADMIN, args=_agency, scoped=True),
    "agencies.edit_row": roles(Role.AGENCY_ADMIN, args=_agency, scoped=True),
    "agencies.remove_row": roles(Role.AGENCY_ADMIN, args=_agency, scoped=True),
    # applications and the self-assessment: the agency, and the scheme manager's screening
    "applications.index": roles(AGENCY, SCHEME),
    "applications.new": roles(Role.AGENCY_ADMIN, args=_agency, scoped=True),
    "applications.detail": roles(AGENCY, SCHEME, args=_application, scoped=True, sees_all=SCHEME),
    "applications.open_case": roles(Role.AGENCY_ADMIN, args=_application, scoped=True),
    "applications.answer_items": roles(AGENCY, args=_application, scoped=True),
    "questionnaires.overview": roles(
        AGENCY, SCHEME, args=_application, scoped=True, sees_all=SCHEME
    ),
    "questionnaires.section": roles(
        AGENCY, SCHEME, args=_application, scoped=True, sees_all=SCHEME
    ),
    "questionnaires.report": roles(AGENCY, SCHEME, args=_application, scoped=True, sees_all=SCHEME),
    "questionnaires.start": roles(AGENCY, args=_application, scoped=True),
    "questionnaires.upgrade": roles(
        AGENCY,
        args=_application,
        scoped=True,
        status={403},
        note="the fixture's application is accepted: its answers can no longer change",
    ),
    "questionnaires.unlink": roles(AGENCY, args=_application, scoped=True),
    "questionnaires.evidence_register": roles(AGENCY),
    "questionnaires.evidence_upload": roles(AGENCY),
    "questionnaires.evidence_download": roles(
        AGENCY, SCHEME, CONTENT, args=_doc, scoped=True, sees_all=SCHEME
    ),
    "questionnaires.evidence_edit": roles(AGENCY, args=_doc, scoped=True),
    # cases: the agency, its audit company; the audit's content: team, reviewer, decision maker
    "audits.my_cases": roles(AUDIT_COMPANY),
    "audits.declarations": roles(AUDIT_COMPANY, Role.APPLICATION_REVIEWER),
    "audits.case": roles(AGENCY, AUDIT_COMPANY, ADMIN, args=_case, scoped=True, sees_all=ADMIN),
    "audits.followup": roles(Role.PLANNER, ADMIN, args=_case, scoped=True, sees_all=ADMIN),
    "workflowui.subject": roles(
        AGENCY, AUDIT_COMPANY, ADMIN, args=_subject, scoped=True, sees_all=ADMIN
    ),
    "workflowui.transition": roles(Role.AGENCY_ADMIN, args=_subject, scoped=True),
    "fieldwork.my_cases": roles(AGENCY, AUDIT_COMPANY),
    "fieldwork.case": roles(AGENCY, AUDIT_COMPANY, args=_case, scoped=True),
    "fieldwork.team": roles(Role.PLANNER, args=_case, scoped=True),
    "fieldwork.declaration": roles(TEAM, args=_case, scoped=True),
    "fieldwork.criterion": roles(CONTENT, args=_case, scoped=True),
    "fieldwork.thread": roles(CONTENT, args=_case, scoped=True),
    "fieldwork.visits": roles(CONTENT, args=_case, scoped=True),
    # the audit report goes to the auditee (ISO/IEC 17021-1); it holds no interview data
    "fieldwork.report": roles(AGENCY, CONTENT, args=_case, scoped=True),
    "fieldwork.new_finding": roles(TEAM, args=_case, scoped=True, status={403}, note=STATE),
    "fieldwork.stage1": roles(Role.LEAD_AUDITOR, args=_case, scoped=True),
    "fieldwork.step": roles(TEAM, Role.AGENCY_ADMIN, args=_case, scoped=True),
    # worker interviews: the team and the decision maker; never the agency (DOMAIN.md)
    "fieldwork.interviews": roles(TEAM, Role.DECISION_MAKER, args=_case, scoped=True),
    "fieldwork.new_interview": roles(TEAM, args=_case, scoped=True, status={403}, note=STATE),
    "fieldwork.corrective_action": roles(AGENCY, CONTENT, args=_finding, scoped=True),
    "fieldwork.review_finding": roles(TEAM, args=_finding, scoped=True),
    "certificates.download_pdf": roles(
        AGENCY, AUDIT_COMPANY, ADMIN, args=_certificate, scoped=True, sees_all=ADMIN
    ),
    "complaints.index": roles(SCHEME, Role.PLANNER, Role.DECISION_MAKER),
    # complaints: the scheme manager, and the audit company of the agency complained about
    "complaints.detail": roles(HANDLERS, args=_complaint, scoped=True, sees_all=SCHEME),
    "complaints.action": roles(HANDLERS, args=_complaint, scoped=True, sees_all=SCHEME),
    "complaints.special_audit": roles(HANDLERS, args=_complaint, scoped=True, sees_all=SCHEME),
    "complaints.appeal_refusal": roles(
        Role.AGENCY_ADMIN,
        args=_case,
        scoped=True,
        status={404},
        note="only a refused case can be appealed; the fixture's case is in findings_issued",
    ),
    # the JSON API (bearer tokens only) and the pages where people manage their tokens
    "api.tokens.index": signed_in(),
    "api.tokens.revoke": roles(
        args=lambda o: {"public_id": "no-such-token"},
        note="no token in the fixture: everyone gets 404; the API's own tests cover it",
    ),
    "api.ping": public(),
    "api.docs": public(),
    "api.openapi_json": public(),
    "api.search": public(),
    "api.certificate": public(_certificate),
    "api.verify_many": public(),
    "api.me": token(),
    "api.list_applications": token(),
    "api.create_application": token(),
    "api.get_application": token(_application),
    "api.get_questionnaire": token(_application),
    "api.answer_questionnaire": token(_application),
    "api.upload_evidence": token(_application),
    "api.list_cases": token(),
    "api.get_case": token(_case),
    "api.list_findings": token(_case),
    "api.raise_finding": token(_case),
    "api.get_finding": token(_finding),
    "api.submit_corrective_action": token(_finding),
    "api.review_corrective_action": token(_finding),
    "api.actions": token(_subject),
    "api.fire": token(_subject),
}
