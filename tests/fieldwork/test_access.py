"""Who sees what: the case, its evidence and its interviews; separation of duties."""

from __future__ import annotations

from typing import Any

from iris.fieldwork.models import WorkerInterview
from tests.fieldwork.conftest import case_url
from tests.fieldwork.test_journey import (
    as_user,
    assign_team,
    confirm,
    step,
    to_stage2_with_findings,
)
from tests.helpers import text_of
from workflows.certification import CaseState
from workflows.roles import Role


def evidence_url(w: Any) -> str:
    doc = w.response.links[0].document
    return f"/evidence/{doc.public_id}/download"


def test_auditor_not_on_the_team_gets_404(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    to_stage2_with_findings(client, w, db_session)
    interview_id = db_session.query(WorkerInterview).first().public_id
    as_user(client, w.outsider)
    for url in (
        case_url(w.case),
        case_url(w.case, "/interviews"),
        case_url(w.case, "/interviews/new"),
        case_url(w.case, "/criteria/A.1"),
        case_url(w.case, "/answers/C01"),
        case_url(w.case, "/report.pdf"),
        evidence_url(w),
    ):
        assert client.get(url).status_code == 404, url
    assert w.case.public_id not in client.get("/audit/cases").get_data(as_text=True)
    assert interview_id  # interviews have no page of their own to guess


def test_team_member_sees_evidence_only_after_the_declaration(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    assign_team(client, w)
    as_user(client, w.lead)
    assert client.get(evidence_url(w)).status_code == 404
    assert client.get(case_url(w.case, "/interviews")).status_code == 302
    confirm(client, w, w.lead)
    assert client.get(evidence_url(w)).status_code == 200


def test_the_agency_never_sees_interviews(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    to_stage2_with_findings(client, w, db_session)
    as_user(client, w.admin)
    assert client.get(case_url(w.case, "/interviews")).status_code == 404
    assert client.get(case_url(w.case, "/interviews/new")).status_code == 404
    page = client.get(case_url(w.case))
    assert page.status_code == 200
    assert "Welder" not in text_of(page) and "W-1" not in text_of(page).replace("W-1, W-2", "")
    # the technical reviewer does not see them either; the decision maker does
    as_user(client, w.tech)
    assert client.get(case_url(w.case, "/interviews")).status_code == 404
    as_user(client, w.decider)
    assert "W-1" in text_of(client.get(case_url(w.case, "/interviews")))


def test_conflict_of_interest_blocks_assignment(client, world, db_session):  # type: ignore[no-untyped-def]
    from datetime import date

    from iris.audits.models import ConflictOfInterestDeclaration, Relation

    w = world
    db_session.add(ConflictOfInterestDeclaration(
        user_id=w.auditor.id, agency_id=w.agency.id, relation=Relation.CONSULTANCY,
        period_start=date(2024, 1, 1), period_end=None,
    ))  # fmt: skip
    db_session.flush()
    as_user(client, w.planner)
    page = text_of(client.get(case_url(w.case, "/team")))
    assert "Blocked:" in page and "consultancy" in page
    resp = client.post(case_url(w.case, "/team"), {"lead": w.lead.id, "members": [w.auditor.id]})
    assert resp.status_code == 200  # not a choice: the form says so
    db_session.refresh(w.case)
    assert w.case.state is CaseState.TEAM_PENDING and not w.case.team


def test_a_team_member_cannot_review_or_decide(client, world, make, db_session):  # type: ignore[no-untyped-def]
    w = world
    make.membership(w.lead, w.company, Role.TECHNICAL_REVIEWER)
    make.membership(w.auditor, w.company, Role.DECISION_MAKER)
    to_stage2_with_findings(client, w, db_session)
    # jump to the end of the audit (set-up): recommended, then decision pending
    w.case.state = CaseState.RECOMMENDED
    w.case.recommendation = "grant"
    w.case.recommendation_rationale = "Conforms."
    db_session.commit()  # set-up kept when the refused step rolls its request back
    as_user(client, w.lead)
    resp = step(client, w, "review")
    assert resp.status_code == 403
    assert "another technical reviewer" in text_of(resp)
    w.case.state = CaseState.DECISION_PENDING
    w.case.technical_reviewer_id = w.tech.id
    db_session.commit()
    as_user(client, w.auditor)
    resp = step(client, w, "grant", reason="ok")
    assert resp.status_code == 403 and "Four-eyes" in text_of(resp)
    db_session.refresh(w.case)
    assert w.case.state is CaseState.DECISION_PENDING
