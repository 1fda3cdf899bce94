"""Reading responses: what is missing, progress, documents of an agency.

``missing_items(application)`` is what the application's ``questionnaire_complete`` guard
uses (iris/applications/workflow.py): every visible required question answered, required
evidence attached, the declaration signed. Each item is a string (the guard joins them)
that also carries ``url`` (where to fix it) and ``key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from iris.core.db import db
from iris.questionnaires import definition as d
from iris.questionnaires.models import EvidenceDocument, Response


class MissingItem(str):
    """What is missing, in the user's words; ``url`` links to where it is fixed."""

    key: str
    url: str | None

    def __new__(cls, text: str, *, key: str = "", url: str | None = None) -> MissingItem:
        item = super().__new__(cls, text)
        item.key = key
        item.url = url
        return item


def response_for(application: Any) -> Response | None:
    return db.session.scalar(sa.select(Response).where(Response.application_id == application.id))


def agency_documents(agency_id: int) -> list[EvidenceDocument]:
    return list(
        db.session.scalars(
            sa.select(EvidenceDocument)
            .where(EvidenceDocument.agency_id == agency_id)
            .order_by(EvidenceDocument.created_at.desc(), EvidenceDocument.id.desc())
        )
    )


def field_answered(spec: d.Field, value: Any, evidence: Mapping[str, list[Any]]) -> bool:
    if spec.type == "file":
        return bool(evidence.get(spec.key))
    if spec.type == "table":
        return d.is_answered(value) and len(value) >= max(spec.min_rows, 1)
    return d.is_answered(value)


@dataclass(frozen=True)
class Progress:
    answered: int
    required: int

    @property
    def percent(self) -> int:
        return 100 if not self.required else round(100 * self.answered / self.required)

    @property
    def complete(self) -> bool:
        return self.answered >= self.required


def progress(
    response: Response,
    *,
    visible: Mapping[str, Any] | None = None,
    evidence: Mapping[str, list[Any]] | None = None,
) -> tuple[dict[str, Progress], Progress]:
    """Answered required fields over visible required fields, per section and overall.

    ``visible`` and ``evidence``: the response's visible answers and evidence links when
    the caller has them already (a page computes them once per request).
    """
    definition = response.definition
    if visible is None:
        visible = d.visible_answers(definition, response.answers or {})
    if evidence is None:
        evidence = response.evidence_keys()
    per: dict[str, Progress] = {}
    total_a = total_r = 0
    for section in definition.sections:
        a = r = 0
        for question in section.questions:
            for spec in question.fields:
                if spec.key in visible and spec.required:
                    r += 1
                    a += field_answered(spec, visible[spec.key], evidence)
        per[section.code] = Progress(a, r)
        total_a += a
        total_r += r
    return per, Progress(total_a, total_r)


def missing_in(
    response: Response, *, with_urls: bool = True, locale: str | None = None
) -> list[MissingItem]:
    definition = response.definition
    locale = locale or str(get_locale() or "en")
    visible = d.visible_answers(definition, response.answers or {})
    evidence = response.evidence_keys()
    items: list[MissingItem] = []

    def url(section: str, key: str) -> str | None:
        if not with_urls:
            return None
        return url_for(
            "questionnaires.section",
            application=response.application.public_id,
            section=section,
            _anchor="q-" + key.replace(".", "-"),
        )

    for section in definition.sections:
        for question in section.questions:
            if question.key not in visible:
                continue
            for spec in question.fields:
                if spec.key not in visible or not spec.required:
                    continue
                if field_answered(spec, visible[spec.key], evidence):
                    continue
                link = url(section.code, spec.key)
                if spec.type == "declaration":
                    text = _("the declaration (%(key)s) is not signed", key=spec.key)
                elif spec.type == "file":
                    text = _(
                        "%(key)s: attach “%(label)s”",
                        key=question.key,
                        label=d.text_in(spec.text, locale),
                    )
                elif spec.is_main:
                    text = _("question %(key)s is not answered", key=spec.key)
                else:
                    text = _(
                        "%(key)s: “%(label)s” is not answered",
                        key=question.key,
                        label=d.text_in(spec.text, locale),
                    )
                items.append(MissingItem(text, key=spec.key, url=link))
            rule = question.evidence
            if rule is not None and rule.required_for(visible) and not evidence.get(question.key):
                items.append(
                    MissingItem(
                        _(
                            "question %(key)s needs evidence: %(what)s",
                            key=question.key,
                            what=d.text_in(rule.text, locale),
                        ),
                        key=question.key,
                        url=url(section.code, question.key),
                    )
                )
    return items


def missing_items(application: Any) -> list[MissingItem]:
    """Everything the self-assessment of ``application`` still lacks (empty when complete)."""
    response = response_for(application)
    if response is None:
        return [
            MissingItem(
                _("the self-assessment has not been started"),
                url=url_for("questionnaires.overview", application=application.public_id),
            )
        ]
    return missing_in(response)
