import sqlalchemy as sa

from iris.applications.models import Application
from iris.complaints.models import Appeal, Complaint
from iris.core.history import verify_chains
from workflows.appeal import AppealAgainst
from workflows.application import ApplicationState


def test_the_demo_has_applications_in_every_state_with_their_history(runner, db_session):
    result = runner.invoke(args=["iris", "demo"])
    assert result.exit_code == 0, result.output
    states = set(db_session.scalars(sa.select(Application.state)))
    assert states == set(ApplicationState)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Complaint)) >= 4
    rejection = sa.select(Appeal.state).where(Appeal.against == AppealAgainst.REJECTION)
    assert db_session.scalar(rejection) == "panel_assigned"
    verification = verify_chains(db_session)
    assert verification.ok and verification.checked > 50
