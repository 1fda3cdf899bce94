"""Benchmark: the self-assessment with a generated 200-question version.

Measures, in one process and one run, the server time per request of
  1. rendering the longest page of the questionnaire (GET),
  2. saving that page with every answer given (POST: validation, merge, discarding of hidden
     answers, full rescore of the response, commit),
  3. two baselines, Flask views of the same app rendering a static template of similar size
     (the rendered HTML of the longest page, frozen as a template): "bare" (public, the
     whole frozen page, no layout) and "layout" (signed in, the frozen content inside
     base.html: the same user loading, navigation and layout every page of the product pays).
Requests go through the WSGI stack with Flask's test client (no network), interleaved so the
machine's noise hits all three alike; medians and ratios are printed. Target: both within 3x
of the static page.

    .venv/bin/python bench/bench_questionnaire.py [--rounds 200] [--clock wall|cpu]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Blueprint, render_template  # noqa: E402

from iris import create_app  # noqa: E402
from iris.core.db import db  # noqa: E402
from iris.core.permissions import login_required  # noqa: E402

LOCALES = ["en", "pl", "uk", "ru"]
SECTIONS = {"A": 50, "B": 30, "C": 30, "D": 30, "E": 30, "F": 30}  # 200 questions


def t(text: str) -> dict[str, str]:
    return {loc: f"{text} [{loc}] — lorem ipsum dolor sit amet" for loc in LOCALES}


def generated_definition() -> dict[str, Any]:
    """200 questions of every scored type, with parts, visibility rules and evidence."""
    kinds = ["yes_no", "ypna", "ypna", "number", "single_choice", "ypna", "yes_no", "text"]
    sections = []
    n = 0
    for code, count in SECTIONS.items():
        questions = []
        for i in range(count):
            n += 1
            key = f"{code}{i + 1:03d}"
            kind = kinds[n % len(kinds)]
            q: dict[str, Any] = {"key": key, "type": kind, "text": t(f"Question {key}")}
            if kind == "number":
                q |= {"min": 0, "max": 100, "weight": 3,
                      "score": {"bands": [{"min": 80, "points": 1}, {"points": 0}]}}  # fmt: skip
            elif kind == "single_choice":
                q |= {"weight": 2, "options": [
                    {"value": f"o{j}", "text": t(f"Option {j}"), "points": j / 3} for j in range(4)
                ]}  # fmt: skip
            elif kind == "text":
                q |= {"max_length": 500, "required": False}
            else:
                q["weight"] = 1 + n % 5
            if kind == "yes_no":
                q["parts"] = [{"name": "details", "type": "text", "max_length": 1000,
                               "text": t("Details"), "visible_when": {"key": key, "equals": "yes"}}]  # fmt: skip
            if kind == "ypna":
                q["evidence"] = {"types": ["policy"], "text": t("Policy"),
                                 "required": {"key": key, "in": ["yes", "partial"]}}  # fmt: skip
            if i and i % 10 == 0:
                prev = questions[-1]
                if prev["type"] in ("yes_no", "ypna"):
                    q["visible_when"] = {"key": prev["key"], "not_equals": "no"}
            questions.append(q)
        sections.append({"code": code, "title": t(f"Section {code}"),
                         "criteria": [{"code": f"{code}.1", "title": t("Criterion"),
                                       "provisional": True, "questions": questions}]})  # fmt: skip
    return {
        "code": "bench-200", "version": "1", "locales": LOCALES, "title": t("Bench"),
        "answer_labels": {k: t(k) for k in ("yes", "no", "partial", "na", "signed")},
        "evidence_types": {"policy": t("Policy")}, "sections": sections,
    }  # fmt: skip


def answers_for(definition: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q in definition.questions.values():
        main = q.main
        if main.type in ("yes_no", "ypna"):
            out[q.key] = "yes"
            for part in q.parts:
                out[part.key] = "Some details about how it is done."
        elif main.type == "number":
            out[q.key] = 85
        elif main.type == "single_choice":
            out[q.key] = "o3"
        elif main.type == "text":
            out[q.key] = "A free-text answer."
    return out


def form_data(definition: Any, code: str, answers: dict[str, Any]) -> dict[str, Any]:
    from iris.questionnaires.forms import field_name

    data: dict[str, Any] = {"save": "Save"}
    for q in definition.section(code).questions:
        for spec in q.fields:
            if spec.key in answers:
                data[field_name(spec.key)] = str(answers[spec.key])
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--profile", choices=["render", "save"], help="profile instead of timing")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key for --profile")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: elapsed time; cpu: this process's CPU time (steadier on a loaded machine)",
    )
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time

    tmp = Path(tempfile.mkdtemp(prefix="iris-bench-q-"))
    static_dir = tmp / "templates"
    static_dir.mkdir()
    app = create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
        "IRIS_STORAGE_DIR": str(tmp / "files"), "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "SERVER_NAME": "localhost", "SESSION_COOKIE_SECURE": False,
    })  # fmt: skip
    static_bp = Blueprint("bench_static", __name__, template_folder=str(static_dir))

    @static_bp.get("/bench/static")
    def static_page():  # type: ignore[no-untyped-def]
        return render_template("bench_static.html")

    static_page.iris_access = "public"  # type: ignore[attr-defined]

    @static_bp.get("/bench/layout")
    @login_required
    def layout_page():  # type: ignore[no-untyped-def]
        return render_template("bench_layout.html")

    app.register_blueprint(static_bp)

    from iris.accounts.models import Membership, Organisation, User
    from iris.agencies.models import AgencyProfile
    from iris.applications.models import Application
    from iris.questionnaires import definition as d
    from iris.questionnaires import operations as ops
    from iris.questionnaires.demo import DEMO_PDF
    from workflows.application import ApplicationState
    from workflows.roles import OrgKind, Role

    data = generated_definition()
    definition = d.parse_definition(copy.deepcopy(data))
    assert len(definition.questions) == 200, len(definition.questions)
    with app.app_context():
        db.create_all()
        agency = Organisation(kind=OrgKind.AGENCY, name="Bench Agency", country="PL", city="Łódź")
        user = User(email="bench@example.com", name="Bench User", locale="pl")
        db.session.add_all([agency, user])
        db.session.flush()
        agency.agency_profile = AgencyProfile(services=["placement"])  # type: ignore[attr-defined]
        db.session.add(Membership(user=user, organisation=agency, role=Role.AGENCY_ADMIN))
        application = Application(agency_id=agency.id, state=ApplicationState.DRAFT,
                                  created_by_id=user.id)  # fmt: skip
        db.session.add(application)
        version = ops.import_version(data).version
        ops.publish_version(version)
        db.session.flush()
        # the agency's register holds 20 documents (offered for linking on every question)
        for i in range(20):
            ops.upload_evidence(agency, actor=user, data=DEMO_PDF + bytes([i]),
                                file_name=f"doc{i}.pdf", content_type="application/pdf",
                                title=f"Document {i}", doc_type="policy", language="pl")  # fmt: skip
        response = ops.start_response(application, actor=user, code="bench-200")
        answers = answers_for(definition)
        ops.save_answers(response, actor=user, changes=answers)
        db.session.commit()
        app_id, user_pid = application.public_id, user.public_id

    longest = max(definition.sections, key=lambda s: sum(len(q.fields) for q in s.questions))
    page_url = f"/applications/{app_id}/self-assessment/{longest.code}"
    post_data = form_data(definition, longest.code, answers)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_pid
        sess["_fresh"] = True

    first = client.get(page_url)
    assert first.status_code == 200, first.status_code
    html = first.get_data(as_text=True)
    (static_dir / "bench_static.html").write_text(
        "{% raw %}" + html + "{% endraw %}", encoding="utf-8"
    )
    content = html[html.index('<main id="main"') : html.index("</main>")]
    (static_dir / "bench_layout.html").write_text(
        "{% extends 'base.html' %}{% block content %}{% raw %}"
        + content
        + "{% endraw %}{% endblock %}",
        encoding="utf-8",
    )
    check = client.post(page_url, data=post_data)
    assert check.status_code == 302, check.get_data(as_text=True)[:2000]
    assert client.get("/bench/static").status_code == 200

    def timed(fn: Any) -> float:
        start = clock()
        resp = fn()
        elapsed = clock() - start
        assert resp.status_code in (200, 302), resp.status_code
        return elapsed

    if args.profile:  # where a page's time goes (development aid)
        import cProfile
        import pstats

        with cProfile.Profile() as prof:
            for _ in range(20):
                client.get(page_url) if args.profile == "render" else client.post(
                    page_url, data=post_data
                )
        stats = pstats.Stats(prof).sort_stats(args.sort)
        stats.print_stats(45)
        stats.print_callers("inspection.py")
        return

    runs: dict[str, list[float]] = {"static": [], "layout": [], "render": [], "save": []}
    for _ in range(10):  # warm-up
        client.get("/bench/static")
        client.get("/bench/layout")
        client.get(page_url)
    for _ in range(args.rounds):
        runs["static"].append(timed(lambda: client.get("/bench/static")))
        runs["layout"].append(timed(lambda: client.get("/bench/layout")))
        runs["render"].append(timed(lambda: client.get(page_url)))
        runs["save"].append(timed(lambda: client.post(page_url, data=post_data)))

    med = {k: statistics.median(v) * 1000 for k, v in runs.items()}
    p90 = {k: statistics.quantiles(v, n=10)[-1] * 1000 for k, v in runs.items()}
    print(f"questions: {len(definition.questions)}; longest page: section {longest.code}, "
          f"{sum(len(q.fields) for q in longest.questions)} answers, {len(html) / 1024:.0f} KiB HTML; "
          f"rounds: {args.rounds}; clock: {args.clock}")  # fmt: skip
    rows = (("static", "static template, bare"), ("layout", "static template in layout"),
            ("render", "render longest page"), ("save", "save page + full rescore"))  # fmt: skip
    for name, label in rows:
        print(f"  {label:<27} median {med[name]:7.2f} ms   p90 {p90[name]:7.2f} ms   "
              f"x{med[name] / med['static']:.2f} of bare   x{med[name] / med['layout']:.2f} of layout")  # fmt: skip
    for base in ("static", "layout"):
        ok = med["render"] <= 3 * med[base] and med["save"] <= 3 * med[base]
        print(f"target (within 3x of the {base} page):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
