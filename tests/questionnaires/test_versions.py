"""Versions: import, publish, immutability, the CLI, and moving a draft to a new version."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from iris.core.db import db
from iris.questionnaires import definition as d
from iris.questionnaires import operations as ops
from iris.questionnaires.demo import IRIS_12
from iris.questionnaires.forms import field_name
from iris.questionnaires.models import PublishedVersionError, QuestionnaireVersion
from iris.questionnaires.queries import response_for
from tests.helpers import text_of
from tests.questionnaires.conftest import qurl


def test_a_published_version_cannot_change_even_behind_the_operations(iris12, db_session):  # type: ignore[no-untyped-def]
    changed = copy.deepcopy(iris12.definition)
    changed["title"]["en"] = "Edited"
    iris12.definition = changed
    with pytest.raises(PublishedVersionError, match="is published and cannot change"):
        db_session.flush()
    db_session.rollback()


def test_a_published_version_cannot_be_deleted(iris12, db_session):  # type: ignore[no-untyped-def]
    db_session.delete(iris12)
    with pytest.raises(PublishedVersionError, match="cannot be deleted"):
        db_session.flush()
    db_session.rollback()


def test_reimporting_a_published_version_with_other_content_is_refused(iris12):  # type: ignore[no-untyped-def]
    data = d.read_data(IRIS_12)
    assert ops.import_version(data).status == "unchanged"
    data["sections"][0]["title"]["en"] = "Changed"
    with pytest.raises(PublishedVersionError, match="give the changed definition a new version"):
        ops.import_version(data)


def test_cli_validate_import_publish(runner, tmp_path: Path, db_session):  # type: ignore[no-untyped-def]
    ok = runner.invoke(args=["iris", "questionnaire", "validate", IRIS_12])
    assert ok.exit_code == 0, ok.output
    assert "valid — iris-self-assessment 1.2, 8 sections, 35 questions" in ok.output

    broken = d.read_data(IRIS_12)
    broken["sections"][0]["criteria"][0]["questions"][0]["weight"] = 9
    broken["sections"][0]["criteria"][0]["questions"][1]["type"] = "yes-no"
    del broken["sections"][2]["title"]["ru"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    bad = runner.invoke(args=["iris", "questionnaire", "import", str(path)])
    assert bad.exit_code == 1
    assert "3 problem(s)" in bad.output
    assert (
        "sections[A].criteria[A.1].questions[A01].weight: weight 9 is out of range 1–5"
        in bad.output
    )
    assert (
        "sections[A].criteria[A.1].questions[A02].type: unknown answer type 'yes-no'" in bad.output
    )
    assert "sections[C].title: missing translation for 'ru'" in bad.output
    assert db.session.query(QuestionnaireVersion).count() == 0  # nothing imported

    imported = runner.invoke(args=["iris", "questionnaire", "import", IRIS_12])
    assert "iris-self-assessment 1.2: imported as a draft (not published)." in imported.output
    published = runner.invoke(
        args=["iris", "questionnaire", "publish", "iris-self-assessment", "1.2"]
    )
    assert published.exit_code == 0 and "published" in published.output
    again = runner.invoke(args=["iris", "questionnaire", "publish", "iris-self-assessment", "1.2"])
    assert again.exit_code == 1 and "already published" in again.output


def _version_13(iris12_data: dict) -> dict:  # type: ignore[type-arg]
    """1.3: A03 removed, A05 turned into a y/p/n question, a new required question A08."""
    data = copy.deepcopy(iris12_data)
    data["version"] = "1.3"
    a1 = data["sections"][0]["criteria"][0]["questions"]
    data["sections"][0]["criteria"][0]["questions"] = [q for q in a1 if q["key"] != "A03"]
    a3 = data["sections"][0]["criteria"][2]["questions"][0]
    assert a3["key"] == "A05"
    a3["type"] = "ypna"
    a3["critical"]["fails_when"] = {"key": "A05", "in": ["no", "partial"]}
    a3["evidence"]["required"] = {"key": "A05", "equals": "yes"}
    text = {"en": "New question", "pl": "Nowe pytanie", "uk": "Нове питання", "ru": "Новый вопрос"}
    data["sections"][0]["criteria"][4]["questions"].append(
        {"key": "A08", "type": "yes_no", "weight": 2, "text": text}
    )
    return data


def test_moving_a_draft_to_a_newer_version(client, application, iris12, db_session):  # type: ignore[no-untyped-def]
    client.post(qurl(application, what="start"), {}, form_url=qurl(application))
    client.post(qurl(application, "A"), {"save": "1", field_name("A01"): "no",
                                         field_name("A03"): "yes", field_name("A05"): "yes"})  # fmt: skip
    new = ops.import_version(_version_13(iris12.definition)).version
    ops.publish_version(new)
    db_session.flush()

    overview = text_of(client.get(qurl(application)))
    assert "A newer version of the questionnaire (1.3) is published." in overview
    preview = client.get(qurl(application, what="upgrade"))
    text = text_of(preview)
    assert "Dropped: no longer asked" in text and "A03" in text
    assert "Need a new answer" in text and "A05" in text and "A08" in text
    resp = client.post(qurl(application, what="upgrade"), {}, follow_redirects=True)
    text = text_of(resp)
    assert "Moved to version 1.3" in text
    assert "Dropped (no longer asked): A03" in text
    response = response_for(application)
    assert response.version.version == "1.3"
    assert response.answers == {"A01": "no"}  # carried by stable key
    # A05 changed its type; A08 is new and required
    assert response.migration_report["needs_answer"] == ["A05", "A08"]
    # the old version is untouched and still published
    assert db_session.get(QuestionnaireVersion, iris12.id).version == "1.2"
