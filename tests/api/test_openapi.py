"""The OpenAPI document: well formed, complete, and true to the API (Schemathesis).

Schemathesis generates requests from the document (valid and invalid) for every operation,
authenticated as an agency administrator and as an auditor on an audit team, against the
test database, and checks that no answer is a 5xx and that every answer's status, content
type and body are the ones the document declares. Derandomized, 10 examples an operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from workflows.application import ApplicationState
from workflows.certification import CaseState

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def test_the_document_is_openapi_3_and_documents_every_api_route(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.0")
    assert doc["info"]["title"] and doc["info"]["version"] == "1"
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
    }  # fmt: skip
    documented = set(doc["paths"])
    import re

    routes = {
        re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1/")
    }
    assert routes == documented
    refs = set(
        re.findall(
            r'"#/components/schemas/([A-Za-z]+)"',
            client.get("/api/v1/openapi.json").get_data(as_text=True),
        )
    )
    assert refs <= set(doc["components"]["schemas"])
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op.get("summary"), (method, path)
            assert any(str(code).startswith("2") for code in op["responses"]), (method, path)
            if op.get("security"):
                assert {"401", "403", "429"} <= set(map(str, op["responses"])), (method, path)
    patch = doc["paths"]["/api/v1/applications/{public_id}/questionnaire"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Answers"
    }
    assert doc["components"]["schemas"]["Answers"]["additionalProperties"] is False


def test_the_docs_page_lists_operations_parameters_schemas_and_auth(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for text in ("/api/v1/applications/{public_id}/questionnaire", "PATCH", "applications:write",
                 "Bearer", "per_page", "schema-Finding", "Token required"):  # fmt: skip
        assert text in html, text
    import re

    assert re.findall(r'(?:src|href)="(?:https?:)?//', html) == []  # nothing from elsewhere


@pytest.fixture
def limits_off(app):  # type: ignore[no-untyped-def]
    """Rate limits raised so that the run measures the API, not the limiter."""
    keys = ("IRIS_RATELIMIT_API", "IRIS_RATELIMIT_VERIFY", "IRIS_RATELIMIT_BULK")
    saved = {k: app.config.get(k) for k in keys}
    for key in keys:
        app.config[key] = "100000 per minute"
    yield
    app.config.update(saved)


@pytest.fixture
def agency_bearer(world, token_for, limits_off):  # type: ignore[no-untyped-def]
    """An agency administrator with a draft application."""
    world.application(ApplicationState.DRAFT)
    return {"Authorization": f"Bearer {token_for(world.agency_admin)}"}


@pytest.fixture
def auditor_bearer(world, token_for, limits_off):  # type: ignore[no-untyped-def]
    """An auditor on the team of a case in stage 2."""
    world.case(CaseState.STAGE2)
    return {"Authorization": f"Bearer {token_for(world.auditor)}"}


FUZZ = settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _fuzz(app, headers):  # type: ignore[no-untyped-def]
    """Every operation of the document, each with its own Hypothesis run.

    (schemathesis.pytest.from_fixture does not work with pytest 9 here: the operations are
    walked directly, which is what its parametrize does.)
    """
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 19
    seen: set[int] = set()
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case):  # type: ignore[no-untyped-def]
            seen.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

        run()
    # the run reached the views, not only the doors: successes and refusals both happened
    assert {200, 404, 422} <= seen, seen


def test_every_answer_matches_the_document_as_an_agency(app, agency_bearer):  # type: ignore[no-untyped-def]
    _fuzz(app, agency_bearer)


def test_every_answer_matches_the_document_as_an_auditor(app, auditor_bearer):  # type: ignore[no-untyped-def]
    _fuzz(app, auditor_bearer)
