"""Every row of every lifecycle table, fired through the engine, generated from the tables.

For each row and each of its sources: allowed for each of its roles (the state becomes the
destination and exactly one record is written); refused with 403 for every other role;
refused with 409 from every state it does not leave from. Nothing changes when refused.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from iris.core.history import TransitionRecord
from iris.core.workflow import PermissionDenied, TransitionNotAllowed, fire
from tests.core.workflow_world import world  # noqa: F401  (fixture)
from workflows.base import NEW, row_for
from workflows.lifecycles import LIFECYCLES
from workflows.roles import Role


def _cases():
    for lc in LIFECYCLES.values():
        for row in lc.transitions:
            for source in row.sources:
                yield pytest.param(lc.name, row, source, id=f"{lc.name}.{row.trigger}@{source}")


CASES = list(_cases())


def _records(session, subject):
    if subject.id is None:
        return 0
    return session.scalar(
        sa.select(sa.func.count()).where(
            TransitionRecord.subject_type == subject.__workflow__,
            TransitionRecord.subject_id == subject.id,
        )
    )


@pytest.mark.parametrize(("name", "row", "source"), CASES)
def test_allowed_from_its_source_for_each_of_its_roles(world, db_session, name, row, source):  # noqa: F811
    for role in sorted(row.roles):
        subject = world.subject(name, source, row)
        actor = world.actor(role, subject)
        world.adapt(subject, row, actor)
        record = fire(subject, row.trigger, actor, now=world.when(row), **world.inputs(row))
        assert subject.state == row.dest
        assert record.from_state == (None if source == NEW else source)
        assert record.to_state == row.dest
        assert record.actor_role == role.value
        assert _records(db_session, subject) == 1


@pytest.mark.parametrize(("name", "row", "source"), CASES)
def test_refused_for_every_other_role(world, db_session, name, row, source):  # noqa: F811
    for role in sorted(set(Role) - row.roles):
        if Role.PUBLIC in row.roles and role is not Role.SYSTEM:
            continue  # open to anyone: every person also counts as the public
        subject = world.subject(name, source, row)
        actor = world.actor(role, subject)
        world.adapt(subject, row, actor)
        before = subject.state
        with pytest.raises(PermissionDenied):
            fire(subject, row.trigger, actor, now=world.when(row), **world.inputs(row))
        assert subject.state == before
        assert _records(db_session, subject) == 0


def _trigger_rows():
    for lc in LIFECYCLES.values():
        for row in lc.transitions:
            yield pytest.param(lc.name, row, id=f"{lc.name}.{row.trigger}:{'|'.join(row.sources)}")


@pytest.mark.parametrize(("name", "row"), list(_trigger_rows()))
def test_refused_from_every_other_state(world, db_session, name, row):  # noqa: F811
    lc = LIFECYCLES[name]
    role = sorted(row.roles)[0]
    checked = 0
    for state in [NEW, *(s.value for s in lc.states)]:
        if state in row.sources or row_for(lc, None if state == NEW else state, row.trigger):
            continue  # it leaves from here (possibly by another row of the same trigger)
        subject = world.subject(name, state, row)
        actor = world.actor(role, subject)
        world.adapt(subject, row, actor)
        before = subject.state
        holds_role = role in {Role.SYSTEM, Role.PUBLIC} or role in subject.actor_roles(actor)
        expected = TransitionNotAllowed if holds_role else PermissionDenied
        with pytest.raises(expected):
            fire(subject, row.trigger, actor, now=world.when(row), **world.inputs(row))
        assert subject.state == before
        assert _records(db_session, subject) == 0
        checked += 1
    assert checked > 0
