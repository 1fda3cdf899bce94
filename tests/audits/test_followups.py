"""Surveillance, recertification and special audits: opened from the certified case's
schedule (by the planner or the scheme manager, or by ``flask iris tick`` when due), taken
through the same fieldwork pages, and decided with their effect on the certificate."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import time_machine
from babel.dates import format_date

from iris.audits.models import CertificationCase
from iris.certificates.models import Certificate
from iris.core.dates import add_months
from iris.core.history import history
from tests.core.workflow_world import world  # noqa: F401  (fixture)
from tests.helpers import text_of
from workflows.certificate import CertificateState
from workflows.certification import AuditType, CaseState


def as_user(client, user):
    client.logout()
    client.login(user)


def audit(case, rest=""):
    return f"/audit/cases/{case.public_id}{rest}"


def step(client, case, trigger, **data):
    return client.post(audit(case, f"/steps/{trigger}"), data, form_url=audit(case))


def test_a_surveillance_audit_starts_from_the_certified_case_and_keeps_the_certificate(
    world,  # noqa: F811
    client,
    db_session,
):
    out = world.journey()
    case, cert = out["case"], out["certificate"]
    db_session.commit()
    due = add_months(case.decided_at, 12).date()
    assert cert.next_surveillance_due == due

    # the planner sees the schedule on the certified case, and the button
    as_user(client, world.planner)
    page = client.get(f"/cases/{case.public_id}")
    text = text_of(page)
    assert f"Audit schedule of certificate {cert.number}" in text
    assert f"Next surveillance due {format_date(due, locale='en')}" in text  # Nov 21, 2027
    assert "Start surveillance audit" in text
    # nobody else of the agency or the team gets the button
    as_user(client, world.lead)
    assert "Start surveillance audit" not in text_of(client.get(f"/cases/{case.public_id}"))
    refused = client.post(
        f"/cases/{case.public_id}/followup", {"audit_type": "surveillance"},
        form_url=f"/cases/{case.public_id}",
    )  # fmt: skip
    assert refused.status_code == 403

    as_user(client, world.planner)
    resp = client.post(
        f"/cases/{case.public_id}/followup", {"audit_type": "surveillance"},
        form_url=f"/cases/{case.public_id}",
    )  # fmt: skip
    assert resp.status_code == 302
    new = db_session.scalar(
        sa.select(CertificationCase).where(CertificationCase.audit_type == AuditType.SURVEILLANCE)
    )
    assert resp.headers["Location"].endswith(audit(new, "/team"))
    assert new.state is CaseState.TEAM_PENDING and new.audit_company_id == world.company.id
    assert new.application_id is None
    # one audit at a time
    again = client.post(
        f"/cases/{case.public_id}/followup", {"audit_type": "special"},
        form_url=f"/cases/{case.public_id}",
    )  # fmt: skip
    assert again.status_code == 409
    assert "The agency already has a certification case in progress." in text_of(again)

    # the same pages: team, declarations, on-site audit (no stage 1), recommendation
    resp = client.post(audit(new, "/team"), {"lead": world.lead.id, "members": [world.auditor.id]})
    assert resp.status_code == 302, text_of(resp)[:500]
    for member in (world.auditor, world.lead):
        as_user(client, member)
        assert client.post(audit(new, "/declaration"), {"confirm": "y"}).status_code == 302
    page = text_of(client.get(audit(new)))
    assert "This audit has no self-assessment (a follow-up audit)." in page
    assert "Start stage 1" not in page
    assert step(client, new, "start_onsite").status_code == 302
    db_session.refresh(new)
    assert new.state is CaseState.STAGE2
    world.fieldwork_done(new)  # ratings, a visit and the interview sample (tested page by page)
    db_session.commit()
    resp = step(client, new, "recommend", recommendation="grant", reason="Still conforms.")
    assert resp.status_code == 302, text_of(resp)[:500]
    as_user(client, world.tech)
    assert step(client, new, "review").status_code == 302
    as_user(client, world.decider)
    assert step(client, new, "grant", reason="Maintained.").status_code == 302

    db_session.refresh(new)
    db_session.refresh(cert)
    assert new.state is CaseState.CERTIFIED
    assert cert.state is CertificateState.ACTIVE  # kept: the same certificate, no new one
    assert db_session.scalar(sa.select(sa.func.count(Certificate.id))) == 1
    assert cert.last_surveillance_at is not None
    assert cert.next_surveillance_due == add_months(new.decided_at, 12).date()


def test_a_refused_surveillance_suspends_the_certificate_and_a_special_grant_restores_it(
    world,  # noqa: F811
    client,
    db_session,
):
    case = world.case(CaseState.DECISION_PENDING, audit_type=AuditType.SURVEILLANCE)
    case.recommendation = "refuse"
    cert = db_session.scalar(
        sa.select(Certificate).where(Certificate.state == CertificateState.ACTIVE)
    )
    db_session.commit()
    as_user(client, world.decider)
    resp = step(client, case, "refuse", reason="Workers still pay for medical checks.")
    assert resp.status_code == 302, text_of(resp)[:500]
    db_session.refresh(cert)
    assert cert.state is CertificateState.SUSPENDED
    assert cert.suspension_reason_code == "surveillance_refused_or_overdue"
    last = history(db_session, "certificate", cert.id)[-1]
    assert (last.trigger, last.actor_id) == ("suspend", world.decider.id)

    # a special audit (started from the certified case's page) shows the cause resolved
    special = world.case(CaseState.DECISION_PENDING, audit_type=AuditType.SPECIAL)
    db_session.execute(
        sa.update(Certificate).where(Certificate.id != cert.id).values(state="cancelled")
    )
    db_session.commit()
    resp = step(client, special, "grant", reason="Refunds verified.")
    assert resp.status_code == 302, text_of(resp)[:500]
    db_session.refresh(cert)
    assert cert.state is CertificateState.ACTIVE and cert.suspended_at is None


def test_a_recertification_grant_supersedes_the_certificate(world, client, db_session):  # noqa: F811
    case = world.case(CaseState.DECISION_PENDING, audit_type=AuditType.RECERTIFICATION)
    old = db_session.scalar(sa.select(Certificate).where(Certificate.state == "active"))
    db_session.commit()
    as_user(client, world.decider)
    resp = step(client, case, "grant", reason="Recertified.")
    assert resp.status_code == 302, text_of(resp)[:500]
    db_session.refresh(old)
    new = case.issued_certificate
    assert old.state is CertificateState.SUPERSEDED
    assert new is not None and new.state is CertificateState.ACTIVE and new.replaces_id == old.id
    assert new.number != old.number
    # the new certificate's schedule starts again from this decision
    assert new.next_surveillance_due == add_months(case.decided_at, 12).date()


def test_tick_opens_the_surveillance_audit_when_due_and_only_once(
    world,  # noqa: F811
    db_session,
    runner,
):
    with time_machine.travel(world.now, tick=False):
        out = world.journey()
    cert = out["certificate"]
    db_session.commit()
    due = cert.next_surveillance_due

    def followups():
        return db_session.scalars(
            sa.select(CertificationCase).where(CertificationCase.audit_type != AuditType.INITIAL)
        ).all()

    result = runner.invoke(args=["iris", "tick", "--at", f"{due - timedelta(days=1)}T12:00"])
    assert result.exit_code == 0, result.output
    assert followups() == []

    result = runner.invoke(args=["iris", "tick", "--at", f"{due}T06:00"])
    assert result.exit_code == 0, result.output
    (opened,) = followups()
    assert opened.audit_type is AuditType.SURVEILLANCE and opened.state is CaseState.TEAM_PENDING
    first = history(db_session, "certification", opened.id)[0]
    assert (first.trigger, first.actor_role) == ("open_scheduled", "system")
    # the planner finds it in the queue
    # idempotent, and not reopened for the same due date once it ended
    runner.invoke(args=["iris", "tick", "--at", f"{due}T07:00"])
    opened.state = CaseState.CLOSED_NOT_CERTIFIED  # set-up: it ended without a decision
    db_session.commit()
    runner.invoke(args=["iris", "tick", "--at", f"{due + timedelta(days=2)}T07:00"])
    assert len(followups()) == 1


def test_tick_opens_the_recertification_before_expiry(world, db_session, runner):  # noqa: F811
    cert = world.certificate(CertificateState.ACTIVE)
    cert.next_surveillance_due = (world.now + timedelta(days=400)).date()
    cert.expires_at = world.now + timedelta(days=150)  # within the 6-month lead
    db_session.commit()
    result = runner.invoke(args=["iris", "tick"])
    assert result.exit_code == 0, result.output
    opened = db_session.scalar(
        sa.select(CertificationCase).where(CertificationCase.audit_type != AuditType.INITIAL)
    )
    assert opened is not None and opened.audit_type is AuditType.RECERTIFICATION
