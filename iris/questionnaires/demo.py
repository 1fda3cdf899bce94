"""Demo data: the published IRIS 1.2 questionnaire and answered self-assessments.

``seed(ctx)`` imports and publishes ``definitions/iris-1.2.yaml`` and answers the
self-assessment of every demo application that exists by then. The applications feature
seeds after this one (FEATURES order), so it calls :func:`answer_self_assessment` for the
applications it creates (a submitted application needs a complete self-assessment).
"""

from __future__ import annotations

import random
from typing import Any

import sqlalchemy as sa

from iris.core.db import db
from iris.questionnaires import definition as d
from iris.questionnaires import operations as ops
from iris.questionnaires.models import SELF_ASSESSMENT, QuestionnaireVersion, Response
from iris.questionnaires.queries import response_for

IRIS_12 = ops.__file__.rsplit("/", 1)[0] + "/definitions/iris-1.2.yaml"

#: A one-page PDF, enough for a demo document.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def ensure_published() -> QuestionnaireVersion:
    version = ops.latest_published(SELF_ASSESSMENT)
    if version is not None:
        return version
    result = ops.import_version(d.read_data(IRIS_12))
    if not result.version.is_published:
        ops.publish_version(result.version)
    return result.version


def good_answers(rng: random.Random, *, sub_agents: bool) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "A01": "yes",
        "A01.licences": [
            {"country": "Polska", "licence_type": "KRAZ", "number": f"{rng.randint(1000, 29999)}",
             "issuer": "Marszałek Województwa", "valid_from": "2021-03-01", "valid_to": None}
        ],
        "A02": "no", "A03": rng.choice(["yes", "partial"]), "A04": "yes", "A05": "yes",
        "A06": "yes", "A07": "yes", "B01": "yes", "B02": rng.choice(["yes", "partial"]),
        "B03": "yes" if sub_agents else "no", "B06": "yes", "C01": "no", "C02": "no",
        "C03": "yes", "C03.share": 100, "C04": "yes", "C04.amount": rng.choice([0, 350, 1200]),
        "D01": "no", "D02": "yes", "D03": "yes", "E01": "yes", "E02": "yes",
        "E02.languages": ["pl", "uk", "ru"], "E03": 0,
        "E03.prevention": "Umowa podpisana przed wyjazdem jest porównywana z umową na miejscu.",
        "E04": "yes", "F01": "yes", "F02": rng.choice(["yes", "partial"]), "F03": "yes",
        "G01": "yes", "G02": rng.randint(0, 12), "G03": "yes", "M01": "yes",
        "M01.manager": "Dyrektor ds. zgodności", "M02": rng.choice([60, 85, 100]),
        "M03": "yes", "M04": "yes",
    }  # fmt: skip
    if sub_agents:
        answers |= {
            "B03.sub_agents": [
                {"name": "ТОВ «Карпати Персонал»", "country": "Україна", "licence": "AE 123456",
                 "licence_valid_to": None, "workers": 40, "last_due_diligence": "2025-11-10"}
            ],
            "B03.all_licensed": "yes", "B04": "yes", "B05": "quarterly",
            "B05.method": "Wizyty, kontrola dokumentów, rozmowy z pracownikami.",
            "B05.last_date": "2025-11-10",
        }  # fmt: skip
    if answers["G02"]:
        answers["G02.by_category"] = [
            {"category": "contract", "received": answers["G02"], "closed_on_time": answers["G02"]}
        ]
        answers["G02.on_time_share"] = 100
    return answers


def answer_self_assessment(
    application: Any, *, actor: Any, rng: random.Random, complete: bool = True,
    weak: bool = False,
) -> Response:  # fmt: skip
    """Start and answer ``application``'s self-assessment with demo evidence attached.

    ``complete`` signs the declaration and attaches every required document (so the submit
    guard passes); ``weak`` answers like an agency that is not ready (fees paid by workers).
    """
    ensure_published()
    response = response_for(application) or ops.start_response(application, actor=actor)
    answers = good_answers(rng, sub_agents=rng.random() < 0.5)
    if weak:
        answers |= {"C01": "yes", "C01.cost_types": ["medical", "travel"], "A04": "partial",
                    "M02": 20}  # fmt: skip
    if complete:
        answers["M05"] = {"name": actor.name, "signed_at": "2026-01-05T09:00:00+00:00",
                          "signed_by": actor.public_id}  # fmt: skip
    ops.save_answers(response, actor=actor, changes=answers)
    if complete:
        definition = response.definition
        visible = d.visible_answers(definition, response.answers)
        docs: dict[str, list[Any]] = {}
        for question in definition.questions.values():
            needs = question.evidence and question.evidence.required_for(visible)
            if question.key in visible and needs:
                assert question.evidence is not None
                docs[question.key] = [_demo_doc(application, actor, question.key,
                                                question.evidence.types[0])]  # fmt: skip
            for spec in question.parts:
                if spec.type == "file" and spec.key in visible:
                    docs[spec.key] = [_demo_doc(application, actor, spec.key, "other")]
        ops.save_answers(response, actor=actor, changes={}, documents=docs)
    return response


def _demo_doc(application: Any, actor: Any, key: str, doc_type: str) -> Any:
    return ops.upload_evidence(
        application.agency, actor=actor, data=DEMO_PDF + key.encode(), file_name=f"{key}.pdf",
        content_type="application/pdf", title=f"{key} — dokument", doc_type=doc_type,
        language="pl",
    )  # fmt: skip


def seed(ctx: Any) -> None:
    version = ensure_published()
    ctx.objects["questionnaire_version"] = version
    from iris.applications.models import Application
    from workflows.application import ApplicationState

    drafts = db.session.scalars(
        sa.select(Application).where(Application.state == ApplicationState.DRAFT)
    ).all()
    for application in drafts:
        if response_for(application) is None and application.created_by_id:
            from iris.accounts.models import User

            actor = db.session.get(User, application.created_by_id)
            answer_self_assessment(application, actor=actor, rng=ctx.rng, complete=False)
