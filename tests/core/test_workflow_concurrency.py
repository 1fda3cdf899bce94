"""Racing transitions: exactly one wins, the others get a clear conflict, one record."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from iris.audits.models import CertificationCase
from iris.core.db import db
from iris.core.history import TransitionRecord, verify_chains
from iris.core.workflow import ConcurrentChange, TransitionNotAllowed, WorkflowError, fire
from tests.conftest import PG_URL
from tests.core.workflow_world import World
from tests.factories import Factories
from workflows.certification import CaseState
from workflows.roles import Role

THREADS = 16


def _race(app, case_id: int, deciders: list[int]) -> list[str]:
    from iris.accounts.models import User

    barrier = threading.Barrier(len(deciders))
    outcomes: list[str] = [""] * len(deciders)

    def worker(i: int, user_id: int) -> None:
        with app.app_context():
            session = db.session
            try:
                user = session.get(User, user_id)
                case = session.get(CertificationCase, case_id)
                trigger = "grant" if i % 2 == 0 else "refuse"
                session.commit()  # give the connection back while waiting (pool of 15)
                barrier.wait(timeout=30)
                fire(case, trigger, user, reason="Decided under load.")
                session.commit()
                outcomes[i] = "won:" + trigger
            except ConcurrentChange as exc:
                session.rollback()
                outcomes[i] = "conflict:" + str(exc)
            except TransitionNotAllowed as exc:
                session.rollback()
                outcomes[i] = "not-now:" + str(exc)
            except WorkflowError as exc:  # pragma: no cover - would be a bug
                session.rollback()
                outcomes[i] = "error:" + str(exc)
            except Exception as exc:  # pragma: no cover - would be a bug
                session.rollback()
                outcomes[i] = f"crash:{type(exc).__name__}:{exc}"
            finally:
                session.remove()

    threads = [threading.Thread(target=worker, args=(i, u)) for i, u in enumerate(deciders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _setup(app) -> tuple[int, list[int]]:
    make = Factories(db.session)
    world = World(make, db.session)
    case = world.case(CaseState.DECISION_PENDING)
    deciders = [world.decider.id] + [
        make.user_with_role(Role.DECISION_MAKER, world.company).id for _ in range(THREADS - 1)
    ]
    db.session.commit()
    return case.id, deciders


def _check(outcomes: list[str], case_id: int) -> None:
    db.session.rollback()  # end the main thread's read snapshot (SQLite WAL)
    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(winners) == 1, outcomes
    losers = [o for o in outcomes if not o.startswith("won:")]
    assert all(o.startswith(("conflict:", "not-now:")) for o in losers), losers
    assert any("not possible while" in o or "same moment" in o for o in losers)
    decided = db.session.scalar(
        sa.select(sa.func.count()).where(
            TransitionRecord.subject_type == "certification",
            TransitionRecord.subject_id == case_id,
            TransitionRecord.trigger.in_(("grant", "refuse")),
        )
    )
    assert decided == 1
    case = db.session.get(CertificationCase, case_id)
    assert case.state is (CaseState.CERTIFIED if winners[0] == "won:grant" else CaseState.REFUSED)
    assert verify_chains(db.session).ok


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set IRIS_TEST_DATABASE_URL")
def test_sixteen_deciders_grant_and_refuse_at_once_on_postgresql(app, committing_db):
    case_id, deciders = _setup(app)
    outcomes = _race(app, case_id, deciders)
    _check(outcomes, case_id)


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite variant of the race")
def test_racing_deciders_on_sqlite_also_leave_one_winner(app, committing_db):
    case_id, deciders = _setup(app)
    outcomes = _race(app, case_id, deciders[:4])
    _check(outcomes, case_id)


def _in_another_request(app, fn) -> dict:
    """Run ``fn`` in its own app context (its own session and transaction) and commit."""
    out: dict = {}

    def run() -> None:
        with app.app_context():
            try:
                out["value"] = fn(db.session)
                db.session.commit()
            except Exception as exc:  # pragma: no cover - reported by the caller
                db.session.rollback()
                out["error"] = exc
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return out


def test_a_step_on_a_subject_loaded_before_someone_elses_step_sees_it(app, committing_db):
    """A page loaded the certificate; someone suspends it meanwhile; the first person's
    withdrawal then acts on the suspended certificate (PostgreSQL: the lock finds a newer
    version and reloads the row, chain head included) or is refused as a conflict (SQLite:
    the version counter), never written on top of the suspension."""
    from iris.accounts.models import User
    from iris.certificates.models import Certificate
    from workflows.certificate import CertificateState

    make = Factories(db.session)
    world = World(make, db.session)
    cert_id = world.certificate(CertificateState.ACTIVE).id
    other_id = make.user_with_role(Role.DECISION_MAKER, world.company).id
    decider_id = world.decider.id
    db.session.commit()

    decider = db.session.get(User, decider_id)
    cert = db.session.get(Certificate, cert_id)
    assert cert.state is CertificateState.ACTIVE  # loaded, as a page has it

    def suspend(session):
        fire(session.get(Certificate, cert_id), "suspend", session.get(User, other_id),
             reason="Complaint upheld.", reason_code="voluntary")  # fmt: skip

    assert "error" not in _in_another_request(app, suspend)

    if db.engine.dialect.name == "postgresql":
        record = fire(cert, "withdraw", decider, reason="Critical breach.")
        db.session.commit()
        assert record.from_state == "suspended"
    else:
        with pytest.raises(ConcurrentChange):
            fire(cert, "withdraw", decider, reason="Critical breach.")
        db.session.rollback()
    steps = db.session.scalars(
        sa.select(TransitionRecord.trigger)
        .where(
            TransitionRecord.subject_type == "certificate", TransitionRecord.subject_id == cert_id
        )
        .order_by(TransitionRecord.seq)
    ).all()
    expected = ["suspend", "withdraw"] if db.engine.dialect.name == "postgresql" else ["suspend"]
    assert steps == expected
    assert verify_chains(db.session).ok
    # the public registry tells the same story (its entry was not patched from a stale read)
    from iris.registry.models import RegistryEntry

    document = json.loads(db.session.get(RegistryEntry, cert_id).document)
    assert [h["event"] for h in document["history"]] == expected
    assert document["status"] == ("withdrawn" if len(expected) == 2 else "suspended")
