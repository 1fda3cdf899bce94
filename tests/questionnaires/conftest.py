"""Fixtures for the questionnaire tests: the published IRIS 1.2 version, an agency with a
draft application, and helpers that turn stored answers into what a browser posts."""

from __future__ import annotations

import io
from typing import Any

import pytest

from iris.applications.models import Application
from iris.questionnaires import definition as d
from iris.questionnaires import operations as ops
from iris.questionnaires.demo import DEMO_PDF, IRIS_12
from iris.questionnaires.forms import evidence_name, field_name, sign_name
from workflows.application import ApplicationState
from workflows.roles import Role


@pytest.fixture
def iris12(db_session):  # type: ignore[no-untyped-def]
    result = ops.import_version(d.read_data(IRIS_12))
    ops.publish_version(result.version)
    db_session.flush()
    return result.version


@pytest.fixture
def agency_admin(make, login_as):  # type: ignore[no-untyped-def]
    agency = make.agency(complete=True)
    user = login_as(Role.AGENCY_ADMIN, org=agency)
    return user


@pytest.fixture
def application(db_session, agency_admin, iris12):  # type: ignore[no-untyped-def]
    agency = agency_admin.orgs_with(Role.AGENCY_ADMIN)[0]
    app_ = Application(
        agency_id=agency.id, state=ApplicationState.DRAFT, created_by_id=agency_admin.id
    )
    db_session.add(app_)
    db_session.flush()
    return app_


def qurl(application: Any, section: str | None = None, what: str | None = None) -> str:
    base = f"/applications/{application.public_id}/self-assessment"
    if section:
        return f"{base}/{section}"
    if what:
        return f"{base}/{what}"
    return base


def pdf(name: str = "doc.pdf", extra: bytes = b"") -> tuple[io.BytesIO, str]:
    return io.BytesIO(DEMO_PDF + extra), name


def section_data(
    definition: d.Definition, code: str, answers: dict[str, Any], *, evidence: bool = True
) -> dict[str, Any]:
    """The form a browser posts for section ``code`` with ``answers`` entered, and a PDF
    attached wherever evidence is required."""
    section = definition.section(code)
    assert section is not None
    visible = d.visible_answers(definition, answers)
    data: dict[str, Any] = {"save": "Save"}
    for question in section.questions:
        if question.key not in visible:
            continue
        for spec in question.fields:
            if spec.key not in visible:
                continue
            value = answers.get(spec.key)
            name = field_name(spec.key)
            if value is None:
                continue
            if spec.type == "table":
                for i, row in enumerate(value):
                    for column in spec.columns:
                        cell = row.get(column.name)
                        data[f"{name}-{i}-{column.name}"] = "" if cell is None else str(cell)
            elif spec.type == "declaration":
                data[name] = value["name"]
                data[sign_name(spec.key)] = "y"
            elif spec.type == "multiple_choice":
                data[name] = list(value)
            elif spec.type == "file":
                pass
            else:
                data[name] = str(value)
            if spec.type == "file" and evidence and spec.required:
                data[evidence_name(spec.key, "file")] = pdf(f"{spec.key}.pdf", spec.key.encode())
        rule = question.evidence
        if evidence and rule is not None and rule.required_for(visible):
            data[evidence_name(question.key, "file")] = pdf(
                f"{question.key}.pdf", question.key.encode()
            )
    return data
