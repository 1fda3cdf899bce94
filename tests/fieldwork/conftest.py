"""A world for the audit tests: an agency with an answered self-assessment on an accepted
application, an audit company with every role, and a case waiting for its team.

The case is put in ``team_pending`` directly (test set-up); every later step is taken
through the HTTP pages under test.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

from iris.applications.models import Application
from iris.audits.models import CertificationCase
from iris.questionnaires import definition as d
from iris.questionnaires import operations as qops
from iris.questionnaires.demo import IRIS_12, answer_self_assessment
from workflows.application import ApplicationState
from workflows.certification import CaseState
from workflows.roles import Role


@pytest.fixture
def world(db_session, make):  # type: ignore[no-untyped-def]
    version = qops.import_version(d.read_data(IRIS_12)).version
    qops.publish_version(version)
    agency = make.agency(complete=True, name="Agencja Pracy Łódź")
    agency.corridors[0].workers_per_year = 9  # sampling minimum: 3 interviews
    company = make.audit_company(name="Cert Audit Sp. z o.o.")
    admin = make.user_with_role(Role.AGENCY_ADMIN, agency, name="Anna Admin")
    application = Application(agency_id=agency.id, state=ApplicationState.DRAFT,
                              created_by_id=admin.id)  # fmt: skip
    db_session.add(application)
    db_session.flush()
    response = answer_self_assessment(
        application, actor=admin, rng=random.Random(3), complete=True, weak=True
    )
    application.state = ApplicationState.ACCEPTED
    case = CertificationCase(
        agency_id=agency.id, audit_company_id=company.id, application_id=application.id,
        state=CaseState.TEAM_PENDING,
    )  # fmt: skip
    db_session.add(case)
    db_session.flush()
    w = SimpleNamespace(
        agency=agency,
        company=company,
        admin=admin,
        application=application,
        response=response,
        case=case,
        planner=make.user_with_role(Role.PLANNER, company, name="Paula Planner"),
        lead=make.user_with_role(Role.LEAD_AUDITOR, company, name="Leon Lead"),
        auditor=make.user_with_role(Role.AUDITOR, company, name="Ada Auditor"),
        outsider=make.user_with_role(Role.AUDITOR, company, name="Otto Outsider"),
        tech=make.user_with_role(Role.TECHNICAL_REVIEWER, company, name="Tom Tech"),
        decider=make.user_with_role(Role.DECISION_MAKER, company, name="Dora Decider"),
        definition=version.parsed,
    )
    return w


def case_url(case: Any, rest: str = "") -> str:
    return f"/audit/cases/{case.public_id}{rest}"
