"""``flask iris keys ...`` and ``flask iris verify FILE``: the offline check."""

from __future__ import annotations

import json

import pytest

from iris.core import storage
from iris.core.signing import KeyRing


@pytest.fixture
def fresh_keys(app, tmp_path):
    saved = app.config["IRIS_SIGNING_KEY_DIR"]
    app.config["IRIS_SIGNING_KEY_DIR"] = str(tmp_path / "keys")
    yield KeyRing(tmp_path / "keys")
    app.config["IRIS_SIGNING_KEY_DIR"] = saved


def test_keys_generate_rotate_and_list(runner, fresh_keys):
    result = runner.invoke(args=["iris", "keys", "generate"])
    assert result.exit_code == 0, result.output
    first = fresh_keys.current().kid
    assert first in result.output
    again = runner.invoke(args=["iris", "keys", "generate"])
    assert again.exit_code != 0 and "rotate" in again.output
    result = runner.invoke(args=["iris", "keys", "rotate"])
    assert result.exit_code == 0 and f"Retired {first}" in result.output
    listing = runner.invoke(args=["iris", "keys", "list"]).output
    assert first in listing and "current" in listing


def test_verify_a_pdf_and_a_jws_offline(runner, issued_cert, tmp_path, app):
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(storage.read_bytes(issued_cert.pdf_sha256))
    jwks = tmp_path / "jwks.json"
    from iris.core.signing import keyring_for_app

    jwks.write_text(json.dumps(keyring_for_app().jwks()))
    result = runner.invoke(args=["iris", "verify", str(pdf), "--jwks", str(jwks)])
    assert result.exit_code == 0, result.output
    assert "Signature valid" in result.output
    assert issued_cert.number in result.output and "Agencja Pracy Łódź" in result.output

    jws = tmp_path / "credential.jws"
    jws.write_text(
        issued_cert.credential[:-3]
        + ("AAA" if not issued_cert.credential.endswith("AAA") else "BBB")
    )
    bad = runner.invoke(args=["iris", "verify", str(jws), "--jwks", str(jwks)])
    assert bad.exit_code == 1
    assert "NOT VALID" in bad.output


@pytest.fixture
def issued_cert(world, db_session):  # noqa: F811
    from iris.certificates.operations import issue_certificate
    from workflows.certification import CaseState

    case = world.case(CaseState.CERTIFIED)
    return issue_certificate(case, actor=world.decider, now=world.now)


from tests.core.workflow_world import world  # noqa: E402,F401


def test_the_holder_downloads_its_pdf_and_others_cannot(client, login_as, issued_cert, world, make):  # noqa: F811
    from workflows.roles import Role

    client.login(world.agency_admin)
    response = client.get(f"/certificates/{issued_cert.number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    login_as(Role.AGENCY_ADMIN, make.agency(name="Inna Agencja"))
    assert client.get(f"/certificates/{issued_cert.number}.pdf").status_code == 404
