"""Complaints through HTTP: triage by the scheme manager or the certifying audit company,
an investigator with no tie to the subject, the complainant's identity seen by the
investigator only, a special short-notice audit, and actions that raise a finding or
suspend the certificate."""

from __future__ import annotations

import sqlalchemy as sa

from iris.audits.models import CertificationCase, Finding
from iris.complaints.models import Complaint
from iris.core.workflow import PUBLIC, fire
from tests.core.test_workflow_http import fire_over_http
from tests.core.workflow_world import world  # noqa: F401  (fixture)
from tests.helpers import text_of
from workflows.certificate import CertificateState
from workflows.certification import AuditType, CaseState
from workflows.complaint import ComplaintState
from workflows.roles import Role

NAME, CONTACT = "Olena Kovalenko", "olena.k@example.com"


def as_user(client, user):
    client.logout()
    client.login(user)


def received(world, db_session):  # noqa: F811
    """A certified agency (audited earlier by the world's team) and a complaint about it."""
    world.case(CaseState.CERTIFIED)  # the earlier audit: lead and auditor, decided by Dora
    cert = world.certificate(CertificateState.ACTIVE)
    c = Complaint(
        text="The sub-agent in Lviv took 600 USD from me for the visa.", language="uk",
        about="agency", agency_id=world.agency.id, certificate_id=cert.id,
        complainant_name=NAME, complainant_contact=CONTACT,
    )  # fmt: skip
    fire(c, "receive", PUBLIC)
    db_session.commit()
    return c, cert


def page(client, c):
    return client.get(f"/complaints/{c.public_id}")


def triaged(world, client, db_session):  # noqa: F811
    c, cert = received(world, db_session)
    assert c.handler_org_id == world.company.id  # proposed to the certifying company
    as_user(client, world.reviewer)
    assert fire_over_http(client, c, "acknowledge").status_code == 302
    # the audit company triages it
    as_user(client, world.planner)
    resp = fire_over_http(client, c, "triage", reason="About our certified agency.")
    assert resp.status_code == 302, text_of(resp)[:400]
    db_session.refresh(c)
    assert c.state is ComplaintState.TRIAGED
    return c, cert


def test_only_the_investigator_sees_who_complained(world, client, db_session):  # noqa: F811
    c, _cert = triaged(world, client, db_session)
    for user in (world.reviewer, world.scheme_admin, world.planner):
        as_user(client, user)
        for url in (f"/complaints/{c.public_id}", f"/complaint/{c.public_id}", "/complaints/"):
            html = client.get(url).get_data(as_text=True)
            assert NAME not in html and CONTACT not in html, (user.name, url)
        assert "Protected: visible to the investigator only." in text_of(page(client, c))
        assert "The sub-agent in Lviv took 600 USD" in text_of(page(client, c))

    as_user(client, world.planner)
    resp = fire_over_http(client, c, "investigate")
    assert resp.status_code == 302, text_of(resp)[:400]
    text = text_of(page(client, c))
    assert NAME in text and CONTACT in text
    # the investigator's view is in the access log of restricted personal data; nobody
    # else's (they were not shown it)
    from iris.privacy.models import AccessLogEntry, SubjectKind

    entries = db_session.scalars(sa.select(AccessLogEntry)).all()
    assert [(e.subject_kind, e.subject_id, e.actor_id) for e in entries] == [
        (SubjectKind.COMPLAINANT_IDENTITY, c.id, world.planner.id)
    ]
    # the triage staff still do not
    as_user(client, world.reviewer)
    html = page(client, c).get_data(as_text=True)
    assert NAME not in html and CONTACT not in html
    # nor does an auditor of the company, who cannot open the complaint at all
    as_user(client, world.auditor)
    assert page(client, c).status_code == 404


def test_someone_involved_with_the_agency_cannot_investigate(world, client, db_session, make):  # noqa: F811
    c, _cert = triaged(world, client, db_session)
    make.membership(world.lead, world.company, Role.PLANNER)
    db_session.commit()
    as_user(client, world.lead)  # led the agency's earlier audit
    resp = fire_over_http(client, c, "investigate")
    assert resp.status_code == 403
    assert (
        "You cannot investigate this complaint: you audited this agency. Someone not involved must."
        in text_of(resp)
    )
    as_user(client, world.decider)  # decided the agency's certification
    resp = fire_over_http(client, c, "investigate")
    assert resp.status_code == 403
    assert "you reviewed or decided this agency's certification" in text_of(resp)
    db_session.refresh(c)
    assert c.state is ComplaintState.TRIAGED and c.investigator_id is None


def test_a_special_audit_from_the_complaint_and_a_finding_raised_in_it(world, client, db_session):  # noqa: F811
    c, cert = triaged(world, client, db_session)
    as_user(client, world.planner)
    assert fire_over_http(client, c, "investigate").status_code == 302
    assert "Open a special short-notice audit" in text_of(page(client, c))
    resp = client.post(
        f"/complaints/{c.public_id}/special-audit", {}, form_url=f"/complaints/{c.public_id}"
    )
    assert resp.status_code == 302, text_of(resp)[:400]
    db_session.refresh(c)
    special = c.special_case
    assert special.audit_type is AuditType.SPECIAL and special.state is CaseState.TEAM_PENDING
    assert resp.headers["Location"].endswith(f"/audit/cases/{special.public_id}/team")
    assert client.get(f"/audit/cases/{special.public_id}/team").status_code == 200  # same pages

    resp = fire_over_http(client, c, "substantiate", reason="Payment receipts seen.")
    assert resp.status_code == 302
    url = f"/complaints/{c.public_id}/action"
    # a planner may not suspend: that is the certifying company's decision maker's
    resp = client.post(
        url, {"reason_code": "certificate_suspended", "reason": "Fees charged."},
        form_url=f"/complaints/{c.public_id}",
    )  # fmt: skip
    assert resp.status_code == 409
    assert "Only a decision maker of the audit company that certified the agency" in text_of(resp)
    db_session.refresh(cert)
    assert cert.state is CertificateState.ACTIVE
    resp = client.post(
        url,
        {"reason_code": "finding_raised", "criterion": "C.1", "grade": "major",
         "reason": "A worker paid 600 USD for the visa to the sub-agent."},
        form_url=f"/complaints/{c.public_id}",
    )  # fmt: skip
    assert resp.status_code == 302, text_of(resp)[:400]
    db_session.refresh(c)
    assert c.state is ComplaintState.ACTION_TAKEN
    finding = db_session.scalar(sa.select(Finding).where(Finding.case_id == special.id))
    assert (finding.criterion, finding.grade.value) == ("C.1", "major")
    assert c.reference in finding.evidence
    assert NAME not in finding.evidence + finding.statement


def test_a_substantiated_complaint_suspends_the_certificate(world, client, db_session, make):  # noqa: F811
    c, cert = triaged(world, client, db_session)
    other = make.user_with_role(Role.DECISION_MAKER, world.company, name="Nina Neutral")
    db_session.commit()
    as_user(client, other)
    assert fire_over_http(client, c, "investigate").status_code == 302
    assert fire_over_http(client, c, "substantiate", reason="Receipts seen.").status_code == 302
    resp = client.post(
        f"/complaints/{c.public_id}/action",
        {"reason_code": "certificate_suspended", "reason": "Fees charged to workers."},
        form_url=f"/complaints/{c.public_id}",
    )  # fmt: skip
    assert resp.status_code == 302, text_of(resp)[:400]
    db_session.refresh(cert)
    assert cert.state is CertificateState.SUSPENDED
    assert cert.suspension_reason_code == "substantiated_complaint"
    assert (
        db_session.scalar(
            sa.select(sa.func.count(CertificationCase.id)).where(
                CertificationCase.audit_type == AuditType.SPECIAL
            )
        )
        == 0
    )
