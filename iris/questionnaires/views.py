"""The agency's self-assessment pages, the readiness report and the evidence register."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from iris.applications.models import Application
from iris.core import storage
from iris.core.db import db, writes
from iris.core.permissions import login_required, require
from iris.privacy import hooks as privacy
from iris.questionnaires import definition as d
from iris.questionnaires import operations as ops
from iris.questionnaires import rendering
from iris.questionnaires.forms import (
    UNANSWERED,
    EvidenceForm,
    StartForm,
    UpgradeForm,
    _doc_label,
    condition_json,
    evidence_name,
    field_name,
    section_form,
    sign_name,
)
from iris.questionnaires.models import EvidenceDocument, Response
from iris.questionnaires.permissions import (
    AGENCY_ROLES,
    can_edit_response,
    can_view_evidence,
    can_view_response,
    is_agency_member,
)
from iris.questionnaires.queries import agency_documents, missing_in, progress, response_for
from iris.questionnaires.scoring import Band

bp = Blueprint("questionnaires", __name__)

EXPIRY_WARNING_DAYS = 30


def _locale() -> str:
    return str(get_locale() or "en")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _application(public_id: str) -> Application:
    application = db.session.scalar(
        sa.select(Application).where(Application.public_id == public_id)
    )
    require(application is not None and application.can_view(current_user), 404)
    assert application is not None
    return application


def _response(application: Application) -> Response:
    response = response_for(application)
    if response is None:
        abort(404)
    require(can_view_response(current_user, response), 404)
    return response


def _context(
    response: Response,
    *,
    visible: dict[str, Any] | None = None,
    linked: dict[str, list[EvidenceDocument]] | None = None,
) -> dict[str, Any]:
    """The pages' common context; ``visible``/``linked``: the response's current visible
    answers and evidence links, when the view has them already."""
    locale = _locale()
    definition = response.definition
    per, overall = progress(response, visible=visible, evidence=linked)
    newer = ops.latest_published(response.version.code)
    return {
        "response": response,
        "application": response.application,
        "definition": definition,
        "locale": locale,
        "t": lambda text: d.text_in(text, locale),
        "labels": {k: d.text_in(v, locale) for k, v in definition.answer_labels.items()},
        "progress": per,
        "overall_progress": overall,
        "score": response.score,
        "editable": can_edit_response(current_user, response),
        "newer_version": newer
        if newer is not None
        and newer.id != response.version_id
        and (newer.published_at or 0) > (response.version.published_at or 0)
        else None,
        "Band": Band,
        "thresholds": ops.thresholds(),
    }


@bp.get("/applications/<application>/self-assessment")
@login_required
def overview(application: str):  # type: ignore[no-untyped-def]
    app_ = _application(application)
    response = response_for(app_)
    if response is None:
        can_start = (
            is_agency_member(current_user, app_.agency_id) and app_.state in ops.EDITABLE_STATES
        )
        return render_template(
            "questionnaires/start.html",
            application=app_,
            form=StartForm(),
            can_start=can_start,
            version=ops.latest_published(),
        )
    require(can_view_response(current_user, response), 404)
    ctx = _context(response)
    ctx["missing"] = missing_in(response)
    return render_template("questionnaires/overview.html", **ctx)


@bp.post("/applications/<application>/self-assessment/start")
@login_required
def start(application: str):  # type: ignore[no-untyped-def]
    app_ = _application(application)
    require(is_agency_member(current_user, app_.agency_id), 403)
    form = StartForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        response = ops.start_response(app_, actor=current_user)
    except ops.QuestionnaireError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".overview", application=application))
    db.session.commit()
    first = response.definition.sections[0].code
    return redirect(url_for(".section", application=application, section=first))


@bp.route("/applications/<application>/self-assessment/<section>", methods=["GET", "POST"])
@login_required
def section(application: str, section: str):  # type: ignore[no-untyped-def]
    app_ = _application(application)
    response = _response(app_)
    definition = response.definition
    sec = definition.section(section)
    require(sec is not None, 404)
    assert sec is not None
    editable = can_edit_response(current_user, response)
    if request.method == "POST":
        require(editable, 403)  # seen (else 404 above) but not changeable by this user
    locale = _locale()
    visible = d.visible_answers(definition, response.answers or {})
    post = request.method == "POST"
    posted = _EvidencePosted() if post else None
    # a post needs the register only to link chosen documents (or to show the page again)
    documents = (
        agency_documents(response.agency_id)
        if editable and (posted is None or posted.links)
        else []
    )
    linked = {} if post else response.evidence_keys()  # a post reads them after saving
    shown_only = not post and editable
    form = section_form(
        definition, sec, visible=visible, documents=documents, linked=linked, locale=locale,
        today=_today(), user_id=current_user.public_id,
        evidence_fields=post,
        unbound=rendering.unbound_keys(sec, rendering.fixed_fragments(definition, locale))
        if shown_only else frozenset(),
        evidence_posted=posted,
    )  # fmt: skip
    status = 200
    if request.method == "POST":
        valid = form.validate()
        changes: dict[str, Any] = {}
        for key, name in form.plan.answer_fields.items():
            wtfield = form[name]
            answer = getattr(wtfield, "answer", UNANSWERED)
            if not wtfield.errors and answer is not UNANSWERED:
                changes[key] = answer
        attach: dict[str, list[EvidenceDocument]] = {}
        by_id = {doc.public_id: doc for doc in documents}
        for key in form.plan.evidence_keys:
            if evidence_name(key, "file") not in form:
                continue  # nothing posted for this answer's evidence
            chosen = [by_id[p] for p in form[evidence_name(key, "link")].data or [] if p in by_id]
            file_field = form[evidence_name(key, "file")]
            upload = getattr(file_field, "upload", None)
            valid_to = getattr(form[evidence_name(key, "valid_to")], "answer", None)
            if upload is not None and not form[evidence_name(key, "valid_to")].errors:
                question = definition.question_of(key)
                types = question.evidence.types if question.evidence else ("other",)
                label = (
                    d.text_in(definition.fields[key].text, locale) if key != question.key else None
                )
                chosen.append(
                    ops.upload_evidence(
                        response.agency, actor=current_user, data=upload.data,
                        file_name=upload.file_name, content_type=upload.content_type,
                        title=label or upload.file_name, doc_type=types[0], language=locale,
                        valid_to=dt.date.fromisoformat(valid_to) if valid_to else None,
                    )
                )  # fmt: skip
            if chosen:
                attach[key] = chosen
        result = ops.save_answers(
            response, actor=current_user, changes=changes, documents=attach, visible=visible
        )
        db.session.commit()
        if result.discarded:
            flash(
                _("These answers no longer apply after your changes and were removed: %(keys)s.",
                  keys=", ".join(result.discarded)),
                "warning",
            )  # fmt: skip
        if not valid:
            flash(_("Your other answers are saved. Correct the answers marked below."), "error")
            status = 422
        else:
            new_here = [
                k for k in result.newly_visible if definition.question_of(k).section == sec.code
            ]
            flash(_("Saved."), "success")
            if new_here:
                flash(_("Your answers opened more questions on this page."), "info")
            elif form.save_next.data:
                return redirect(_next_url(response, sec.code))
            return redirect(url_for(".section", application=application, section=sec.code))
    get = request.method == "GET"  # nothing saved: the answers and links read above hold
    if post and editable and not documents:
        documents = agency_documents(response.agency_id)  # the page is shown again (422)
    ctx = _context(response, visible=visible, linked=linked) if get else _context(response)
    ctx.update(
        section=sec,
        form=form,
        visible=visible if get or status != 200 else d.visible_answers(definition, response.answers or {}),
        linked=linked if get else response.evidence_keys(),
        field_name=field_name,
        evidence_name=evidence_name,
        sign_name=sign_name,
        display=lambda spec, value: display_value(spec, value, locale, ctx["labels"]),
        doc_options=_doc_options(documents),
        L=_section_strings(),
        choice_group=rendering.choice_group,
        evidence_inputs=rendering.evidence_inputs,
        show_when=lambda key, own=False: _show_when(form, key, own),
        when_hint=lambda key, own=False: _when_hint(definition, form, key, own, ctx),
        card_ok=rendering.is_card_question,
        question_card=rendering.question_card,
    )  # fmt: skip
    ctx["page"] = _card_page(ctx, definition, form, locale, application)
    return render_template("questionnaires/section.html", **ctx), status


class _EvidencePosted:
    """Called with an answer key: whether the request carries a chosen document, a file or a
    date for that answer's evidence; ``links``: whether any document was chosen at all."""

    def __init__(self) -> None:
        form, files = request.form, request.files
        names = {n for n, v in form.items(multi=True) if n.startswith("ev__") and v.strip()}
        names |= {n for n, f in files.items(multi=True) if n.startswith("ev__") and f.filename}
        self.names = names
        self.links = any(n.endswith("__link") for n in names)

    def __call__(self, key: str) -> bool:
        return any(evidence_name(key, w) in self.names for w in ("link", "file", "valid_to"))


def _card_page(
    ctx: dict[str, Any], definition: d.Definition, form: Any, locale: str, application: str
) -> SimpleNamespace:
    """What :func:`rendering.question_card` needs of this request.

    The rule hints and the script's rule JSON depend only on the version and the locale:
    they are kept in the version's fixed fragments (built on first use).
    """
    fixed = rendering.fixed_fragments(definition, locale)
    env = current_app.jinja_env
    dumps, dumps_kwargs = env.policies["json.dumps_function"], env.policies["json.dumps_kwargs"]
    strings, linked = ctx["L"], ctx["linked"]

    def show_when_json(key: str, own: bool) -> str:
        found = fixed.get(("json", key, own))
        if found is None:
            value = _show_when(form, key, own)
            found = fixed[("json", key, own)] = str(
                htmlsafe_json_dumps(value, dumps=dumps, **dumps_kwargs)
            )
        return str(found)

    def hint(key: str, own: bool) -> str:
        found = fixed.get(("hint", key, own))
        if found is None:
            found = fixed[("hint", key, own)] = str(
                escape(_when_hint(definition, form, key, own, ctx))
            )
        return str(found)

    def evidence_block(key: str) -> Markup:
        return rendering.evidence_html(
            linked.get(key, []),
            key,
            form,
            strings,
            ctx["doc_options"],
            download_url=lambda doc: url_for(".evidence_download", doc=doc.public_id),
            unlink_url=lambda doc: url_for(
                ".unlink", application=application, key=key, doc=doc.public_id
            ),
        )

    return SimpleNamespace(
        fixed=fixed,
        form=form,
        visible=ctx["visible"],
        L=strings,
        labels=ctx["labels"],
        t=ctx["t"],
        field_name=field_name,
        show_when_json=show_when_json,
        hint=hint,
        evidence_block=evidence_block,
    )


_SECTION_STRINGS: dict[str, dict[str, str]] = {}


def _section_strings() -> dict[str, str]:
    """The page's repeated interface words, translated once per locale (not per question;
    the catalogues do not change while the process runs). Read-only."""
    locale = _locale()
    found = _SECTION_STRINGS.get(locale)
    if found is None:
        found = _SECTION_STRINGS[locale] = _translate_section_strings()
    return found


def _translate_section_strings() -> dict[str, str]:
    return {
        "critical": _("critical"),
        "empty_rows": _("Empty rows are ignored. Save to get more empty rows."),
        "optional": _("Optional."),
        "optional_column": _("optional"),
        "evidence": _("Evidence"),
        "required": _("required"),
        "provisional": _("provisional"),
        "provisional_title": _(
            "Criteria after A.3 are provisional until the standard text is confirmed."
        ),
        "no_doc": _("No document attached."),
        "attach": _("Attach a document"),
        "remove": _("remove"),
        "link_label": _("Documents from the evidence register"),
        "file_label": _("Upload a new document"),
        "valid_label": _("Valid until (optional)"),
    }


def _doc_options(documents: list[EvidenceDocument]) -> Markup:
    """The register's documents as <option>s, built once per page and reused by every question."""
    return Markup(  # noqa: S704 (every value is escaped)
        "".join(
            f'<option value="{escape(doc.public_id)}">{escape(_doc_label(doc))}</option>'
            for doc in documents
        )
    )


def _rules(form: Any, key: str, own: bool) -> list[d.Condition]:
    rules = form.plan.conditional.get(key, [])
    # a question's rule sits on its card; a part's own rule on the part
    return rules[-1:] if own else rules[:1]


def _show_when(form: Any, key: str, own: bool) -> list[dict[str, Any]]:
    return [condition_json(r) for r in _rules(form, key, own)]


def _when_hint(
    definition: d.Definition, form: Any, key: str, own: bool, ctx: dict[str, Any]
) -> str:
    parts = [describe(r, definition, ctx["locale"], ctx["labels"]) for r in _rules(form, key, own)]
    return _("Answer this only if %(condition)s.", condition="; ".join(parts))


def describe(
    condition: d.Condition, definition: d.Definition, locale: str, labels: dict[str, str]
) -> str:
    """A visibility rule in words, e.g. "A01 is “Yes”"."""
    if condition.children:
        joiner = {"all": _(" and "), "any": _(" or ")}.get(condition.op, _(" and "))
        inner = joiner.join(describe(c, definition, locale, labels) for c in condition.children)
        return _("not (%(rule)s)", rule=inner) if condition.op == "not" else inner
    key = condition.key or ""
    spec = definition.fields.get(key)

    def word(value: Any) -> str:
        if spec is not None and spec.type in ("yes_no", "ypna"):
            return f"“{labels.get(value, value)}”"
        if spec is not None and (option := spec.option(str(value))):
            return f"“{d.text_in(option.text, locale)}”"
        return str(value)

    op, value = condition.op, condition.value
    if op == "equals":
        return _("%(key)s is %(value)s", key=key, value=word(value))
    if op == "not_equals":
        return _("%(key)s is not %(value)s", key=key, value=word(value))
    if op == "in":
        return _("%(key)s is %(value)s", key=key, value=_(" or ").join(word(v) for v in value))
    if op == "not_in":
        return _("%(key)s is not %(value)s", key=key, value=_(" or ").join(word(v) for v in value))
    if op == "contains":
        return _("%(key)s includes %(value)s", key=key, value=word(value))
    if op in ("gt", "gte", "lt", "lte"):
        sign = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}[op]
        return f"{key} {sign} {value}"
    return _("%(key)s is answered", key=key) if value else _("%(key)s is not answered", key=key)


def _next_url(response: Response, code: str) -> str:
    codes = [s.code for s in response.definition.sections]
    index = codes.index(code)
    application = response.application.public_id
    if index + 1 < len(codes):
        return url_for(".section", application=application, section=codes[index + 1])
    return url_for(".overview", application=application)


def display_value(spec: d.Field, value: Any, locale: str, labels: dict[str, str]) -> str:
    """An answer as text, for read-only pages."""
    if not d.is_answered(value):
        return "—"
    if spec.type in ("yes_no", "ypna"):
        return labels.get(value, str(value))
    if spec.type in ("single_choice", "multiple_choice"):
        values = value if isinstance(value, list) else [value]
        return ", ".join(d.text_in(o.text, locale) if (o := spec.option(v)) else v for v in values)
    if spec.type == "declaration":
        return _(
            "Signed by %(name)s on %(when)s",
            name=value.get("name"),
            when=str(value.get("signed_at", ""))[:10],
        )
    if spec.type == "number":
        unit = d.text_in(spec.unit, locale) if spec.unit else ""
        return (
            f"{value:g} {unit}".strip() if isinstance(value, float) else f"{value} {unit}".strip()
        )
    return str(value)


@bp.get("/applications/<application>/self-assessment/report")
@login_required
def report(application: str):  # type: ignore[no-untyped-def]
    response = _response(_application(application))
    ctx = _context(response)
    return render_template("questionnaires/report.html", **ctx)


@bp.route("/applications/<application>/self-assessment/upgrade", methods=["GET", "POST"])
@login_required
def upgrade(application: str):  # type: ignore[no-untyped-def]
    response = _response(_application(application))
    require(can_edit_response(current_user, response), 403)
    target = ops.latest_published(response.version.code)
    if target is None or target.id == response.version_id:
        flash(_("Your self-assessment already uses the newest version."), "info")
        return redirect(url_for(".overview", application=application))
    form = UpgradeForm()
    if form.validate_on_submit():
        report_ = ops.migrate_response(response, target, actor=current_user, today=_today())
        db.session.commit()
        flash(
            _("Moved to version %(v)s: %(carried)d answers carried over, %(dropped)d dropped, "
              "%(needs)d need a new answer.", v=target.version, carried=len(report_.carried),
              dropped=len(report_.dropped), needs=len(report_.needs_answer)),
            "success",
        )  # fmt: skip
        return redirect(url_for(".overview", application=application))
    plan = ops.plan_migration(response, target, _today())
    ctx = _context(response)
    ctx.update(form=form, target=target, plan=plan, new_definition=target.parsed)
    return render_template("questionnaires/upgrade.html", **ctx)


# --------------------------------------------------------------------------------------------
# Evidence register
# --------------------------------------------------------------------------------------------


def _agency_for_register() -> Any:
    agencies = current_user.orgs_with(*AGENCY_ROLES)
    require(bool(agencies), 403)
    wanted = request.args.get("agency")
    if wanted:
        found = [a for a in agencies if a.public_id == wanted]
        require(bool(found), 404)
        return found[0]
    return agencies[0]


def _document(public_id: str) -> EvidenceDocument:
    doc = db.session.scalar(
        sa.select(EvidenceDocument).where(EvidenceDocument.public_id == public_id)
    )
    require(doc is not None and can_view_evidence(current_user, doc), 404)
    assert doc is not None
    return doc


def _evidence_choices(form: EvidenceForm) -> None:
    from iris.questionnaires.models import SELF_ASSESSMENT  # noqa: F401

    version = ops.latest_published()
    locale = _locale()
    types = version.parsed.evidence_types if version is not None else {"other": {"en": "Other"}}
    form.doc_type.choices = [(k, d.text_in(v, locale)) for k, v in types.items()]
    from iris.core.templating import LOCALE_NAMES

    form.language.choices = [(k, v) for k, v in LOCALE_NAMES.items()] + [("other", _("Other"))]


@bp.get("/evidence")
@login_required
def evidence_register():  # type: ignore[no-untyped-def]
    agency = _agency_for_register()
    documents = agency_documents(agency.id)
    today = _today()
    version = ops.latest_published()
    locale = _locale()
    type_names = {
        k: d.text_in(v, locale)
        for k, v in (version.parsed.evidence_types.items() if version else [])
    }
    expired = [doc for doc in documents if doc.is_expired(today)]
    soon = [doc for doc in documents if doc.expires_within(today, EXPIRY_WARNING_DAYS)]
    return render_template(
        "questionnaires/evidence_register.html",
        agency=agency,
        documents=documents,
        today=today,
        expired=expired,
        soon=soon,
        warning_days=EXPIRY_WARNING_DAYS,
        type_names=type_names,
        agencies=current_user.orgs_with(*AGENCY_ROLES),
    )


@bp.route("/evidence/upload", methods=["GET", "POST"])
@login_required
def evidence_upload():  # type: ignore[no-untyped-def]
    agency = _agency_for_register()
    form = EvidenceForm()
    _evidence_choices(form)
    if not form.language.data or request.method == "GET":
        form.language.data = form.language.data or _locale()
    if form.validate_on_submit() and form.upload is not None:
        start, end = form.dates
        ops.upload_evidence(
            agency, actor=current_user, data=form.upload.data, file_name=form.upload.file_name,
            content_type=form.upload.content_type, title=form.title.data,
            doc_type=form.doc_type.data, language=form.language.data, valid_from=start,
            valid_to=end, confidentiality=form.confidentiality.data,
        )  # fmt: skip
        db.session.commit()
        flash(_("The document is in the evidence register."), "success")
        return redirect(url_for(".evidence_register", agency=agency.public_id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "questionnaires/evidence_form.html", form=form, agency=agency, doc=None
    ), status


@bp.route("/evidence/<doc>/edit", methods=["GET", "POST"])
@login_required
def evidence_edit(doc: str):  # type: ignore[no-untyped-def]
    document = _document(doc)
    require(is_agency_member(current_user, document.agency_id), 403)
    form = EvidenceForm(obj=document if request.method == "GET" else None)
    form.require_file = False
    _evidence_choices(form)
    if request.method == "GET":
        form.valid_from.data = document.valid_from.isoformat() if document.valid_from else ""
        form.valid_to.data = document.valid_to.isoformat() if document.valid_to else ""
        form.confidentiality.data = document.confidentiality.value
    if form.validate_on_submit():
        start, end = form.dates
        ops.update_evidence(
            document, actor=current_user, title=form.title.data, doc_type=form.doc_type.data,
            language=form.language.data, valid_from=start, valid_to=end,
            confidentiality=form.confidentiality.data,
        )  # fmt: skip
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for(".evidence_register", agency=document.agency.public_id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "questionnaires/evidence_form.html", form=form, agency=document.agency, doc=document
    ), status


@bp.get("/evidence/<doc>/download")
@login_required
@writes  # its access log entry (iris.privacy)
def evidence_download(doc: str):  # type: ignore[no-untyped-def]
    document = _document(doc)
    try:
        data = storage.file_store().read(document.sha256)
    except storage.StorageError:
        current_app.logger.error("evidence %s: file missing or altered", document.public_id)
        abort(404, _("The file of this document is missing from the store."))
    privacy.evidence_viewed(document)
    db.session.commit()  # with its access log entry (iris.privacy)
    response = send_file(
        io.BytesIO(data),
        mimetype=document.content_type
        if document.content_type != storage.OLE
        else "application/octet-stream",
        as_attachment=True,
        download_name=document.file_name,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/applications/<application>/self-assessment/evidence/<key>/<doc>/remove")
@login_required
def unlink(application: str, key: str, doc: str):  # type: ignore[no-untyped-def]
    response = _response(_application(application))
    require(can_edit_response(current_user, response), 403)
    document = _document(doc)
    if not StartForm().validate_on_submit():
        abort(400)
    require(key in response.definition.fields, 404)
    ops.unlink_evidence(response, key, document, actor=current_user)
    db.session.commit()
    flash(
        _("“%(title)s” no longer backs answer %(key)s.", title=document.title, key=key), "success"
    )
    section_code = response.definition.question_of(key).section
    return redirect(
        url_for(
            ".section",
            application=application,
            section=section_code,
            _anchor="q-" + key.replace(".", "-"),
        )
    )
