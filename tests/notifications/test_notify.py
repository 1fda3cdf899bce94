"""Who is told about what: mail to the people concerned, subscribers, signed webhooks."""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from iris.core.db import db, utcnow
from iris.core.mail import OutboxMessage
from iris.core.outbox import OutboxStatus
from iris.notifications import operations as ops
from iris.notifications.models import Subscription, WebhookDelivery, verify_signature
from tests.helpers import text_of
from workflows.certificate import CertificateState
from workflows.certification import CaseState
from workflows.roles import Role


def _subscriber(cert, email: str, *, confirmed=True, left=False) -> Subscription:  # type: ignore[no-untyped-def]
    sub = Subscription(
        certificate_id=cert.id,
        email=email,
        locale="en",
        confirmed_at=utcnow() if confirmed else None,
        unsubscribed_at=utcnow() if left else None,
    )
    db.session.add(sub)
    db.session.flush()
    return sub


def _link(mail: OutboxMessage, part: str) -> str:
    m = re.search(rf"https?://\S*{part}\S*", mail.body)
    assert m, mail.body
    return m.group(0).replace("http://localhost", "")


def test_a_suspension_reaches_the_agency_and_confirmed_followers_once(world, outbox):
    cert = world.certificate(CertificateState.SUSPENDED)
    _subscriber(cert, "follows@employer.example.com")
    _subscriber(cert, "never-confirmed@employer.example.com", confirmed=False)
    _subscriber(cert, "left@employer.example.com", left=True)

    ops.notify("certificate_suspended", cert, reason="Unresolved major finding")
    ops.notify("certificate_suspended", cert, reason="Unresolved major finding")  # retried

    to = sorted(m.to_address for m in outbox())
    assert to == sorted([world.agency_admin.email, "follows@employer.example.com"])
    [employer] = outbox("follows@employer.example.com")
    assert employer.subject == f"Certificate {cert.number} suspended"
    assert "Reason: Unresolved major finding" in employer.body
    assert "Agencja Pracy Łódź" in employer.body
    assert "/subscriptions/unsubscribe/" in employer.body
    [agency] = outbox(world.agency_admin.email)
    assert "unsubscribe" not in agency.body
    assert agency.body.startswith(f"Hello {world.agency_admin.name},")


def test_a_new_state_change_is_a_new_occurrence(world, outbox):
    cert = world.certificate(CertificateState.ACTIVE)
    ops.notify("certificate_suspended", cert)
    cert.version += 1  # what fire() does on every change
    db.session.flush()
    ops.notify("certificate_suspended", cert)
    assert len(outbox(world.agency_admin.email)) == 2


def test_team_assignment_tells_the_agency_and_the_team(world, outbox):
    case = world.case(CaseState.AUDIT_PLANNED)
    ops.notify("team_assigned", case)
    assert {m.to_address for m in outbox()} == {
        world.agency_admin.email,
        world.lead.email,
        world.auditor.email,
    }


def test_every_event_renders_in_english_with_a_subject(world, outbox):
    cert = world.certificate(CertificateState.ACTIVE, next_surveillance_due=utcnow().date())
    case = world.case(CaseState.FINDINGS_ISSUED)
    finding = case.findings[0]
    from workflows.application import ApplicationState

    application = world.application(ApplicationState.SUBMITTED)
    subjects = {"certificate": cert, "case": case, "finding": finding, "app": application}
    kinds = {
        "application": "app",
        "team": "case",
        "request": "case",
        "findings": "case",
        "corrective": "finding",
        "decision": "case",
        "certificate": "certificate",
        "surveillance": "certificate",
    }
    for event in ops.EVENTS:
        subject = subjects[kinds[event.split("_")[0]]]
        result = ops.notify(
            event,
            subject,
            key=f"render-{event}",
            reason="R",
            days=30,
            outcome="granted",
            question="Q?",
            due=date(2030, 1, 1),
        )
        assert result.mails, event
        for mail in result.mails:
            assert mail.subject and "{{" not in mail.subject + mail.body, event
            assert mail.body.rstrip().endswith("-- IRIS Certify"), event


def test_an_employer_follows_a_certificate_confirms_and_leaves(client, world, outbox):
    cert = world.certificate(CertificateState.ACTIVE)
    page = client.get(f"/certificates/{cert.number}/subscribe")
    assert page.status_code == 200 and "Follow certificate" in text_of(page)
    resp = client.post(
        f"/certificates/{cert.number}/subscribe", {"email": "HR@Employer.example.com"}
    )
    assert "Check your e-mail" in text_of(resp)
    [confirm_mail] = outbox("hr@employer.example.com")
    ops.notify("certificate_suspended", cert)  # not yet confirmed: nothing
    assert len(outbox("hr@employer.example.com")) == 1

    url = _link(confirm_mail, "/subscriptions/confirm/")
    assert "Confirm" in text_of(client.get(url))
    assert "Subscription confirmed" in text_of(client.post(url, {}))
    cert.version += 1
    db.session.flush()
    ops.notify("certificate_withdrawn", cert, reason="Critical breach")
    [_, withdrawn] = outbox("hr@employer.example.com")
    assert withdrawn.subject == f"Certificate {cert.number} withdrawn"

    leave = _link(withdrawn, "/subscriptions/unsubscribe/")
    assert "Subscription ended" in text_of(client.post(leave, {}))
    cert.version += 1
    db.session.flush()
    ops.notify("certificate_restored", cert)
    assert len(outbox("hr@employer.example.com")) == 2


def test_subscribing_pages_refuse_what_does_not_exist(client, world):
    assert client.get("/certificates/IRIS-XX-0000-0000000/subscribe").status_code == 404
    resp = client.get("/subscriptions/confirm/not-a-token")
    assert resp.status_code == 400 and "not valid" in text_of(resp)
    resp = client.post(
        f"/certificates/{world.certificate(CertificateState.ACTIVE).number}/subscribe",
        {"email": "not an address"},
    )
    assert resp.status_code == 200 and "Invalid email address" in text_of(resp)


def test_webhooks_are_signed_carry_public_facts_and_retry(
    client, login_as, world, receiver, db_session
):
    login_as(Role.SCHEME_ADMIN)
    resp = client.post(
        "/admin/webhooks",
        {"name": "Employer HR system", "url": receiver.url, "events": ["certificate_suspended"]},
    )
    page = text_of(resp)
    secret = re.search(r"whsec_\S+", page)
    assert secret, page
    assert "Employer HR system" in page

    cert = world.certificate(CertificateState.SUSPENDED)
    ops.notify("certificate_suspended", cert)
    ops.notify("certificate_issued", cert)  # not one of the events it asked for
    receiver.status = 503
    db.session.commit()  # after the commit the delivery runs (inline: no Redis here)
    assert len(receiver.calls) == 1  # tried once, refused
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    db.session.refresh(delivery)
    assert delivery.status is OutboxStatus.PENDING and "503" in delivery.last_error

    receiver.status = 204
    later = utcnow() + timedelta(hours=1)
    import time_machine

    with time_machine.travel(later, tick=False):
        assert ops.deliver_webhooks() == 1
        assert ops.deliver_webhooks() == 0
    first, second = receiver.calls
    assert first["body"] == second["body"]  # the same event, byte for byte
    headers = second["headers"]
    assert headers["X-Iris-Event"] == "certificate_suspended"
    assert verify_signature(
        secret.group(0), headers["X-Iris-Timestamp"], second["body"], headers["X-Iris-Signature"]
    )
    assert not verify_signature(
        "whsec_wrong", headers["X-Iris-Timestamp"], second["body"], headers["X-Iris-Signature"]
    )
    data = second["json"]["data"]
    assert data["number"] == cert.number and data["status"] == "suspended"
    assert data["holder"] == {"name": "Agencja Pracy Łódź", "country": world.agency.country}
    assert "@" not in second["body"].decode()  # no personal data
    assert second["json"]["id"] == headers["X-Iris-Delivery"]


def test_webhook_admin_is_for_scheme_admins_only(client, login_as, world):
    login_as(Role.AGENCY_ADMIN, world.agency)
    assert client.get("/admin/webhooks").status_code == 403


def test_a_deactivated_endpoint_gets_nothing(client, login_as, world, receiver):
    admin = login_as(Role.SCHEME_ADMIN)
    endpoint = ops.create_webhook_endpoint(actor=admin, name="Old", url=receiver.url, events=[])
    db.session.commit()
    resp = client.post(
        f"/admin/webhooks/{endpoint.public_id}/deactivate", {}, form_url="/admin/webhooks"
    )
    assert "receives no more events" in text_of(client.get(resp.headers["Location"]))
    ops.notify("certificate_issued", world.certificate(CertificateState.ACTIVE))
    db.session.commit()
    assert receiver.calls == []


def test_reminders_are_sent_once_per_date(world, outbox, app):
    now = utcnow()
    cert = world.certificate(
        CertificateState.ACTIVE,
        expires_at=now + timedelta(days=80),
        next_surveillance_due=(now + timedelta(days=20)).date(),
    )
    case = world.case(CaseState.FINDINGS_ISSUED, findings="none")
    from iris.audits.models import Finding, FindingGrade

    due_soon = Finding(
        case=case,
        criterion="C.1",
        grade=FindingGrade.MAJOR,
        statement="s",
        due_at=now + timedelta(days=10),
    )
    overdue = Finding(
        case=case,
        criterion="E.1",
        grade=FindingGrade.MINOR,
        statement="s",
        due_at=now - timedelta(days=1),
    )
    db.session.add_all([due_soon, overdue])
    db.session.flush()

    ops.on_tick(now)
    subjects = sorted(m.subject for m in outbox(world.agency_admin.email))
    assert any(s.startswith(f"Certificate {cert.number} expires on") for s in subjects)
    assert any(s.startswith("Surveillance audit due") for s in subjects)
    assert any(s.startswith("Corrective action due on") for s in subjects)
    assert any(s.startswith("Corrective action overdue since") for s in subjects)
    before = len(outbox())
    ops.on_tick(now + timedelta(hours=6))
    assert len(outbox()) == before  # the same day: nothing new

    ops.on_tick(now + timedelta(days=55))  # 25 days before expiry: the 30-day notice
    expiring = [m for m in outbox(world.agency_admin.email) if "expires on" in m.subject]
    assert len(expiring) == 2
    assert "in about 30 days" in expiring[-1].body


def test_a_suspension_finds_everyone_it_tells_in_one_statement(world, outbox, db_session, make):
    """Inside the step: the agency's administrators, the confirmed followers and the webhook
    endpoints that want the event are looked up together: one statement on SQLite, none of
    its own on PostgreSQL (the engine's lock of the certificate reads them)."""
    from iris.certificates.models import Certificate
    from iris.core.workflow import fire

    cert = world.certificate(CertificateState.ACTIVE)
    _subscriber(cert, "follows@employer.example.com")
    _subscriber(cert, "left@employer.example.com", left=True)
    # another agency's certificate, administrator and follower: told nothing
    other_agency = make.agency(complete=True, name="Other Agency")
    make.user_with_role(Role.AGENCY_ADMIN, other_agency, email="admin@other.example.com")
    other = Certificate(
        number="IRIS-PL-2026-999999", agency_id=other_agency.id,
        audit_company_id=world.company.id, case_id=cert.case_id,
        state=CertificateState.ACTIVE, issued_at=world.now, expires_at=cert.expires_at,
    )  # fmt: skip
    db.session.add(other)
    db.session.flush()
    _subscriber(other, "follows-other@employer.example.com")
    wanted = ops.create_webhook_endpoint(
        actor=world.scheme_admin, name="HR", url="https://hr.example.com/hooks", events=[]
    )
    ops.create_webhook_endpoint(
        actor=world.scheme_admin, name="Issues only", url="https://b.example.com/hooks",
        events=["certificate_issued"],
    )  # fmt: skip
    off = ops.create_webhook_endpoint(
        actor=world.scheme_admin, name="Off", url="https://c.example.com/hooks", events=[]
    )
    off.is_active = False
    db.session.commit()  # a page loads the certificate in a new transaction
    cert = db.session.get(Certificate, cert.id)
    decider = db.session.merge(world.decider)
    version_before = cert.version

    seen: list[str] = []

    def count(_conn, _cur, statement, *_args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        fire(cert, "suspend", decider, reason="Audit refused.", reason_code="voluntary")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)

    lookups = [s for s in seen if s.lstrip().startswith("SELECT") and "subscriptions" in s]
    assert len(lookups) == 1, lookups
    if db.engine.dialect.name == "postgresql":
        assert "FOR UPDATE" in lookups[0]  # read with the certificate's lock
    for part in ("users.email", "webhook_endpoints"):
        assert part in lookups[0]
    to = sorted(m.to_address for m in outbox())
    assert to == sorted([world.agency_admin.email, "follows@employer.example.com"])
    deliveries = db.session.scalars(sa.select(WebhookDelivery)).all()
    assert [(d.endpoint_id, d.event) for d in deliveries] == [(wanted.id, "certificate_suspended")]
    # the mails and the webhook call are queued without a flush of their own: the step
    # writes its certificate once and patches its registry entry once (it was twice: the
    # first mail's flush wrote the state before the step's record existed)
    writes = [s.split(" SET ")[0].strip() for s in seen if s.lstrip().startswith("UPDATE")]
    assert writes.count("UPDATE certificates") == 1, writes
    assert writes.count("UPDATE registry_entries") == 1, writes
    assert cert.version == version_before + 1
