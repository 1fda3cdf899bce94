"""The transition log: one record per change, chained by hash, tampering caught."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from iris.core.history import TransitionRecord, history, verify_chains
from iris.core.workflow import state_mismatches
from tests.core.workflow_world import world  # noqa: F401  (fixture)


def _all(session):
    return list(session.scalars(sa.select(TransitionRecord).order_by(TransitionRecord.id)))


def test_a_whole_journey_writes_one_chained_record_per_change(world, db_session):  # noqa: F811
    out = world.journey()
    case, cert = out["case"], out["certificate"]
    assert str(case.state) == "certified"
    assert str(cert.state) == "active"
    assert cert.number.startswith(f"IRIS-PL-{world.now.year}-")

    steps = [r.trigger for r in history(db_session, "certification", case.id)]
    assert steps == [
        "open", "assign_team", "start_stage1", "start_stage2", "issue_findings",
        "submit_cap", "recommend", "review", "grant",
    ]  # fmt: skip
    records = history(db_session, "application", out["application"].id)
    assert [r.to_state for r in records] == ["draft", "submitted", "under_review", "accepted"]
    assert records[0].prev_hash is None and records[0].from_state is None
    for prev, rec in itertools.pairwise(records):
        assert rec.prev_hash == prev.hash
        assert rec.seq == prev.seq + 1
    issued = history(db_session, "certificate", cert.id)
    assert [(r.trigger, r.actor_id) for r in issued] == [("issue", world.decider.id)]
    assert issued[0].payload["number"] == cert.number

    result = verify_chains(db_session)
    assert result.ok
    assert result.chains == 3
    assert result.checked == len(_all(db_session)) == 4 + 9 + 1
    assert state_mismatches() == []


def test_records_name_people_by_id_only(world, db_session):  # noqa: F811
    world.journey(until="accepted")
    people = [world.agency_admin, world.reviewer]
    for rec in _all(db_session):
        text = str(rec.content())
        for person in people:
            assert person.name not in text and person.email not in text
    # erasing a person's personal data later breaks no chain
    for person in people:
        person.name = "Erased"
        person.email = f"erased-{person.id}@invalid"
    db_session.flush()
    assert verify_chains(db_session).ok


def test_an_edited_record_is_caught_and_named(world, db_session, runner):  # noqa: F811
    app = world.journey(until="accepted")["application"]
    ok = runner.invoke(args=["iris", "verify-history"])
    assert ok.exit_code == 0, ok.output
    assert "Checked 4 transition records in 1 chains." in ok.output

    third = history(db_session, "application", app.id)[2]
    db_session.execute(
        sa.update(TransitionRecord)
        .where(TransitionRecord.id == third.id)
        .values(reason="Approved by the director on the phone")
    )
    db_session.expire_all()
    result = verify_chains(db_session)
    assert [(b.subject_type, b.subject_id, b.seq) for b in result.breaks] == [
        ("application", app.id, 3)
    ]
    assert "content does not match its hash" in str(result.breaks[0])

    bad = runner.invoke(args=["iris", "verify-history"])
    assert bad.exit_code == 1
    assert f"first problem: application #{app.id}, record 3" in bad.output
    assert "the record was edited" in bad.output


def test_a_deleted_or_reordered_record_is_caught(world, db_session):  # noqa: F811
    app = world.journey(until="accepted")["application"]
    second = history(db_session, "application", app.id)[1]
    db_session.execute(sa.delete(TransitionRecord).where(TransitionRecord.id == second.id))
    db_session.expire_all()
    result = verify_chains(db_session)
    assert not result.ok
    assert "a record is missing" in result.breaks[0].problem


def test_a_rehashed_forgery_still_breaks_the_next_link(world, db_session):  # noqa: F811
    """Editing a record and recomputing its own hash does not help: the next record's link
    still points at the original."""
    app = world.journey(until="accepted")["application"]
    second = history(db_session, "application", app.id)[1]
    second.reason = "forged"
    second.seal(second.prev_hash)
    db_session.flush()
    result = verify_chains(db_session)
    assert [b.seq for b in result.breaks] == [3]
    assert "history rewritten" in result.breaks[0].problem


def test_a_state_changed_behind_the_engine_is_reported(world, db_session, runner):  # noqa: F811
    from iris.applications.models import Application

    app = world.journey(until="accepted")["application"]
    db_session.execute(sa.update(Application).where(Application.id == app.id).values(state="draft"))
    assert state_mismatches() == [
        f"application #{app.id}: in state draft, its history ends in accepted"
    ]
    bad = runner.invoke(args=["iris", "verify-history"])
    assert bad.exit_code == 1
    assert "STATE CHANGED OUTSIDE THE WORKFLOW" in bad.output


def test_each_step_chains_to_the_head_its_subject_row_carries(world, db_session):  # noqa: F811
    """The row names its last record (seq and hash), written with the state; a row without
    one (bulk-loaded, or older than these columns) chains to its last record all the same."""
    from iris.core.workflow import fire

    cert = world.journey()["certificate"]
    issued = history(db_session, "certificate", cert.id)[-1]
    assert (cert.history_seq, cert.history_hash) == (issued.seq, issued.hash)

    cert.history_seq = cert.history_hash = None  # as a row written before these columns
    db_session.flush()
    suspended = fire(
        cert, "suspend", world.decider, reason="Audit refused.", reason_code="voluntary"
    )
    restored = fire(cert, "restore", world.decider, reason="Audit done.")
    assert (suspended.seq, suspended.prev_hash) == (2, issued.hash)
    assert (restored.seq, restored.prev_hash) == (3, suspended.hash)
    assert (cert.history_seq, cert.history_hash) == (3, restored.hash)
    assert verify_chains(db_session).ok and state_mismatches() == []


def test_removing_the_last_steps_is_caught_even_when_the_state_matches(
    world,  # noqa: F811
    db_session,
    runner,
):
    from iris.core.workflow import fire

    cert = world.journey()["certificate"]
    fire(cert, "suspend", world.decider, reason="Audit refused.", reason_code="voluntary")
    fire(cert, "restore", world.decider, reason="Audit done.")
    db_session.execute(
        sa.delete(TransitionRecord).where(
            TransitionRecord.subject_type == "certificate",
            TransitionRecord.subject_id == cert.id,
            TransitionRecord.seq > 1,
        )
    )
    db_session.expire_all()
    # what is left is a valid chain ending in "active", the certificate's state
    assert verify_chains(db_session).ok
    assert state_mismatches() == [
        f"certificate #{cert.id}: its history ends with record 1, but its row names record 3 "
        "as its last (records removed or added outside the workflow)"
    ]
    bad = runner.invoke(args=["iris", "verify-history"])
    assert bad.exit_code == 1
    assert f"certificate #{cert.id}: its history ends with record 1" in bad.output


def test_a_resealed_last_record_is_caught(world, db_session):  # noqa: F811
    """The last record has no next one to break: the row's head hash catches the forgery."""
    app = world.journey(until="accepted")["application"]
    last = history(db_session, "application", app.id)[-1]
    last.reason = "forged"
    last.seal(last.prev_hash)
    db_session.flush()
    assert verify_chains(db_session).ok
    assert state_mismatches() == [
        f"application #{app.id}: its last record (record 4) is not the one its row names "
        "(the record was rewritten)"
    ]
