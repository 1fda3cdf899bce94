"""The audit journey through HTTP: assign → declarations → stage 1 → stage 2 → findings →
corrective action returned once, then accepted → recommend → technical review → grant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from iris.audits.models import Finding, FindingStatus
from iris.core.db import utcnow
from iris.fieldwork.models import AuditReport, WorkerInterview
from tests.fieldwork.conftest import case_url
from tests.helpers import text_of
from workflows.certification import CaseState

TODAY = utcnow().date()


def as_user(client: Any, user: Any) -> None:
    client.logout()
    client.login(user)


def assign_team(client: Any, w: Any) -> Any:
    as_user(client, w.planner)
    page = client.get(case_url(w.case, "/team"))
    assert page.status_code == 200
    return client.post(case_url(w.case, "/team"), {"lead": w.lead.id, "members": [w.auditor.id]})


def confirm(client: Any, w: Any, user: Any) -> None:
    as_user(client, user)
    first = client.get(case_url(w.case))
    assert first.status_code == 302 and "/declaration" in first.headers["Location"]
    done = client.post(case_url(w.case, "/declaration"), {"confirm": "y"})
    assert done.status_code == 302


def step(client: Any, w: Any, trigger: str, **data: Any) -> Any:
    return client.post(case_url(w.case, f"/steps/{trigger}"), data, form_url=case_url(w.case))


def rate_all(client: Any, w: Any, rating: str = "conforming") -> None:
    for section in w.definition.sections:
        for criterion in section.criteria:
            url = case_url(w.case, f"/criteria/{criterion.code}")
            resp = client.post(url, {"rating": rating, "notes": "Checked the policy."})
            assert resp.status_code == 302, (criterion.code, text_of(resp)[:300])


def interview(client: Any, w: Any, **over: Any) -> Any:
    data = {
        "conducted_on": TODAY.isoformat(), "language": "uk", "channel": "in_person",
        "contract_timing": "before_departure", "contract_language": "uk",
        "contract_in_own_language": "y", "knows_grievance": "y", "notes": "Welder, night shift.",
    } | over  # fmt: skip
    return client.post(case_url(w.case, "/interviews/new"), data)


def to_stage2_with_findings(client: Any, w: Any, db_session: Any) -> None:
    assert assign_team(client, w).status_code == 302
    confirm(client, w, w.auditor)
    confirm(client, w, w.lead)
    assert step(client, w, "start_stage1").status_code == 302
    rate_all(client, w)
    for grade, criterion, statement in (
        ("major", "C.1", "Two workers paid for medical checks"),
        ("minor", "E.1", "One contract handed over after departure"),
    ):
        resp = client.post(
            case_url(w.case, "/findings/new"),
            {"grade": grade, "criterion": criterion, "statement": statement,
             "evidence": "Interviews W-1, W-2; fee register", "due_on": ""},
        )  # fmt: skip
        assert resp.status_code == 302, text_of(resp)[:400]
    resp = client.post(
        case_url(w.case, "/stage1"), {"outcome": "ready", "notes": "Policies in place."},
        form_url=case_url(w.case),
    )  # fmt: skip
    assert resp.status_code == 302
    db_session.refresh(w.case)
    assert w.case.state is CaseState.STAGE2
    site = w.agency.sites[0]
    resp = client.post(
        case_url(w.case, "/visits"),
        {"site": site.public_id, "visited_on": TODAY.isoformat(), "notes": "Head office"},
    )
    assert resp.status_code == 302
    assert (
        interview(client, w, fees_paid="y", fee_amount="500", fee_currency="uah").status_code == 302
    )
    assert interview(client, w, language="ru", interpreter="y").status_code == 302
    assert interview(client, w, channel="phone").status_code == 302


def cap(client: Any, w: Any, finding: Finding, action: str = "Fee register kept") -> Any:
    url = f"/audit/findings/{finding.public_id}/corrective-action"
    return client.post(
        url,
        {"correction": "Refunded the workers", "root_cause": "No fee register",
         "action": action, "owner": "Director",
         "target_date": (TODAY + timedelta(days=30)).isoformat(), "document": ""},
    )  # fmt: skip


def review(client: Any, finding: Finding, decision: str, comment: str = "") -> Any:
    return client.post(
        f"/audit/findings/{finding.public_id}/review", {"decision": decision, "comment": comment}
    )


def test_the_whole_journey(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    to_stage2_with_findings(client, w, db_session)

    # interviews: seen by the team, with the fee and its currency
    page = text_of(client.get(case_url(w.case, "/interviews")))
    assert "W-1" in page and "500.00 UAH" in page and "3 recorded" in page

    # the workspace: scores beside the self-assessment, the answers with their version
    page = client.get(case_url(w.case))
    text = text_of(page)
    assert "Declared against verified" in text and "<svg" in page.get_data(as_text=True)
    assert f"version {w.response.version.version}" in text
    assert "Draft findings from failed critical answers" in text and "C01" in text

    assert step(client, w, "issue_findings").status_code == 302
    db_session.refresh(w.case)
    assert w.case.state is CaseState.FINDINGS_ISSUED
    major, minor = db_session.scalars(
        sa.select(Finding).where(Finding.case_id == w.case.id).order_by(Finding.id)
    ).all()
    assert major.due_at is not None and (major.due_at.date() - TODAY).days == 90

    # the agency answers every finding and submits its plan
    as_user(client, w.admin)
    agency_page = text_of(client.get(case_url(w.case)))
    assert "Two workers paid for medical checks" in agency_page
    assert "Interviews (confidential)" not in agency_page
    assert cap(client, w, major, "Checks paid by the employer").status_code == 302
    assert cap(client, w, minor).status_code == 302
    assert step(client, w, "submit_cap").status_code == 302
    db_session.refresh(w.case)
    assert w.case.state is CaseState.CAP_SUBMITTED

    # the lead returns the major once, accepts the minor's plan
    as_user(client, w.lead)
    assert review(client, major, "return", "Show the refund receipts.").status_code == 302
    assert review(client, minor, "accept").status_code == 302
    assert step(client, w, "return_cap", reason="Receipts missing for C.1").status_code == 302
    db_session.refresh(w.case)
    assert w.case.state is CaseState.FINDINGS_ISSUED

    as_user(client, w.admin)
    text = text_of(client.get(case_url(w.case)))
    assert "Returned: Show the refund receipts." in text
    assert cap(client, w, major, "Receipts attached; employer pays checks").status_code == 302
    assert step(client, w, "submit_cap").status_code == 302

    as_user(client, w.lead)
    assert review(client, major, "accept", "Receipts seen.").status_code == 302
    db_session.refresh(major)
    assert major.status is FindingStatus.VERIFIED_CLOSED
    resp = step(client, w, "recommend", recommendation="grant", reason="Conforms after CAP.")
    assert resp.status_code == 302, text_of(resp)[:400]
    db_session.refresh(w.case)
    assert w.case.state is CaseState.RECOMMENDED

    # the report: stored with its sha256, downloadable, no interview details
    report = db_session.scalar(sa.select(AuditReport).where(AuditReport.case_id == w.case.id))
    assert report is not None and len(report.sha256) == 64
    pdf = client.get(case_url(w.case, "/report.pdf"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    import hashlib

    assert hashlib.sha256(pdf.data).hexdigest() == report.sha256
    flat = str(report.snapshot)
    assert report.snapshot["interviews"] == 3
    assert "Welder" not in flat  # interview notes
    assert "UAH" not in flat and "night shift" not in flat

    # technical review, then the decision, by people not on the team
    as_user(client, w.tech)
    assert step(client, w, "review").status_code == 302
    db_session.refresh(w.case)
    assert w.case.state is CaseState.DECISION_PENDING
    as_user(client, w.decider)
    resp = step(client, w, "grant", reason="Certified.")
    assert resp.status_code == 302, text_of(resp)[:600]
    db_session.refresh(w.case)
    assert w.case.state is CaseState.CERTIFIED


def test_not_ready_goes_back_to_planning_with_the_gaps(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    assign_team(client, w)
    confirm(client, w, w.lead)
    started = step(client, w, "start_stage1")
    assert started.status_code == 302, text_of(started)[:500]
    empty = client.post(case_url(w.case, "/stage1"), {"outcome": "not_ready", "notes": ""},
                        form_url=case_url(w.case))  # fmt: skip
    assert empty.status_code == 400, text_of(empty)[:600]
    assert "List the readiness gaps" in text_of(empty)
    resp = client.post(case_url(w.case, "/stage1"),
                       {"outcome": "not_ready", "notes": "No fee policy yet"},
                       form_url=case_url(w.case))  # fmt: skip
    assert resp.status_code == 302
    db_session.refresh(w.case)
    assert w.case.state is CaseState.AUDIT_PLANNED


def test_fees_paid_needs_amount_and_currency(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    to_stage2_with_findings(client, w, db_session)
    resp = interview(client, w, fees_paid="y", fee_amount="", fee_currency="")
    assert resp.status_code == 200
    assert "Give the amount the worker paid." in text_of(resp)
    count = db_session.scalar(sa.select(sa.func.count(WorkerInterview.id)))
    assert count == 3


def test_requests_for_information_are_threaded_per_answer(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    assign_team(client, w)
    confirm(client, w, w.lead)
    url = case_url(w.case, "/answers/C01")
    assert client.post(url, {"body": "Which costs did the workers pay?"}).status_code == 302
    as_user(client, w.admin)
    assert "awaiting your answer" in text_of(client.get(case_url(w.case)))
    assert (
        client.post(url, {"body": "Medical checks, now refunded.", "document": ""}).status_code
        == 302
    )
    # no thread about another answer: nothing for the agency to see there
    assert client.get(case_url(w.case, "/answers/A01")).status_code == 404
    as_user(client, w.lead)
    text = text_of(client.get(url))
    assert text.index("Which costs") < text.index("Medical checks, now refunded.")


def test_findings_wait_for_every_rating_and_the_interview_sample(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    assign_team(client, w)
    confirm(client, w, w.lead)
    step(client, w, "start_stage1")
    client.post(case_url(w.case, "/stage1"), {"outcome": "ready", "notes": "ok"},
                form_url=case_url(w.case))  # fmt: skip
    client.post(
        case_url(w.case, "/findings/new"),
        {"grade": "minor", "criterion": "E.1", "statement": "Late contract", "evidence": "W-1"},
    )
    resp = step(client, w, "issue_findings")
    assert resp.status_code == 409
    assert "not yet assessed: A.1" in text_of(resp)
    rate_all(client, w)
    resp = step(client, w, "issue_findings")
    assert resp.status_code == 409
    assert "0 of the 3 worker interviews" in text_of(resp) and "no site visit" in text_of(resp)
    db_session.refresh(w.case)
    assert w.case.state is CaseState.STAGE2


def test_overdue_findings_are_flagged(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    to_stage2_with_findings(client, w, db_session)
    finding = db_session.scalars(sa.select(Finding).where(Finding.case_id == w.case.id)).first()
    finding.due_at = utcnow() - timedelta(days=1)
    db_session.flush()
    assert "Overdue" in text_of(client.get(case_url(w.case)))
    assert "Overdue" in text_of(client.get("/audit/cases"))
    assert "Overdue" in text_of(client.get(f"/audit/findings/{finding.public_id}/review"))
