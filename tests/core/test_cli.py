import sqlalchemy as sa

from iris.accounts.models import Organisation, User
from tests.helpers import text_of
from workflows.roles import OrgKind, Role


def test_create_admin_makes_a_scheme_admin_who_can_sign_in(runner, client, db_session):
    result = runner.invoke(
        args=[
            "iris",
            "create-admin",
            "--email",
            "Boss@Example.com",
            "--name",
            "Maria Santos",
            "--password",
            "a long admin secret",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalar(sa.select(User).where(User.email == "boss@example.com"))
    assert user.has_role(Role.SCHEME_ADMIN)
    resp = client.post(
        "/login",
        {"email": "boss@example.com", "password": "a long admin secret"},
        follow_redirects=True,
    )
    assert "Welcome back, Maria Santos" in resp.get_data(as_text=True)


def test_create_admin_refuses_a_short_password(runner, db_session):
    result = runner.invoke(
        args=[
            "iris",
            "create-admin",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_demo_gives_every_role_a_login_and_loads_only_once(runner, db_session):
    result = runner.invoke(args=["iris", "demo"])
    assert result.exit_code == 0, result.output
    for role in (
        Role.SCHEME_ADMIN,
        Role.APPLICATION_REVIEWER,
        Role.PLANNER,
        Role.LEAD_AUDITOR,
        Role.AUDITOR,
        Role.TECHNICAL_REVIEWER,
        Role.DECISION_MAKER,
        Role.AGENCY_ADMIN,
    ):
        assert role.value in result.output, role
    agencies = db_session.scalars(
        sa.select(Organisation).where(Organisation.kind == OrgKind.AGENCY)
    ).all()
    from iris.accounts.demo import AGENCIES

    assert len(agencies) == len(AGENCIES) >= 5
    assert {"PL", "UA"} < {a.country for a in agencies}  # and agencies of other countries
    again = runner.invoke(args=["iris", "demo"])
    assert again.exit_code != 0 and "already has users" in again.output
    assert runner.invoke(args=["iris", "demo", "--if-empty"]).exit_code == 0


def test_demo_logins_work_in_each_users_language(runner, client, db_session):
    from flask_babel import force_locale, gettext

    runner.invoke(args=["iris", "demo"])
    resp = client.post(
        "/login",
        {"email": "k.wisniewska@wisla-praca.pl", "password": "demo-password-1"},
        follow_redirects=True,
    )
    with force_locale("pl"):
        welcome = gettext("Welcome back, %(name)s.", name="Katarzyna Wiśniewska")
    assert welcome.startswith("Witamy")
    assert welcome in text_of(resp)
    assert '<html lang="pl">' in resp.get_data(as_text=True)
