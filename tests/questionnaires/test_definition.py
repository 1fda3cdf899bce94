"""Definition validation: one failing case per kind of error, each message checked."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from iris.questionnaires.definition import (
    ANSWER_LABELS,
    DefinitionError,
    load_definition,
    parse_definition,
    read_data,
    validate_definition,
    visible_keys,
)

IRIS_12 = Path(__file__).resolve().parents[2] / "iris/questionnaires/definitions/iris-1.2.yaml"
LOCALES = ["en", "pl", "uk", "ru"]


def t(text: str) -> dict[str, str]:
    return {loc: f"{text} ({loc})" for loc in LOCALES}


def minimal() -> dict[str, Any]:
    return {
        "format": 1,
        "code": "test",
        "version": "1",
        "locales": list(LOCALES),
        "title": t("Test"),
        "answer_labels": {name: t(name) for name in ANSWER_LABELS},
        "evidence_types": {"policy": t("Policy")},
        "sections": [
            {
                "code": "A",
                "title": t("Section A"),
                "criteria": [
                    {
                        "code": "A.1",
                        "title": t("Criterion"),
                        "questions": [
                            {"key": "Q1", "type": "yes_no", "text": t("First"), "weight": 3},
                            {
                                "key": "Q2",
                                "type": "ypna",
                                "text": t("Second"),
                                "visible_when": {"key": "Q1", "equals": "yes"},
                            },
                            {
                                "key": "Q3",
                                "type": "text",
                                "max_length": 100,
                                "text": t("Third"),
                            },
                        ],
                    }
                ],
            }
        ],
    }


def question(data: dict[str, Any], index: int) -> dict[str, Any]:
    return data["sections"][0]["criteria"][0]["questions"][index]  # type: ignore[no-any-return]


def problems(data: dict[str, Any]) -> list[str]:
    return [str(p) for p in validate_definition(data)]


Q = "sections[A].criteria[A.1].questions"


def test_minimal_definition_is_valid() -> None:
    assert problems(minimal()) == []


def test_the_iris_12_definition_is_valid_and_complete() -> None:
    definition = load_definition(IRIS_12)
    keys = list(definition.questions)
    expected = (
        [f"A0{i}" for i in range(1, 8)]
        + [f"B0{i}" for i in range(1, 7)]
        + [f"C0{i}" for i in range(1, 5)]
        + [f"D0{i}" for i in range(1, 4)]
        + [f"E0{i}" for i in range(1, 5)]
        + [f"F0{i}" for i in range(1, 4)]
        + [f"G0{i}" for i in range(1, 4)]
        + [f"M0{i}" for i in range(1, 6)]
    )
    assert keys == expected
    # DOMAIN.md section 6: weights and critical flags, question by question
    weights = {k: q.weight for k, q in definition.questions.items()}
    assert weights == {
        "A01": 5, "A02": 4, "A03": 3, "A04": 5, "A05": 5, "A06": 3, "A07": 3,
        "B01": 4, "B02": 4, "B03": 4, "B04": 5, "B05": 4, "B06": 3,
        "C01": 5, "C02": 5, "C03": 5, "C04": 4, "D01": 5, "D02": 3, "D03": 4,
        "E01": 5, "E02": 5, "E03": 5, "E04": 3, "F01": 4, "F02": 3, "F03": 3,
        "G01": 5, "G02": 3, "G03": 3, "M01": 3, "M02": 3, "M03": 3, "M04": 2, "M05": 5,
    }  # fmt: skip
    critical = {k for k, q in definition.questions.items() if q.critical is not None}
    assert critical == {"A01", "A04", "A05", "B04", "C01", "C02", "D01", "E01", "E03", "G01", "M05"}
    # every question is scored, and only A.1-A.3 are confirmed criteria
    assert all(q.score is not None for q in definition.questions.values())
    provisional = {c.code for s in definition.sections for c in s.criteria if c.provisional}
    assert {"A.1", "A.2", "A.3"}.isdisjoint(provisional)
    assert {"A.4", "B.3", "G.2", "M.5"} <= provisional
    # every text in the four languages, and genuinely translated (not copied English)
    a01 = definition.questions["A01"]
    assert set(a01.text) == set(LOCALES)
    assert "KRAZ" in a01.text["pl"] and a01.text["pl"] != a01.text["en"]
    assert definition.section("C").title["uk"].startswith("Заборона")
    assert definition.section("C").title["ru"].startswith("Запрет")


def test_visibility_of_sub_agent_questions_follows_b03() -> None:
    definition = load_definition(IRIS_12)
    assert "B04" not in visible_keys(definition, {})
    assert "B04" not in visible_keys(definition, {"B03": "no"})
    shown = visible_keys(definition, {"B03": "yes"})
    assert {"B03.sub_agents", "B03.all_licensed", "B04", "B05"} <= set(shown)
    # parts of B05 depend on B05, which itself depends on B03: hidden B03 hides them all
    assert "B05.method" not in visible_keys(definition, {"B03": "no", "B05": "yearly"})
    assert "B05.method" in visible_keys(definition, {"B03": "yes", "B05": "yearly"})


def test_yaml_yes_and_no_stay_strings_and_dates_stay_text() -> None:
    data = read_data("x.yaml", 'a: yes\nb: no\nc: 2024-01-31\nd: true\nversion: "1.2"\n')
    assert data == {"a": "yes", "b": "no", "c": "2024-01-31", "d": True, "version": "1.2"}


def test_duplicate_yaml_field_is_reported_with_its_line() -> None:
    with pytest.raises(DefinitionError) as err:
        read_data("x.yaml", "code: a\nversion: '1'\ncode: b\n")
    assert str(err.value) == "line 3: invalid YAML: duplicate field 'code'"


# -- one failing case per kind of error ----------------------------------------------------


def test_unknown_answer_type() -> None:
    data = minimal()
    question(data, 0)["type"] = "yesno"
    assert problems(data) == [
        f"{Q}[Q1].type: unknown answer type 'yesno' (expected one of: yes_no, ypna, number, "
        "single_choice, multiple_choice, text, date, file, table, declaration)"
    ]


def test_visibility_rule_naming_a_missing_key() -> None:
    data = minimal()
    question(data, 1)["visible_when"] = {"key": "Q9", "equals": "yes"}
    assert problems(data) == [
        f"{Q}[Q2].visible_when: visibility rule names 'Q9', which is not a question key"
    ]


def test_visibility_rule_naming_a_later_key() -> None:
    data = minimal()
    question(data, 1)["visible_when"] = {"key": "Q3", "answered": True}
    assert problems(data) == [
        f"{Q}[Q2].visible_when: visibility rule names 'Q3', which comes later "
        f"({Q}[Q3]); a rule may only depend on earlier answers"
    ]


def test_visibility_rule_on_its_own_answer() -> None:
    data = minimal()
    question(data, 1)["visible_when"] = {"key": "Q2", "equals": "yes"}
    assert problems(data) == [
        f"{Q}[Q2].visible_when: visibility rule of Q2 names its own answer 'Q2'"
    ]


def test_visibility_rule_with_an_answer_the_question_cannot_have() -> None:
    data = minimal()
    question(data, 1)["visible_when"] = {"key": "Q1", "equals": True}  # unquoted yes in YAML 1.1
    assert problems(data) == [
        f"{Q}[Q2].visible_when: True is not an answer of Q1 (answers: yes, no) "
        "(quote yes/no in YAML)"
    ]


def test_duplicate_keys() -> None:
    data = minimal()
    question(data, 2)["key"] = "Q1"
    assert problems(data) == [
        f"{Q}[Q1]: duplicate key 'Q1' (first used earlier in the same list)",
    ]


def test_duplicate_option_values() -> None:
    data = minimal()
    question(data, 2).update(
        type="single_choice",
        options=[{"value": "a", "text": t("A")}, {"value": "a", "text": t("A again")}],
    )
    del question(data, 2)["max_length"]
    assert problems(data) == [
        f"{Q}[Q3].options[a]: duplicate option value 'a' (first used earlier in the same list)"
    ]


def test_missing_translation() -> None:
    data = minimal()
    del question(data, 0)["text"]["uk"]
    assert problems(data) == [f"{Q}[Q1].text: missing translation for 'uk'"]


def test_text_given_as_a_single_string() -> None:
    data = minimal()
    question(data, 0)["text"] = "First"
    assert problems(data) == [
        f"{Q}[Q1].text: must give the text in every locale (en, pl, uk, ru), not one string"
    ]


def test_weight_out_of_range() -> None:
    data = minimal()
    question(data, 0)["weight"] = 7
    assert problems(data) == [f"{Q}[Q1].weight: weight 7 is out of range 1–5"]


def test_unknown_field_is_a_typo() -> None:
    data = minimal()
    question(data, 0)["wieght"] = 3
    assert problems(data) == [f"{Q}[Q1]: unknown field 'wieght'"]


def test_critical_without_the_failing_answer() -> None:
    data = minimal()
    question(data, 0)["critical"] = {}
    assert problems(data) == [
        f"{Q}[Q1].critical: missing field 'fails_when' (the answer that fails)"
    ]


def test_unknown_evidence_type() -> None:
    data = minimal()
    question(data, 0)["evidence"] = {"types": ["selfie"], "required": True, "text": t("Proof")}
    assert problems(data) == [
        f"{Q}[Q1].evidence.types: unknown evidence type 'selfie' (not in evidence_types)"
    ]


def test_number_bounds_reversed_and_text_without_length() -> None:
    data = minimal()
    question(data, 1).update(type="number", min=10, max=1)
    del question(data, 2)["max_length"]
    assert problems(data) == [
        f"{Q}[Q2]: min 10 is greater than max 1",
        f"{Q}[Q3]: a text answer needs 'max_length'",
    ]


def test_setting_that_does_not_apply_to_the_type() -> None:
    data = minimal()
    question(data, 0)["max_length"] = 5
    assert problems(data) == [f"{Q}[Q1].max_length: 'max_length' does not apply to a yes_no answer"]


def test_weighted_question_without_a_score() -> None:
    data = minimal()
    question(data, 2)["weight"] = 2
    assert problems(data) == [
        f"{Q}[Q3]: has a weight but no score: a text answer needs 'score' (points or bands)"
    ]


def test_score_points_out_of_range() -> None:
    data = minimal()
    question(data, 0)["score"] = {"points": {"yes": 2, "no": 0}}
    assert problems(data) == [
        f"{Q}[Q1].score.points.yes: points must be a number from 0 to 1, not 2"
    ]


def test_unknown_column_type_in_a_table() -> None:
    data = minimal()
    question(data, 2).update(
        type="table", columns=[{"name": "file", "type": "upload", "text": t("File")}]
    )
    del question(data, 2)["max_length"]
    assert problems(data) == [
        f"{Q}[Q3].type".replace(".type", ".columns[file].type") + ": unknown column type 'upload' "
        "(expected one of: yes_no, number, single_choice, text, date)"
    ]


def test_every_problem_is_reported_at_once() -> None:
    data = minimal()
    question(data, 0)["weight"] = 0
    question(data, 1)["visible_when"] = {"key": "Q9", "equals": "yes"}
    del question(data, 2)["text"]["ru"]
    data["version"] = 1.2
    with pytest.raises(DefinitionError) as err:
        parse_definition(data)
    assert [str(p) for p in err.value.problems] == [
        "version: must be a non-empty string (quote it in YAML), not 1.2",
        f"{Q}[Q1].weight: weight 0 is out of range 1–5",
        f"{Q}[Q3].text: missing translation for 'ru'",
        f"{Q}[Q2].visible_when: visibility rule names 'Q9', which is not a question key",
    ]


def test_a_broken_copy_of_iris_12_is_refused() -> None:
    raw = read_data(IRIS_12)
    data = copy.deepcopy(raw)
    b04 = data["sections"][1]["criteria"][2]["questions"][1]
    assert b04["key"] == "B04"
    b04["visible_when"] = {"key": "B05", "equals": "yes"}
    found = problems(data)
    assert len(found) == 1
    assert "visibility rule names 'B05', which comes later" in found[0]
