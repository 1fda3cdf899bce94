"""The lifecycle events reach the right people once, in their own language, from the step
that caused them (the outbox row is written in the step's transaction)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from flask_babel import force_locale, format_date, gettext

from iris.core.db import db, utcnow
from iris.core.workflow import fire
from iris.notifications.models import Subscription
from workflows.application import ApplicationState
from workflows.certificate import CertificateState
from workflows.certification import CaseState


def _in(locale: str, text: str, **kw: object) -> str:
    with force_locale(locale):
        return gettext(text, **kw)


def _long(locale: str, day: date) -> str:
    with force_locale(locale):
        return format_date(day, "long")


def _sent(outbox) -> Counter:  # type: ignore[no-untyped-def]
    """(event, recipient) -> how many mails: the event is the first part of the key."""
    return Counter((m.idempotency_key.split(":")[0], m.to_address) for m in outbox())


def _mail(outbox, event: str, to: str):  # type: ignore[no-untyped-def]
    [mail] = [m for m in outbox(to) if m.idempotency_key.startswith(event + ":")]
    return mail


@pytest.fixture
def polish(world, db_session):  # type: ignore[no-untyped-def]
    """The agency's administrator reads IRIS Certify in Polish."""
    world.agency_admin.locale = "pl"
    db_session.flush()
    return world.agency_admin


def test_polish_dates_differ_from_english_ones(app):
    # what the locale checks below rely on, whatever the .po files hold
    day = date(2027, 3, 9)
    with app.app_context():
        assert _long("pl", day) != _long("en", day) == "March 9, 2027"


def test_a_journey_tells_each_person_once_in_their_language(world, polish, outbox):
    out = world.journey("certified")
    app, case, cert = out["application"], out["case"], out["certificate"]
    admin, lead, auditor = polish.email, world.lead.email, world.auditor.email
    assert _sent(outbox) == {
        ("application_received", admin): 1,
        ("application_accepted", admin): 1,
        ("team_assigned", admin): 1,
        ("team_assigned", lead): 1,
        ("team_assigned", auditor): 1,
        ("findings_issued", admin): 1,
        ("findings_issued", lead): 1,
        ("findings_issued", auditor): 1,
        ("decision", admin): 1,
        ("decision", lead): 1,
        ("decision", auditor): 1,
        ("certificate_issued", admin): 1,
    }
    agency = world.agency.name
    received = _mail(outbox, "application_received", admin)
    assert received.locale == "pl"
    assert received.subject == _in("pl", "Application received: %(agency)s", agency=agency)
    assert f"/applications/{app.public_id}" in received.body
    assert received.body.startswith(_in("pl", "Hello %(name)s,", name=polish.name))

    # the corrective-action deadline, written for each reader
    due = case.cap_due_at.date()
    pl_findings = _mail(outbox, "findings_issued", admin)
    en_findings = _mail(outbox, "findings_issued", lead)
    assert (pl_findings.locale, en_findings.locale) == ("pl", "en")
    assert _long("pl", due) in pl_findings.body and _long("en", due) not in pl_findings.body
    assert _long("en", due) in en_findings.body
    assert f"/cases/{case.public_id}" in en_findings.body

    decision = _mail(outbox, "decision", admin)
    assert _in("pl", "certification granted") in decision.body
    issued = _mail(outbox, "certificate_issued", admin)
    assert issued.subject == _in(
        "pl", "Certificate %(n)s issued to %(agency)s", n=cert.number, agency=agency
    )
    assert _long("pl", cert.expires_at.date()) in issued.body
    assert f"/verify/{cert.number}" in issued.body


def test_deferral_and_rejection_say_what_and_why(world, polish, outbox):
    deferred = world.application(ApplicationState.UNDER_REVIEW)
    fire(deferred, "defer", world.reviewer, reason="The licence is unclear.",
         requested_items=["A current KRAZ extract", "The sub-agent contract"])  # fmt: skip
    mail = _mail(outbox, "application_deferred", polish.email)
    assert "- A current KRAZ extract\n- The sub-agent contract" in mail.body
    assert "The licence is unclear." in mail.body
    assert _long("pl", deferred.deferral_due_at.date()) in mail.body

    rejected = world.application(ApplicationState.UNDER_REVIEW)
    fire(rejected, "reject", world.reviewer, reason_code="no_valid_licence",
         reason="The KRAZ entry was deleted in 2025.")  # fmt: skip
    mail = _mail(outbox, "application_rejected", polish.email)
    assert _in("pl", "No valid licence for recruitment") in mail.body
    assert "The KRAZ entry was deleted in 2025." in mail.body
    assert _sent(outbox) == {
        ("application_deferred", polish.email): 1,
        ("application_rejected", polish.email): 1,
    }


def test_certificate_changes_reach_the_agency_and_confirmed_followers(world, outbox):
    cert = world.certificate(CertificateState.ACTIVE)
    db.session.add_all([
        Subscription(certificate_id=cert.id, email="hr@employer.example.com", locale="uk",
                     confirmed_at=utcnow()),
        Subscription(certificate_id=cert.id, email="maybe@employer.example.com", locale="en"),
    ])  # fmt: skip
    db.session.flush()
    fire(cert, "suspend", world.decider, reason_code="misuse_of_mark",
         reason="The mark was used on a job board for another company.")  # fmt: skip
    fire(cert, "restore", world.decider, reason="The job board listing was removed.")
    fire(cert, "withdraw", world.decider, reason="Workers paid visa fees (critical).")
    admin, hr = world.agency_admin.email, "hr@employer.example.com"
    assert _sent(outbox) == {
        (event, to): 1
        for event in ("certificate_suspended", "certificate_restored", "certificate_withdrawn")
        for to in (admin, hr)
    }
    suspended = _mail(outbox, "certificate_suspended", hr)
    assert suspended.locale == "uk"
    assert suspended.subject == _in("uk", "Certificate %(n)s suspended", n=cert.number)
    assert _in("uk", "Misuse of the certification mark") in suspended.body
    assert "/subscriptions/unsubscribe/" in suspended.body
    assert "Workers paid visa fees" in _mail(outbox, "certificate_withdrawn", admin).body


def test_a_step_rolled_back_leaves_no_mail(world, outbox, db_session):
    app = world.application(ApplicationState.UNDER_REVIEW)
    with pytest.raises(RuntimeError), db_session.begin_nested():
        fire(app, "reject", world.reviewer, reason_code="other", reason="Out of scope.")
        assert len(outbox()) == 1  # written in the step's own transaction ...
        raise RuntimeError("the request failed later")
    assert outbox() == []  # ... and gone with it


def test_a_question_from_the_auditor_reaches_the_agency_once(world, polish, outbox):
    from iris.fieldwork import operations as fieldwork

    case = world.journey("findings_issued")["case"]
    before = len(outbox())
    fieldwork.ask_information(case, actor=world.lead, answer_key="C01",
                              body="Who paid the medical examinations in 2025?")  # fmt: skip
    fieldwork.ask_information(case, actor=world.lead, answer_key="C01",
                              body="And the travel to the consulate?")  # fmt: skip
    asked = [m for m in outbox()[before:]]
    assert [m.to_address for m in asked] == [polish.email, polish.email]
    first = asked[0]
    assert first.subject == _in(
        "pl", "Request for information: %(agency)s", agency=world.agency.name
    )
    assert "Who paid the medical examinations in 2025?" in first.body
    assert f"/audit/cases/{case.public_id}/answers/C01" in first.body


def test_tick_reminds_once_per_date_and_a_rerun_sends_nothing(world, polish, outbox, runner):
    from iris.audits.models import Finding, FindingGrade

    now = utcnow().replace(microsecond=0)
    cert = world.certificate(
        CertificateState.ACTIVE,
        expires_at=now + timedelta(days=80),
        next_surveillance_due=(now + timedelta(days=20)).date(),
    )
    lapsing = world.certificate(
        CertificateState.SUSPENDED, suspension_ends_at=now - timedelta(days=1)
    )
    case = world.case(CaseState.FINDINGS_ISSUED, findings="none")
    soon = Finding(case=case, criterion="C.1", grade=FindingGrade.MAJOR, statement="s",
                   due_at=now + timedelta(days=10))  # fmt: skip
    late = Finding(case=case, criterion="E.1", grade=FindingGrade.MINOR, statement="s",
                   due_at=now - timedelta(days=2))  # fmt: skip
    db.session.add_all([soon, late])
    db.session.flush()
    closed = world.case(CaseState.CLOSED_NOT_CERTIFIED, findings="none")
    drafted = world.case(CaseState.STAGE2, findings="none")
    for other in (closed, drafted):  # neither is waiting for the agency's corrective action
        db.session.add(Finding(case_id=other.id, criterion="C.1", grade=FindingGrade.MAJOR,
                               statement="s", due_at=now - timedelta(days=2)))  # fmt: skip
    db.session.flush()
    at = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    first = runner.invoke(args=["iris", "tick", "--at", at])
    assert first.exit_code == 0, first.output
    admin, lead, auditor = polish.email, world.lead.email, world.auditor.email
    planner = world.planner.email
    sent = _sent(outbox)
    assert sent == {
        ("certificate_withdrawn", admin): 1,  # the suspension limit passed: the timer step
        ("certificate_expiring", admin): 1,
        ("surveillance_due", admin): 1,
        ("surveillance_due", planner): 1,
        ("corrective_action_due", admin): 1,
        ("corrective_action_due", lead): 1,
        ("corrective_action_due", auditor): 1,
        ("corrective_action_overdue", admin): 1,
        ("corrective_action_overdue", lead): 1,
        ("corrective_action_overdue", auditor): 1,
    }
    assert f"{len(outbox()) - 1} reminder(s) queued." in first.output
    assert lapsing.state is CertificateState.WITHDRAWN

    again = runner.invoke(args=["iris", "tick", "--at", at])
    assert again.exit_code == 0, again.output
    assert "0 time-based transition(s) fired" in again.output
    assert "0 reminder(s) queued." in again.output
    assert _sent(outbox) == sent

    expiring = _mail(outbox, "certificate_expiring", admin)
    assert expiring.subject == _in(
        "pl",
        "Certificate %(n)s expires on %(date)s",
        n=cert.number,
        date=_long("pl", cert.expires_at.date()),
    )
    due = _mail(outbox, "corrective_action_due", lead)
    assert due.subject == _in("en", "Corrective action due on %(date)s",
                              date=_long("en", soon.due_at.date()))  # fmt: skip
    assert f"/audit/findings/{soon.public_id}/corrective-action" in due.body
    overdue = _mail(outbox, "corrective_action_overdue", admin)
    assert _long("pl", late.due_at.date()) in overdue.subject


def test_a_refusal_tells_the_agency_and_the_team_with_the_rationale(world, polish, outbox):
    case = world.case(CaseState.DECISION_PENDING)
    fire(case, "refuse", world.decider, reason="Workers still pay the sub-agent's fees.")
    assert _sent(outbox) == {
        ("decision", polish.email): 1,
        ("decision", world.lead.email): 1,
        ("decision", world.auditor.email): 1,
    }
    mail = _mail(outbox, "decision", polish.email)
    assert mail.subject == _in(
        "pl", "Certification decision for %(agency)s", agency=world.agency.name
    )
    assert _in("pl", "certification refused") in mail.body
    assert "Workers still pay the sub-agent's fees." in mail.body
    assert f"/cases/{case.public_id}" in mail.body
    assert world.tech.email not in {m.to_address for m in outbox()}  # not on the team
