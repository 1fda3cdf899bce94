"""The app served for the browser tests: its own SQLite file, seeded, on a free port.

Run as ``python -m tests.e2e.server DIRECTORY`` (the fixture in ``conftest.py`` does). It
builds the schema (``create_all``, like the rest of the suite), seeds the people and the
objects the journeys start from, binds a free port on 127.0.0.1 and prints one JSON line
(the base URL and the seeded facts), then serves with werkzeug in threads until killed.

A separate process, not a thread of the test run: the app's extensions (the limiter, the
login manager, Babel) are module globals, and a second app in the pytest process would
change them under the rest of the suite. Mail stays in the outbox table (no SMTP); the
tests read it from the same database file.
"""

from __future__ import annotations

import json
import random
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

PASSWORD = "correct horse battery"  # tests/factories.py's password of every test user


def make_app(directory: Path) -> Any:
    from iris import create_app

    return create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'e2e.db'}",
            "IRIS_STORAGE_DIR": str(directory / "storage"),
            "IRIS_SIGNING_KEY_DIR": str(directory / "keys"),
            "IRIS_SIGNING_AUTOGENERATE": True,
            "IRIS_SMTP_URL": "",
            "IRIS_REDIS_URL": None,
            "IRIS_DEBUG": False,
            # every journey signs in several people from one address within a minute
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )


def seed() -> dict[str, Any]:
    """People in every role the journeys need, and the objects journeys 2 and 3 start from."""
    from flask import current_app

    from iris.accounts.operations import scheme_manager
    from iris.applications.models import Application
    from iris.audits.models import CertificationCase
    from iris.certificates.operations import issue_certificate
    from iris.core.db import db, utcnow
    from iris.core.workflow import fire
    from iris.questionnaires import definition as d
    from iris.questionnaires import operations as qops
    from iris.questionnaires.demo import IRIS_12, answer_self_assessment
    from tests.factories import Factories
    from workflows.application import ApplicationState
    from workflows.certification import CaseState
    from workflows.roles import Role

    make = Factories(db.session)
    qops.publish_version(qops.import_version(d.read_data(IRIS_12)).version)

    people: dict[str, str] = {}

    def person(key: str, role: Role, org: Any, name: str, **kw: Any) -> Any:
        user = make.user_with_role(role, org, name=name, email=f"{key}@example.com", **kw)
        people[key] = user.email
        return user

    person("reviewer", Role.APPLICATION_REVIEWER, scheme_manager(), "Rita Reviewer")
    company = make.audit_company(name="Certa E2E Audit Sp. z o.o.", city="Kraków")
    person("planner", Role.PLANNER, company, "Paula Planner")
    lead = person("lead", Role.LEAD_AUDITOR, company, "Leon Lead")
    make.membership(lead, company, Role.AUDITOR)  # lead auditors audit too (as in the demo)
    person("auditor", Role.AUDITOR, company, "Ada Auditor")
    person("tech", Role.TECHNICAL_REVIEWER, company, "Tom Tech")
    decider = person("decider", Role.DECISION_MAKER, company, "Dora Decider")

    # Journey 2: an agency whose application was submitted (the journey starts at review).
    agency2 = make.agency(complete=True, name="Agencja Pracy Wiślana", city="Kraków")
    agency2.corridors[0].workers_per_year = 9  # sampling minimum: 3 worker interviews
    admin2 = person("agency2", Role.AGENCY_ADMIN, agency2, "Anna Admin", locale="en")
    application = Application(agency_id=agency2.id, created_by_id=admin2.id)
    application.agency = agency2
    fire(application, "create", admin2)
    answer_self_assessment(application, actor=admin2, rng=random.Random(3), complete=True)
    with current_app.test_request_context():  # the submit guard's list of gaps builds links
        fire(application, "submit", admin2)

    # Journey 3: a certified agency in Łódź.
    agency3 = make.agency(complete=True, name="Łódzka Agencja Zatrudnienia", city="Łódź")
    person("agency3", Role.AGENCY_ADMIN, agency3, "Łucja Holder", locale="en")
    accepted = Application(agency_id=agency3.id, state=ApplicationState.ACCEPTED)
    db.session.add(accepted)
    db.session.flush()
    case = CertificationCase(
        agency_id=agency3.id, audit_company_id=company.id, application_id=accepted.id,
        state=CaseState.CERTIFIED,
    )  # fmt: skip
    db.session.add(case)
    db.session.flush()
    cert = issue_certificate(case, actor=decider, now=utcnow() - timedelta(days=30))
    db.session.commit()
    return {
        "password": PASSWORD,
        "people": people,
        "agency2": agency2.name,
        "application2": application.public_id,
        "agency3": agency3.name,
        "certificate3": cert.number,
    }


def main() -> None:
    from werkzeug.serving import make_server

    from iris.core.db import db

    directory = Path(sys.argv[1])
    app = make_app(directory)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["IRIS_BASE_URL"] = base_url  # the certificate's verify URL and e-mail links
    with app.app_context():
        db.create_all()
        facts = seed()
    print(json.dumps({"url": base_url, **facts}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
