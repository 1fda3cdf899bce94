"""A small world for workflow tests: one agency, the scheme manager, an audit company with
every role, and builders for a subject of any lifecycle in any state, with the data its
outgoing steps need. Used by the generated per-row tests, the stateful test and the HTTP
tests.

Subjects are put in a state directly here (test set-up, like a fixture file): what is under
test is the step fired from that state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from iris.accounts.models import OrgStatus, User
from iris.applications.models import Application
from iris.audits.models import CertificationCase, Finding, FindingGrade, FindingStatus, TeamMember
from iris.certificates.models import Certificate
from iris.certificates.workflow import next_number
from iris.complaints.models import Appeal, Complaint
from iris.core import workflow
from iris.core.db import utcnow
from workflows.appeal import AppealAgainst, AppealState
from workflows.application import ELIGIBILITY_CHECKLIST, ApplicationState
from workflows.base import NEW, Transition
from workflows.certificate import CertificateState
from workflows.certification import AuditType, CaseState, TeamRole
from workflows.complaint import ComplaintAbout, ComplaintState
from workflows.roles import OrgKind, Role

#: far enough ahead for every timer to be due
LATER = timedelta(days=3650)


class World:
    def __init__(self, make: Any, session: Any) -> None:
        self.make = make
        self.session = session
        self.now = utcnow().replace(microsecond=0)
        self.agency = make.agency(complete=True, name="Agencja Pracy Łódź")
        self.scheme = make.org(OrgKind.SCHEME_MANAGER, name="IRIS Secretariat")
        self.company = make.audit_company(name="Cert Audit Sp. z o.o.")
        self.other_company = make.audit_company(name="Other Audit Ltd")
        self.agency_admin = make.user_with_role(Role.AGENCY_ADMIN, self.agency, name="Anna Admin")
        self.reviewer = make.user_with_role(
            Role.APPLICATION_REVIEWER, self.scheme, name="Rita Reviewer"
        )
        self.scheme_admin = make.user_with_role(Role.SCHEME_ADMIN, self.scheme, name="Sam Admin")
        self.planner = make.user_with_role(Role.PLANNER, self.company, name="Paula Planner")
        self.lead = make.user_with_role(Role.LEAD_AUDITOR, self.company, name="Leon Lead")
        self.auditor = make.user_with_role(Role.AUDITOR, self.company, name="Ada Auditor")
        self.tech = make.user_with_role(Role.TECHNICAL_REVIEWER, self.company, name="Tom Tech")
        self.decider = make.user_with_role(Role.DECISION_MAKER, self.company, name="Dora Decider")
        self.panelist = make.user_with_role(Role.SCHEME_ADMIN, self.scheme, name="Pat Panel")

    # ------------------------------------------------------------------ actors

    def actor(self, role: Role, subject: Any) -> Any:
        """Someone holding ``role`` relative to ``subject`` (where the subject allows it)."""
        if role is Role.SYSTEM:
            return workflow.SYSTEM
        if role is Role.PUBLIC:
            return None
        fixed = {
            Role.AGENCY_ADMIN: self.agency_admin,
            Role.APPLICATION_REVIEWER: self.reviewer,
            Role.SCHEME_ADMIN: self.scheme_admin,
            Role.PLANNER: self.planner,
            Role.LEAD_AUDITOR: self.lead,
            Role.AUDITOR: self.auditor,
            Role.TECHNICAL_REVIEWER: self.tech,
            Role.DECISION_MAKER: self.decider,
        }
        if role in fixed:
            return fixed[role]
        return self.make.user_with_role(role, self.agency if role is Role.AGENCY_MEMBER else None)

    # ------------------------------------------------------------------ subjects

    def application(self, state: ApplicationState | None, **kw: Any) -> Application:
        app = Application(
            agency=self.agency, agency_id=self.agency.id, created_by_id=self.agency_admin.id
        )
        if state is None:
            return app
        app.state = state
        if state is ApplicationState.DEFERRED:
            app.requested_items = [{"text": "The KRAZ extract", "answer": "Uploaded today"}]
            app.deferral_due_at = self.now + timedelta(days=60)
        if state is ApplicationState.REJECTED:
            app.decided_at = self.now
            app.rejection_reason_code = "no_valid_licence"
        if state is ApplicationState.ACCEPTED:
            app.decided_at = self.now
        for k, v in kw.items():
            setattr(app, k, v)
        return self._save(app)

    def case(
        self,
        state: CaseState | None,
        *,
        audit_type: AuditType = AuditType.INITIAL,
        findings: str = "auto",
        **kw: Any,
    ) -> CertificationCase:
        if audit_type is not AuditType.INITIAL:
            self.certificate(CertificateState.ACTIVE)
        application = kw.pop("application", None)
        if audit_type is AuditType.INITIAL and application is None:
            application = self.application(ApplicationState.ACCEPTED)
        case = CertificationCase(
            agency=self.agency,
            agency_id=self.agency.id,
            audit_company=self.company,
            audit_company_id=self.company.id,
            application=application,
            audit_type=audit_type,
        )
        if state is None:
            return case
        case.state = state
        self._save(case)
        if state is not CaseState.TEAM_PENDING or kw.pop("team", True):
            self.session.add_all(
                [
                    TeamMember(
                        case=case,
                        user=self.lead,
                        team_role=TeamRole.LEAD,
                        coi_confirmed_at=self.now,
                    ),
                    TeamMember(
                        case=case,
                        user=self.auditor,
                        team_role=TeamRole.AUDITOR,
                        coi_confirmed_at=self.now,
                    ),
                ]
            )
        after_findings = (
            CaseState.FINDINGS_ISSUED, CaseState.CAP_SUBMITTED, CaseState.RECOMMENDED,
            CaseState.DECISION_PENDING, CaseState.CERTIFIED, CaseState.CLOSED_NOT_CERTIFIED,
        )  # fmt: skip
        if state in after_findings:
            case.cap_due_at = self.now + timedelta(days=90)
        if findings == "auto":
            findings = "closed" if state in after_findings else "none"
        if findings != "none":
            self._findings(case, findings)
        if state in (
            CaseState.RECOMMENDED,
            CaseState.DECISION_PENDING,
            CaseState.CERTIFIED,
            CaseState.REFUSED,
        ):
            case.recommendation = "grant"
            case.recommendation_rationale = "Conforms; the minor finding has an accepted plan."
        if state in (CaseState.DECISION_PENDING, CaseState.CERTIFIED, CaseState.REFUSED):
            case.technical_reviewer_id = self.tech.id
        if state in (CaseState.CERTIFIED, CaseState.REFUSED):
            case.decision_maker_id = self.decider.id
            case.decided_at = self.now
        for k, v in kw.items():
            setattr(case, k, v)
        self.session.flush()
        self.session.refresh(case)
        return case

    def fieldwork_done(self, case: CertificationCase) -> None:
        """Every criterion rated, a site visited and the interview sample met, through the
        fieldwork feature's operations (what the stage-2 guards ask for)."""
        from iris.fieldwork import operations as ops
        from iris.fieldwork import queries as q

        for row in q.criteria_of(q.definition_of(case)):
            ops.rate_criterion(case, actor=self.lead, criterion=row.code, rating="conforming",
                               notes="", documents=[], now=self.now)  # fmt: skip
        site = self.agency.sites[0]  # type: ignore[attr-defined]
        ops.record_site_visit(
            case, actor=self.lead, site=site, visited_on=self.now.date(), notes=""
        )
        for _i in range(q.sampling_minimum(q.workers_placed(case.agency_id))):
            ops.record_interview(
                case, actor=self.auditor, conducted_on=self.now.date(), site=site,
                language="uk", interpreter=False, channel="in_person", fees_paid=False,
                fee_amount=None, fee_currency=None, documents_held=False,
                contract_timing="before_departure", contract_language="uk",
                contract_in_own_language=True, substitution=False, knows_grievance=True, notes="",
            )  # fmt: skip
        self.session.flush()

    def _findings(self, case: CertificationCase, how: str) -> None:
        plan = dict(
            correction="Refunded the fee", root_cause="No fee register", action="Fee register kept",
            owner="Director", target_date=self.now.date() + timedelta(days=30),
        )  # fmt: skip
        major = Finding(case=case, criterion="C.1", grade=FindingGrade.MAJOR,
                        statement="A worker paid a visa fee", evidence="Interview W-3",
                        due_at=case.cap_due_at, **plan)  # fmt: skip
        minor = Finding(case=case, criterion="E.1", grade=FindingGrade.MINOR,
                        statement="A contract given late", evidence="Contract sample 4",
                        due_at=case.cap_due_at, **plan)  # fmt: skip
        if how == "closed":
            major.status = FindingStatus.VERIFIED_CLOSED
            major.verified_at = self.now
            minor.status = FindingStatus.PLAN_ACCEPTED
        self.session.add_all([major, minor])

    def certificate(self, state: CertificateState | None, **kw: Any) -> Certificate:
        if state is None:
            case = self.case(CaseState.CERTIFIED)
        else:
            application = self.application(ApplicationState.ACCEPTED)
            case = CertificationCase(
                agency_id=self.agency.id, audit_company_id=self.company.id,
                application=application, state=CaseState.CERTIFIED,
            )  # fmt: skip
            self._save(case)
        cert = Certificate(
            number=next_number(self.session, self.agency.country, self.now.year),
            agency_id=self.agency.id,
            audit_company_id=self.company.id,
            case=case,
            case_id=case.id,
        )
        if state is None:
            return cert
        cert.state = state
        cert.issued_at = cert.original_issued_at = self.now
        cert.expires_at = self.now + timedelta(days=3 * 365)
        if state is CertificateState.SUSPENDED:
            cert.suspended_at = self.now
            cert.suspension_reason_code = "voluntary"
            cert.suspension_ends_at = self.now + timedelta(days=180)
        if state is CertificateState.WITHDRAWN:
            cert.withdrawn_at = self.now
        for k, v in kw.items():
            setattr(cert, k, v)
        return self._save(cert)

    def complaint(self, state: ComplaintState | None, **kw: Any) -> Complaint:
        c = Complaint(
            text="I paid 800 USD for my visa to the agency's sub-agent in Lviv.",
            language="uk",
            about=ComplaintAbout.AGENCY,
            agency_id=self.agency.id,
            complainant_contact="worker@example.test",
        )
        if state is None:
            return c
        c.state = state
        # proposed at receipt to the audit company that certified the agency
        c.handler_org_id = self.company.id
        for k, v in kw.items():
            setattr(c, k, v)
        return self._save(c)

    def appeal(self, state: AppealState | None, **kw: Any) -> Appeal:
        rejected = self.application(ApplicationState.REJECTED)
        a = Appeal(agency_id=self.agency.id, against=AppealAgainst.REJECTION, application=rejected)
        if state is None:
            return a
        a.state = state
        if state is not AppealState.LODGED:
            a.panel = [self.panelist.id]
        for k, v in kw.items():
            setattr(a, k, v)
        return self._save(a)

    def _save(self, obj: Any) -> Any:
        self.session.add(obj)
        self.session.flush()
        return obj

    # ------------------------------------------------------------------ per row

    def subject(self, lifecycle: str, state: str | None, row: Transition | None = None) -> Any:
        st = None if state in (None, NEW) else state
        trigger = row.trigger if row else None
        if lifecycle == "application":
            app = self.application(None if st is None else ApplicationState(st))
            if st == ApplicationState.DRAFT and trigger == "submit":
                complete_self_assessment(app, self.agency_admin)
            return app
        if lifecycle == "certification":
            audit_type = AuditType.INITIAL
            if trigger in ("start_onsite", "open_followup"):
                audit_type = AuditType.SURVEILLANCE
            elif trigger == "open_scheduled":  # at world.when(): the expiry is near
                audit_type = AuditType.RECERTIFICATION
            findings = "auto"
            if trigger == "issue_findings":
                findings = "open"
            elif trigger == "recommend" and st == CaseState.STAGE2:
                findings = "none"
            case = self.case(
                None if st is None else CaseState(st), audit_type=audit_type, findings=findings
            )
            if st == CaseState.STAGE2 and trigger in ("issue_findings", "recommend"):
                self.fieldwork_done(case)
            return case
        if lifecycle == "certificate":
            return self.certificate(None if st is None else CertificateState(st))
        if lifecycle == "complaint":
            return self.complaint(None if st is None else ComplaintState(st))
        if lifecycle == "appeal":
            return self.appeal(None if st is None else AppealState(st))
        raise ValueError(lifecycle)

    def adapt(self, subject: Any, row: Transition, actor: Any) -> None:
        """Make the subject's actor-specific conditions hold for ``actor``."""
        uid = workflow.actor_id(actor)
        if isinstance(subject, Complaint) and uid is not None:
            subject.investigator_id = uid
        if isinstance(subject, Appeal) and uid is not None and subject.panel:
            subject.panel = sorted({*subject.panel, uid})
        if isinstance(subject, CertificationCase) and row.creates:
            # one case at a time per agency: an earlier role's case of this row is done
            for other in self.session.scalars(
                sa.select(CertificationCase).where(
                    CertificationCase.agency_id == subject.agency_id,
                    CertificationCase.state == CaseState.TEAM_PENDING,
                )
            ):
                other.state = CaseState.CLOSED_NOT_CERTIFIED
        if isinstance(subject, Certificate) and row.trigger == "supersede":
            newer = self.certificate(CertificateState.ACTIVE)
            newer.replaces_id = subject.id
        self.session.flush()

    def inputs(self, row: Transition) -> dict[str, Any]:
        """The reason and the fields the step asks for."""
        data: dict[str, Any] = {}
        if row.reason_required:
            data["reason"] = "Because the evidence shows it."
        if row.reason_codes:
            data["reason_code"] = row.reason_codes[0]
        if row.trigger == "take_action":  # an action needing no certificate nor audit
            data["reason_code"] = "referral_to_labour_inspectorate"
        for name in row.fields:
            data[name] = {
                "requested_items": ["The KRAZ extract", "Sub-agent contracts"],
                "eligibility_checklist": [code for code, _ in ELIGIBILITY_CHECKLIST],
                "recommendation": "grant",
                "panel": [self.panelist.id],
            }[name]
        return data

    # ------------------------------------------------------------------ whole journeys

    def journey(self, until: str = "certified") -> dict[str, Any]:
        """An application and its initial case taken through the engine from creation."""
        fire = workflow.fire
        out: dict[str, Any] = {}
        app = out["application"] = self.application(None)
        fire(app, "create", self.agency_admin, now=self.now)
        complete_self_assessment(app, self.agency_admin)
        fire(app, "submit", self.agency_admin, now=self.now)
        fire(app, "start_review", self.reviewer, now=self.now)
        checklist = [code for code, _ in ELIGIBILITY_CHECKLIST]
        fire(app, "accept", self.reviewer, now=self.now, eligibility_checklist=checklist)
        if until == "accepted":
            return out
        case = out["case"] = self.case(None, application=app)
        fire(case, "open", self.agency_admin, now=self.now)
        self.session.add_all([
            TeamMember(case=case, user=self.lead, team_role=TeamRole.LEAD),
            TeamMember(case=case, user=self.auditor, team_role=TeamRole.AUDITOR),
        ])  # fmt: skip
        fire(case, "assign_team", self.planner, now=self.now)
        fire(case, "start_stage1", self.lead, now=self.now)
        fire(case, "start_stage2", self.lead, now=self.now)
        self.fieldwork_done(case)
        self._findings(case, "open")
        self.session.flush()
        fire(case, "issue_findings", self.lead, now=self.now)
        if until == "findings_issued":
            return out
        fire(case, "submit_cap", self.agency_admin, now=self.now)
        for finding in case.findings:
            finding.status = (
                FindingStatus.VERIFIED_CLOSED
                if finding.grade is FindingGrade.MAJOR
                else FindingStatus.PLAN_ACCEPTED
            )
        fire(case, "recommend", self.lead, now=self.now, reason="Conforms.", recommendation="grant")
        fire(case, "review", self.tech, now=self.now)
        if until == "decision_pending":
            return out
        fire(case, "grant", self.decider, now=self.now)
        out["certificate"] = case.issued_certificate
        return out

    def when(self, row: Transition) -> datetime:
        return self.now + LATER if row.timer else self.now


def approved(org: Any) -> Any:
    org.status = OrgStatus.APPROVED
    return org


__all__ = ["LATER", "User", "World", "approved"]


def _world_fixture(make: Any, db_session: Any) -> World:
    return World(make, db_session)


import pytest  # noqa: E402

world = pytest.fixture(name="world")(_world_fixture)


def complete_self_assessment(application: Any, actor: Any) -> None:
    """Answer the published self-assessment fully, with evidence where required, through the
    questionnaire feature's own operations (so the ``questionnaire_complete`` guard holds)."""
    from iris.questionnaires import definition as d
    from iris.questionnaires import operations as q
    from iris.questionnaires import queries
    from tests.questionnaires.answers import best_answers

    version = q.latest_published()
    if version is None:
        source = d.read_data(Path(q.__file__).parent / "definitions" / "iris-1.2.yaml")
        version = q.publish_version(q.import_version(source).version)
    response = q.start_response(application, actor=actor)
    q.save_answers(response, actor=actor, changes=best_answers())
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    for item in queries.missing_in(response, with_urls=False):
        doc = q.upload_evidence(
            application.agency, actor=actor, data=pdf, file_name=f"{item.key}.pdf",
            content_type="application/pdf", title=f"Evidence {item.key}", doc_type="policy",
            language="pl",
        )  # fmt: skip
        q.link_evidence(response, item.key, doc, actor=actor)
    q.rescore(response)
    missing = queries.missing_in(response, with_urls=False)
    assert not missing, missing
