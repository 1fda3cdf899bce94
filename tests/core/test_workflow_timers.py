"""Time-based transitions, fired by ``flask iris tick`` through the engine, with frozen time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine

from iris.core.dates import add_months
from iris.core.history import TransitionRecord, history, verify_chains
from iris.core.workflow import SYSTEM, fire, tick
from tests.core.workflow_world import world  # noqa: F401  (fixture)
from workflows.application import ApplicationState
from workflows.certificate import CertificateState
from workflows.certification import CaseState

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _deferred(world, db_session):  # noqa: F811
    app = world.application(ApplicationState.UNDER_REVIEW)
    fire(app, "defer", world.reviewer, reason="Licence unclear",
         requested_items=["A current KRAZ extract"])  # fmt: skip
    return app


def test_a_deferred_application_lapses_60_days_later_once(world, db_session, runner):  # noqa: F811
    with time_machine.travel(START, tick=False):
        app = _deferred(world, db_session)
        assert app.deferral_due_at == START + timedelta(days=60)

    with time_machine.travel(START + timedelta(days=59), tick=False):
        result = runner.invoke(args=["iris", "tick"])
        assert result.exit_code == 0, result.output
        assert "0 time-based transition(s) fired" in result.output
        assert app.state is ApplicationState.DEFERRED

    with time_machine.travel(START + timedelta(days=60, minutes=1), tick=False):
        result = runner.invoke(args=["iris", "tick"])
        assert result.exit_code == 0, result.output
        assert f"application #{app.id}: lapse" in result.output
        assert "1 time-based transition(s) fired" in result.output
        db_session.refresh(app)
        assert app.state is ApplicationState.LAPSED
        again = runner.invoke(args=["iris", "tick"])
        assert "0 time-based transition(s) fired" in again.output

    last = history(db_session, "application", app.id)[-1]
    assert (last.trigger, last.actor_id, last.actor_role) == ("lapse", None, "system")
    assert last.at == START + timedelta(days=60, minutes=1)
    assert verify_chains(db_session).ok


def test_answering_in_time_beats_the_timer(world, db_session):  # noqa: F811
    with time_machine.travel(START, tick=False):
        app = _deferred(world, db_session)
    with time_machine.travel(START + timedelta(days=30), tick=False):
        app.requested_items = [{"text": "A current KRAZ extract", "answer": "Attached, 2026-03-30"}]
        fire(app, "resubmit", world.agency_admin)
    assert tick(START + timedelta(days=61)).fired == []
    assert app.state is ApplicationState.UNDER_REVIEW


def test_tick_at_a_given_moment_and_a_bad_moment(world, db_session, runner):  # noqa: F811
    app = _deferred(world, db_session)
    when = (app.deferral_due_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert "1 time-based" in runner.invoke(args=["iris", "tick", "--at", when]).output
    bad = runner.invoke(args=["iris", "tick", "--at", "next tuesday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


def test_overdue_corrective_actions_close_the_case(world, db_session):  # noqa: F811
    case = world.case(CaseState.FINDINGS_ISSUED, findings="open")
    other = world.case(CaseState.CAP_SUBMITTED)
    other.cap_due_at = case.cap_due_at + timedelta(days=10)
    db_session.flush()
    first = tick(case.cap_due_at + timedelta(seconds=1))
    assert first.fired == [("certification", case.id, "close_overdue")]
    assert case.state is CaseState.CLOSED_NOT_CERTIFIED
    assert other.state is CaseState.CAP_SUBMITTED
    later = tick(other.cap_due_at + timedelta(seconds=1))
    assert later.fired == [("certification", other.id, "close_overdue")]


def test_certificates_expire_and_overdue_suspensions_end_in_withdrawal(world, db_session):  # noqa: F811
    active = world.certificate(CertificateState.ACTIVE)
    suspended = world.certificate(CertificateState.SUSPENDED)
    assert tick(suspended.suspension_ends_at - timedelta(seconds=1)).fired == []
    done = tick(suspended.suspension_ends_at + timedelta(seconds=1))
    assert done.fired == [("certificate", suspended.id, "withdraw_overdue_suspension")]
    assert suspended.state is CertificateState.WITHDRAWN
    assert suspended.withdrawn_at == suspended.suspension_ends_at + timedelta(seconds=1)
    assert active.state is CertificateState.ACTIVE

    moment = active.expires_at + timedelta(seconds=1)
    assert tick(moment).fired == [("certificate", active.id, "expire")]
    assert active.state is CertificateState.EXPIRED
    assert tick(moment).fired == []  # idempotent
    count = db_session.scalar(sa.select(sa.func.count()).select_from(TransitionRecord))
    assert count == 2


def test_a_timer_step_cannot_be_fired_early_even_by_the_system(world, db_session):  # noqa: F811
    import pytest

    from iris.core.workflow import TransitionNotAllowed

    cert = world.certificate(CertificateState.ACTIVE)
    with pytest.raises(TransitionNotAllowed, match="has not expired yet"):
        fire(cert, "expire", SYSTEM, now=cert.expires_at - timedelta(days=1))
    assert cert.state is CertificateState.ACTIVE


def test_surveillance_is_due_the_configured_interval_after_the_decision(world, db_session, app):  # noqa: F811
    with time_machine.travel(START, tick=False):
        world.now = START
        cert = world.journey()["certificate"]
    assert cert.issued_at == START
    assert cert.next_surveillance_due == add_months(START, 12).date()
    assert cert.expires_at == START.replace(year=2029)

    app.config["IRIS_SURVEILLANCE_MONTHS"] = 6
    try:
        with time_machine.travel(START, tick=False):
            world.now = START
            second = world.journey()["certificate"]
    finally:
        app.config["IRIS_SURVEILLANCE_MONTHS"] = 12
    assert second.next_surveillance_due == add_months(START, 6).date()
