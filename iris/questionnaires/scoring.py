"""Scoring of a response (DOMAIN.md section 6; pure Python, no Flask).

- Points of an answer: yes 1, partial 0.5, no 0; "not applicable" is excluded. A question's
  ``score`` rule may invert them (C01: a "yes" is the bad answer), give points per option, or
  score a number by bands (E03: no case of contract substitution scores 1).
- A question counts only while it is visible. A visible question not yet answered counts
  with its weight and 0 points: what is not answered is not shown to be met. (Its score
  source may be a part that is hidden — G02 with no grievance has no on-time share to
  score — and then the question is excluded like "not applicable".)
- A section's (principle's) score is sum(weight × points) / sum(weight) over its counted
  questions; the overall score is the same sum over every counted question (not an average of
  sections, so each question weighs the same wherever it sits).
- Readiness: ``not_ready`` if any critical answer fails; ``gaps`` if any section scores
  under ``section_min`` (60%) or the overall is under ``overall_min`` (80%); ``ready``
  otherwise. Thresholds are configuration (IRIS_READINESS_SECTION_MIN/_OVERALL_MIN).
- A failed critical answer is listed with its criterion; it becomes a draft finding for the
  auditor to confirm or dismiss. The self-assessment never certifies: the audit decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from iris.questionnaires.definition import Definition, Question, is_answered, visible_answers


class Band(StrEnum):
    NOT_READY = "not_ready"
    GAPS = "gaps"
    READY = "ready"


@dataclass(frozen=True)
class Thresholds:
    section_min: float = 0.60
    overall_min: float = 0.80


@dataclass(frozen=True)
class SectionScore:
    code: str
    earned: float  # sum of weight × points
    possible: float  # sum of weight over counted questions
    counted: int  # questions counted (visible, applicable)
    unanswered: int  # of which not answered yet (0 points)

    @property
    def score(self) -> float | None:
        return self.earned / self.possible if self.possible else None


@dataclass(frozen=True)
class FailedCritical:
    key: str
    section: str
    criterion: str
    answer: Any


@dataclass(frozen=True)
class ScoreResult:
    sections: tuple[SectionScore, ...]
    earned: float
    possible: float
    band: Band
    failed_criticals: tuple[FailedCritical, ...]

    @property
    def overall(self) -> float | None:
        return self.earned / self.possible if self.possible else None

    def section(self, code: str) -> SectionScore:
        return next(s for s in self.sections if s.code == code)

    def to_json(self) -> dict[str, Any]:
        """A plain dict, stored on the response and read back with :func:`from_json`."""
        return {
            "sections": [asdict(s) for s in self.sections],
            "earned": self.earned,
            "possible": self.possible,
            "band": self.band.value,
            "failed_criticals": [asdict(f) for f in self.failed_criticals],
        }


def from_json(data: Mapping[str, Any]) -> ScoreResult:
    return ScoreResult(
        sections=tuple(SectionScore(**s) for s in data["sections"]),
        earned=data["earned"],
        possible=data["possible"],
        band=Band(data["band"]),
        failed_criticals=tuple(FailedCritical(**f) for f in data["failed_criticals"]),
    )


def question_points(question: Question, visible: Mapping[str, Any]) -> float | None:
    """The points (0..1) of a visible question, or None when it is excluded.

    ``visible`` holds the answers of visible fields only (see ``visible_answers``); a key
    absent from it is hidden.
    """
    rule = question.score
    if rule is None:
        return None
    if rule.source not in visible:
        return None  # the scored part is hidden: nothing to score, like "not applicable"
    value = visible[rule.source]
    if not is_answered(value):
        return 0.0
    if rule.bands:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return 0.0
        for lo, hi, points in rule.bands:
            if (lo is None or value >= lo) and (hi is None or value <= hi):
                return points
        return 0.0
    if question.fields[0].type == "declaration" and rule.source == question.key:
        return rule.points.get("signed", 1.0)
    if isinstance(value, str):
        return rule.points.get(value)  # "na" (and any value without points) is excluded
    return None


def score_response(
    definition: Definition,
    answers: Mapping[str, Any],
    thresholds: Thresholds | None = None,
    *,
    visible: Mapping[str, Any] | None = None,
) -> ScoreResult:
    """The full score of ``answers``; ``visible``: their visible answers if already known."""
    thresholds = thresholds or Thresholds()
    if visible is None:
        visible = visible_answers(definition, answers)
    sections = []
    failed: list[FailedCritical] = []
    for section in definition.sections:
        earned = possible = 0.0
        counted = unanswered = 0
        for question in section.questions:
            if question.key not in visible:
                continue
            if question.critical is not None and question.critical.holds(visible):
                failed.append(
                    FailedCritical(
                        key=question.key,
                        section=section.code,
                        criterion=question.criterion,
                        answer=visible.get(question.key),
                    )
                )
            points = question_points(question, visible)
            if points is None:
                continue
            counted += 1
            source = question.score.source if question.score else question.key
            if not is_answered(visible.get(source)):
                unanswered += 1
            earned += question.weight * points
            possible += question.weight
        sections.append(SectionScore(section.code, earned, possible, counted, unanswered))
    total_earned = sum(s.earned for s in sections)
    total_possible = sum(s.possible for s in sections)
    overall = total_earned / total_possible if total_possible else None
    if failed:
        band = Band.NOT_READY
    elif (
        overall is None
        or overall < thresholds.overall_min
        or any(s.score is not None and s.score < thresholds.section_min for s in sections)
    ):
        band = Band.GAPS
    else:
        band = Band.READY
    return ScoreResult(tuple(sections), total_earned, total_possible, band, tuple(failed))
