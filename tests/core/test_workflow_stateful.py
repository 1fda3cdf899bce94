"""Random sequences of steps by random actors at advancing moments, checked after each step.

Invariants: every state is a member of its enum; each change has exactly one record and a
refused step writes none; every chain verifies; a certificate is active only if a grant
issued it and no later suspension, withdrawal or expiry stands.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from iris.certificates.models import Certificate
from iris.core.history import TransitionRecord, history, verify_chains
from iris.core.workflow import WorkflowError, fire
from tests.core.workflow_world import World, world  # noqa: F401  (fixture)
from workflows.application import ApplicationState
from workflows.base import row_for, triggers_from
from workflows.certificate import CertificateState
from workflows.certification import CaseState
from workflows.complaint import ComplaintState
from workflows.lifecycles import LIFECYCLES
from workflows.roles import Role

ACTORS = [
    Role.AGENCY_ADMIN, Role.APPLICATION_REVIEWER, Role.SCHEME_ADMIN, Role.PLANNER,
    Role.LEAD_AUDITOR, Role.AUDITOR, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER,
    Role.SYSTEM, Role.PUBLIC,
]  # fmt: skip
ENDS_ACTIVE = {"issue", "restore"}
ENDS_OTHER = {"suspend", "withdraw", "withdraw_overdue_suspension", "expire", "supersede", "cancel"}


def _count(session: Any, subject: Any) -> int:
    return session.scalar(
        sa.select(sa.func.count()).where(
            TransitionRecord.subject_type == subject.__workflow__,
            TransitionRecord.subject_id == subject.id,
        )
    )


class Lifecycles(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.session = self.world.session
        self.known = set(self.session.identity_map.keys())
        self.savepoint = self.session.begin_nested()
        self.now = self.world.now
        self.subjects: list[Any] = []
        self.changes: dict[tuple[str, int], int] = {}
        self.new_application()
        self.new_case()
        self._track(self.world.complaint(ComplaintState.RECEIVED))

    def teardown(self) -> None:
        self.savepoint.rollback()
        # each example starts from the same world: forget what this one loaded or made
        for key, obj in list(self.session.identity_map.items()):
            if key not in self.known:
                self.session.expunge(obj)

    def _track(self, subject: Any) -> None:
        self.subjects.append(subject)
        self.changes[(subject.__workflow__, subject.id)] = _count(self.session, subject)

    @rule()
    def new_application(self) -> None:
        app = self.world.application(None)
        fire(app, "create", self.world.agency_admin, now=self.now)
        self._track(app)

    @rule(state=st.sampled_from([ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW]))
    def application_in_review(self, state: ApplicationState) -> None:
        self._track(self.world.application(state))

    @rule(state=st.sampled_from([
        CaseState.TEAM_PENDING, CaseState.AUDIT_PLANNED, CaseState.STAGE2,
        CaseState.FINDINGS_ISSUED, CaseState.CAP_SUBMITTED, CaseState.DECISION_PENDING,
    ]))  # fmt: skip
    def new_case(self, state: CaseState = CaseState.DECISION_PENDING) -> None:
        self._track(self.world.case(state))

    @rule(days=st.sampled_from([0, 1, 15, 61, 95, 200, 400, 1200]))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @rule(
        pick=st.integers(min_value=0, max_value=50),
        trigger_pick=st.integers(min_value=0, max_value=50),
        role=st.sampled_from(ACTORS),
        offered=st.booleans(),
    )
    def take_a_step(self, pick: int, trigger_pick: int, role: Role, offered: bool = False) -> None:
        """Fire a step: one the table offers from the current state to one of its roles
        (``offered``), or any step of the lifecycle by anyone."""
        subject = self.subjects[pick % len(self.subjects)]
        lc = LIFECYCLES[subject.__workflow__]
        trigger = lc.triggers[trigger_pick % len(lc.triggers)]
        rows = triggers_from(lc, subject.state)
        if offered and rows:
            chosen = rows[trigger_pick % len(rows)]
            trigger = chosen.trigger
            roles = sorted(chosen.roles)
            role = roles[pick % len(roles)]
        actor = self.world.actor(role, subject)
        before = subject.state
        row = row_for(lc, before, trigger)
        inputs = self.world.inputs(row) if row else {}
        key = (subject.__workflow__, subject.id)
        savepoint = self.session.begin_nested()
        try:
            fire(subject, trigger, actor, now=self.now, **inputs)
        except WorkflowError:
            savepoint.rollback()
            assert subject.state == before
        else:
            savepoint.commit()
            assert row is not None and subject.state == row.dest
            self.changes[key] += 1
            if trigger == "grant":
                self._track(subject.issued_certificate)

    # -------------------------------------------------------------- invariants

    @invariant()
    def states_are_members_of_their_enum(self) -> None:
        for s in self.subjects:
            assert s.state in LIFECYCLES[s.__workflow__].states

    @invariant()
    def one_record_per_change(self) -> None:
        for s in self.subjects:
            assert _count(self.session, s) == self.changes[(s.__workflow__, s.id)], s

    @invariant()
    def every_chain_verifies(self) -> None:
        assert verify_chains(self.session).ok

    @invariant()
    def active_certificates_stand_on_a_grant(self) -> None:
        certs = self.session.scalars(sa.select(Certificate)).all()
        for cert in certs:
            if cert.state is not CertificateState.ACTIVE:
                continue
            case_steps = [r.trigger for r in history(self.session, "certification", cert.case_id)]
            assert "grant" in case_steps
            steps = [r.trigger for r in history(self.session, "certificate", cert.id)]
            last = [t for t in steps if t in ENDS_ACTIVE | ENDS_OTHER][-1]
            assert last in ENDS_ACTIVE, steps
            assert cert.expires_at is not None and cert.expires_at > cert.issued_at


@pytest.mark.slow
def test_random_journeys_keep_the_invariants(world):  # noqa: F811
    Lifecycles.world = world
    run_state_machine_as_test(
        Lifecycles,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_the_states_the_machine_reaches_include_grants_and_decisions(world, db_session):  # noqa: F811
    """A fixed walk through the same rules, so a regression does not hide behind luck."""
    Lifecycles.world = world
    m = Lifecycles()
    try:
        case = m.subjects[1]
        m.take_a_step(1, LIFECYCLES["certification"].triggers.index("grant"), Role.DECISION_MAKER)
        assert case.state is CaseState.CERTIFIED
        cert = m.subjects[-1]
        assert cert.state is CertificateState.ACTIVE
        triggers = LIFECYCLES["certificate"].triggers
        m.take_a_step(len(m.subjects) - 1, triggers.index("suspend"), Role.DECISION_MAKER)
        assert cert.state is CertificateState.SUSPENDED
        m.time_passes(400)
        m.take_a_step(len(m.subjects) - 1, triggers.index("restore"), Role.DECISION_MAKER)
        assert cert.state is CertificateState.SUSPENDED  # the suspension limit had passed
        m.take_a_step(
            len(m.subjects) - 1, triggers.index("withdraw_overdue_suspension"), Role.SYSTEM
        )
        assert cert.state is CertificateState.WITHDRAWN
        app = m.subjects[0]
        assert app.state is ApplicationState.DRAFT
        m.states_are_members_of_their_enum()
        m.one_record_per_change()
        m.every_chain_verifies()
        m.active_certificates_stand_on_a_grant()
    finally:
        m.teardown()
