"""Scoring examples worked out by hand (DOMAIN.md section 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iris.questionnaires.definition import ANSWER_LABELS, load_definition, parse_definition
from iris.questionnaires.scoring import Band, FailedCritical, Thresholds, from_json, score_response
from tests.questionnaires.answers import best_answers

IRIS_12 = Path(__file__).resolve().parents[2] / "iris/questionnaires/definitions/iris-1.2.yaml"


def t(text: str) -> dict[str, str]:
    return {"en": text}


def small() -> Any:
    """Section A: Q1 yes/no w3, Q2 y/p/n/na w2, Q3 y/p/n/na w5.
    Section B: Q4 yes/no w4 where yes is bad and critical, Q5 a % w1 scored by bands."""

    def q(key: str, kind: str, weight: int, **kw: Any) -> dict[str, Any]:
        return {"key": key, "type": kind, "text": t(key), "weight": weight, **kw}

    def section(code: str, questions: list[Any]) -> dict[str, Any]:
        criterion = {"code": f"{code}.1", "title": t(code), "questions": questions}
        return {"code": code, "title": t(code), "criteria": [criterion]}

    inverted = {"points": {"yes": 0, "no": 1}}
    q4_critical = {"fails_when": {"key": "Q4", "equals": "yes"}}
    percent = {"bands": [{"min": 90, "points": 1}, {"min": 50, "points": 0.5}, {"points": 0}]}

    return parse_definition(
        {
            "code": "small",
            "version": "1",
            "locales": ["en"],
            "title": t("Small"),
            "answer_labels": {n: t(n) for n in ANSWER_LABELS},
            "sections": [
                section("A", [q("Q1", "yes_no", 3), q("Q2", "ypna", 2), q("Q3", "ypna", 5)]),
                section("B", [q("Q4", "yes_no", 4, score=inverted, critical=q4_critical),
                              q("Q5", "number", 1, min=0, max=100, score=percent)]),
            ],
        }
    )  # fmt: skip


def test_small_example_by_hand() -> None:
    # A: Q1 yes 3×1 + Q2 partial 2×0.5 = 4 over 3+2 = 5 (Q3 n/a excluded) -> 80%
    # B: Q4 no (inverted) 4×1 + Q5 45% -> band 0 -> 1×0 = 4 over 4+1 = 5 -> 80%
    # overall 8 / 10 = 80%: not under 80%, no section under 60% -> ready
    result = score_response(
        small(), {"Q1": "yes", "Q2": "partial", "Q3": "na", "Q4": "no", "Q5": 45}
    )
    assert (result.section("A").earned, result.section("A").possible) == (4.0, 5.0)
    assert result.section("A").score == pytest.approx(0.8)
    assert (result.section("B").earned, result.section("B").possible) == (4.0, 5.0)
    assert result.overall == pytest.approx(0.8)
    assert result.band is Band.READY
    assert result.failed_criticals == ()


def test_section_at_the_threshold_and_overall_under_it_gives_gaps() -> None:
    # A: Q1 yes 3 + Q2 no 0 = 3/5 = 60% (not under 60%); B: 4/5; overall 7/10 = 70% < 80%
    result = score_response(small(), {"Q1": "yes", "Q2": "no", "Q3": "na", "Q4": "no", "Q5": 45})
    assert result.section("A").score == pytest.approx(0.6)
    assert result.overall == pytest.approx(0.7)
    assert result.band is Band.GAPS


def test_one_weak_section_gives_gaps_even_with_a_good_overall() -> None:
    # A: 3 + 2 + 5 = 10/10; B: Q4 no 4×1 + Q5 10% -> 0 = 4/5 = 80%; overall 14/15 = 93%
    answers = {"Q1": "yes", "Q2": "yes", "Q3": "yes", "Q4": "no", "Q5": 10}
    assert score_response(small(), answers).band is Band.READY
    # with a configured section minimum of 90%, B's 80% is a gap
    strict = score_response(small(), answers, Thresholds(section_min=0.9, overall_min=0.8))
    assert strict.overall == pytest.approx(14 / 15)
    assert strict.band is Band.GAPS


def test_a_failed_critical_answer_means_not_ready_and_is_listed() -> None:
    result = score_response(small(), {"Q1": "yes", "Q2": "yes", "Q3": "yes", "Q4": "yes", "Q5": 95})
    # B: Q4 yes -> 0 points, Q5 95% -> 1: 1/5; overall 11/15
    assert result.section("B").score == pytest.approx(0.2)
    assert result.band is Band.NOT_READY
    assert result.failed_criticals == (
        FailedCritical(key="Q4", section="B", criterion="B.1", answer="yes"),
    )


def test_unanswered_questions_count_as_zero_until_answered() -> None:
    # only Q1 answered: A = 3 / (3+2+5) = 30%; B = 0 / 5; overall 3/15
    result = score_response(small(), {"Q1": "yes"})
    assert result.section("A").score == pytest.approx(0.3)
    assert result.section("A").unanswered == 2
    assert result.overall == pytest.approx(0.2)
    assert result.band is Band.GAPS


def test_not_applicable_answers_are_excluded_and_an_empty_section_has_no_score() -> None:
    result = score_response(small(), {"Q1": "yes", "Q2": "na", "Q3": "na", "Q4": "no", "Q5": 100})
    assert (result.section("A").earned, result.section("A").possible) == (3, 3)
    assert result.band is Band.READY
    # every question n/a: the section has no score at all (not 0%) and makes no gap
    g_only = score_response(load_definition(IRIS_12), best_answers())
    assert g_only.section("G").possible == 8


def test_iris_12_best_answers_by_hand() -> None:
    definition = load_definition(IRIS_12)
    result = score_response(definition, best_answers())
    # B03 "no" hides B04, B05 and the scored part B03.all_licensed; G02 = 0 hides its on-time
    # share: those are excluded. Possible weights per section:
    # A 5+4+3+5+5+3+3 = 28; B 4+4+3 = 11; C 5+5+5+4 = 19; D 5+3+4 = 12; E 5+5+5+3 = 18;
    # F 4+3+3 = 10; G 5+3 = 8; M 3+3+3+2+5 = 16; total 122, all earned.
    possible = {s.code: s.possible for s in result.sections}
    assert possible == {"A": 28, "B": 11, "C": 19, "D": 12, "E": 18, "F": 10, "G": 8, "M": 16}
    assert result.earned == result.possible == 122
    assert result.band is Band.READY
    assert result.failed_criticals == ()


def test_iris_12_mixed_answers_by_hand() -> None:
    definition = load_definition(IRIS_12)
    answers = best_answers() | {
        "A03": "partial",  # A: 28 - 3×0.5 = 26.5
        "C03": "no",  # C: 19 - 5 = 14
        "M02": 60,  # band >= 50 -> 0.5: M: 16 - 3×0.5 = 14.5
        "B03": "yes",  # B: sub-agents shown
        "B03.all_licensed": "partial",  # B03 w4 × 0.5 = 2
        "B04": "yes",  # w5 × 1 = 5
        "B05": "yearly",  # w4 × 0.5 = 2 -> B: 11 + 2 + 5 + 2 = 20 over 11 + 4 + 5 + 4 = 24
    }
    result = score_response(definition, answers)
    assert result.section("A").earned == 26.5
    assert result.section("B").earned == 20 and result.section("B").possible == 24
    assert result.section("C").score == pytest.approx(14 / 19)
    assert result.section("M").earned == 14.5
    # overall (26.5 + 20 + 14 + 12 + 18 + 10 + 8 + 14.5) / (28 + 24 + 19 + 12 + 18 + 10 + 8 + 16)
    assert result.overall == pytest.approx(123 / 135)
    assert result.band is Band.READY

    # two cases of contract substitution: E03 scores 0 and is critical
    worse = score_response(definition, answers | {"E03": 2})
    assert worse.section("E").score == pytest.approx(13 / 18)
    assert worse.band is Band.NOT_READY
    assert [f.key for f in worse.failed_criticals] == ["E03"]
    assert worse.failed_criticals[0].criterion == "E.2"

    # a critical answered "partial" fails too, and so does an unsigned declaration
    partial = score_response(definition, answers | {"B04": "partial", "M05": None})
    assert [f.key for f in partial.failed_criticals] == ["B04", "M05"]

    # fees paid by a worker (C01 yes) fails; hidden B04 never fails
    fees = score_response(definition, best_answers() | {"C01": "yes", "B04": "no"})
    assert [f.key for f in fees.failed_criticals] == ["C01"]


def test_score_round_trips_through_json() -> None:
    result = score_response(small(), {"Q1": "yes", "Q4": "yes"})
    assert from_json(result.to_json()) == result
