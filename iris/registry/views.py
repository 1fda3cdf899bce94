"""The public registry: verification for people and machines, search, feeds, badges, keys.

Everything here is public (no account) and reads :class:`~iris.registry.models.RegistryEntry`
rows, which hold no personal data. Verification requests are recorded off the request path
(:mod:`iris.registry.tracking`) and rate-limited per address (``IRIS_RATELIMIT_*``;
``IRIS_RATELIMIT_ENABLED=false`` switches limits off for load tests).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from iris.certificates import numbering
from iris.core.db import db
from iris.core.labels import label
from iris.core.permissions import public
from iris.core.signing import KeyRingError, keyring_for_app, signing_ring_for_app
from iris.core.workflow import WorkflowError
from iris.extensions import limiter
from iris.registry import operations, queries, tracking
from iris.registry.forms import BulkCheckForm, ConcernForm
from workflows.certificate import CertificateState

bp = Blueprint("registry", __name__)

STATUS_LIST_TYPE = "iris-status-list+jwt"
STATES = [s.value for s in CertificateState]
#: Bootstrap colour of each status, on every page and badge
STATUS_COLOURS = {
    "active": ("success", "#198754"),
    "suspended": ("warning", "#b58100"),
    "withdrawn": ("danger", "#b02a37"),
    "expired": ("secondary", "#6c757d"),
    "superseded": ("info", "#3d6f8e"),
    "cancelled": ("dark", "#343a40"),
}


def _limit(name: str, default: str) -> Any:
    return lambda: str(current_app.config.get(name, default))


def rate_limited(limit: Any, **options: Any) -> Any:
    """Flask-Limiter's limit, skipped entirely while limits are off.

    Flask-Limiter's own decorator evaluates its limit list on every call even when the
    limiter is disabled (about 90 µs, a quarter of a verification), so load tests with
    ``IRIS_RATELIMIT_ENABLED=false`` would measure the limiter instead of the lookup.
    """

    def decorator(view: Any) -> Any:
        limited = limiter.limit(limit, **options)(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not limiter.enabled:
                return view(*args, **kwargs)
            return limited(*args, **kwargs)

        return wrapper

    return decorator


VERIFY_LIMIT = _limit("IRIS_RATELIMIT_VERIFY", "120 per minute")
BULK_LIMIT = _limit("IRIS_RATELIMIT_BULK", "20 per minute")
CONCERN_LIMIT = _limit("IRIS_RATELIMIT_CONCERN", "5 per hour")


def status_label(state: str) -> str:
    """A certificate status in words: the lifecycle's own label (``iris.core.labels``)."""
    return label(state, CertificateState)


def status_explanation(state: str) -> str:
    return {
        "active": _("This certificate is valid: the agency is IRIS certified for the scope below."),
        "suspended": _(
            "This certificate is suspended: the agency is not certified while the suspension lasts."
        ),
        "withdrawn": _("This certificate was withdrawn: the agency is no longer certified."),
        "expired": _("This certificate has expired: the agency is no longer certified by it."),
        "superseded": _("This certificate was replaced by a newer one after recertification."),
        "cancelled": _("This certificate was cancelled: it was issued in error and is not valid."),
    }.get(state, "")


@bp.app_context_processor
def _registry_helpers() -> dict[str, Any]:
    from iris.core.countries import country_name

    return {
        "country_name": country_name,
        "status_label": status_label,
        "status_colour": lambda s: STATUS_COLOURS.get(s, ("secondary", "#6c757d"))[0],
    }


def api_error(status: int, code: str, message: str) -> Response:
    response = current_app.response_class(
        json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False),
        status=status,
        mimetype="application/json",
    )
    return response


# --------------------------------------------------------------------------- machines


# The JSON API (ping, verification by number, search, bulk check) is in iris/api/views.py.


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(name)
    return int(raw)


def _filters_from_args() -> queries.Filters:
    status = request.args.get("status", "").strip().lower()
    if status and status not in STATES:
        raise ValueError("status")
    country = request.args.get("country", "").strip().upper()
    destination = request.args.get("destination", "").strip().upper()
    for code in (country, destination):
        if code and (len(code) != 2 or not code.isalpha()):
            raise ValueError("country")
    company = request.args.get("audit_company", "").strip()
    if company and not company.isdigit():
        raise ValueError("audit_company")
    q = request.args.get("q", "").strip()
    if len(q) > 200:
        raise ValueError("q")
    return queries.Filters(
        q=q,
        country=country,
        destination=destination,
        status=status,
        audit_company=int(company) if company else None,
    )


@bp.get("/.well-known/jwks.json")
@public
def jwks() -> Response:
    try:
        document = keyring_for_app().jwks()
    except KeyRingError:
        document = {"keys": []}
    response = current_app.response_class(json.dumps(document), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


_status_cache: dict[str, Any] = {}
_status_lock = threading.Lock()


@bp.get("/registry/status-list.jwt")
@public
def status_list() -> Response:
    """Every certificate's current status, signed; rebuilt whenever any status changed.

    The generation (last change id, number of entries) is read on each request; the signed
    list is rebuilt only when it moved, so a verifier always gets the committed state.
    """
    generation = queries.generation()
    key = str(keyring_for_app().directory)
    with _status_lock:
        cached = _status_cache.get(key)
    if cached is None or cached[0] != generation:
        payload = {
            "type": "IRISStatusList",
            "iss": str(current_app.config["IRIS_BASE_URL"]).rstrip("/"),
            "updated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "generation": generation[0],
            "statuses": queries.statuses(),
        }
        try:
            ring = signing_ring_for_app()
            token = ring.sign(payload, typ=STATUS_LIST_TYPE)
        except KeyRingError:
            return api_error(503, "unavailable", _("The signing key is not set up yet."))
        cached = (generation, token)
        with _status_lock:
            _status_cache[key] = cached
    response = current_app.response_class(cached[1], mimetype="application/jwt")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --------------------------------------------------------------------------- people


def _lookup(number: str) -> tuple[str | None, Any]:
    canonical = numbering.normalise(number) if len(number) <= 64 else None
    return canonical, (queries.entry(canonical) if canonical else None)


def _not_found(number: str, canonical: str | None) -> tuple[str, int]:
    suggestions: list[str] = []
    reason = "format"
    if canonical is not None:
        reason = "unknown" if numbering.is_valid(canonical) else "check_digit"
        suggestions = queries.existing_numbers(numbering.typo_candidates(canonical))
    tracking.record("page", "not_found" if canonical else "invalid")
    return (
        render_template(
            "registry/not_found.html",
            number=number[:64],
            canonical=canonical,
            reason=reason,
            suggestions=suggestions,
        ),
        404,
    )


@bp.get("/verify")
@public
def verify_form() -> Any:
    number = request.args.get("number", "").strip()
    if number:
        return redirect(url_for("registry.verify", number=number[:64]))
    return render_template("registry/verify_form.html")


@bp.get("/verify/<number>")
@public
@rate_limited(VERIFY_LIMIT)
def verify(number: str) -> Any:
    canonical, entry = _lookup(number)
    if entry is None:
        return _not_found(number, canonical)
    if canonical != number:
        return redirect(url_for("registry.verify", number=canonical), 301)
    tracking.record("page", "found")
    document = json.loads(entry.document)
    return render_template(
        "registry/verify.html",
        entry=entry,
        doc=document,
        explanation=status_explanation(entry.state),
        colours=STATUS_COLOURS,
    )


@bp.get("/verify/<number>/badge.svg")
@public
@rate_limited(VERIFY_LIMIT)
def badge(number: str) -> Response:
    canonical, entry = _lookup(number)
    state = entry.state if entry else "unknown"
    tracking.record("badge", "found" if entry else "not_found")
    colour = STATUS_COLOURS.get(state, ("secondary", "#6c757d"))[1]
    label = status_label(state) if entry else _("Not found")
    svg = render_template(
        "registry/badge.svg",
        label=label,
        colour=colour,
        number=canonical or "",
        left=_("IRIS certified"),
    )
    response = current_app.response_class(
        svg, mimetype="image/svg+xml", status=200 if entry else 404
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _feed(changes: list[dict[str, Any]], *, title: str, self_url: str, alternate: str) -> Response:
    updated = max((c["at"] for c in changes), default=datetime(2020, 1, 1, tzinfo=UTC))
    xml = render_template(
        "registry/feed.xml",
        changes=changes,
        title=title,
        self_url=self_url,
        alternate=alternate,
        updated=updated,
        feed_id=self_url,
    )
    return current_app.response_class(xml, mimetype="application/atom+xml")


@bp.get("/registry/feed.atom")
@public
def feed() -> Response:
    return _feed(
        queries.changes(),
        title=_("IRIS registry: certificate status changes"),
        self_url=url_for("registry.feed", _external=True),
        alternate=url_for("registry.search", _external=True),
    )


@bp.get("/verify/<number>/feed.atom")
@public
def certificate_feed(number: str) -> Any:
    _canonical, entry = _lookup(number)
    if entry is None:
        abort(404)
    return _feed(
        queries.changes(entry.number),
        title=_("IRIS certificate %(number)s: status changes", number=entry.number),
        self_url=url_for("registry.certificate_feed", number=entry.number, _external=True),
        alternate=url_for("registry.verify", number=entry.number, _external=True),
    )


@bp.route("/verify/<number>/concern", methods=["GET", "POST"])
@public
@rate_limited(CONCERN_LIMIT, methods=["POST"])
def concern(number: str) -> Any:
    canonical, entry = _lookup(number)
    if entry is None:
        return _not_found(number, canonical)
    form = ConcernForm()
    if form.validate_on_submit():
        try:
            complaint = operations.report_concern(
                entry,
                text=form.text.data or "",
                language=form.language.data or "en",
                name=form.name.data,
                contact=form.contact.data,
            )
        except WorkflowError as exc:
            flash(exc.message, "danger")
        else:
            db.session.commit()
            return redirect(url_for("registry.concern_status", token=complaint.public_id, new=1))
    return render_template("registry/concern.html", form=form, entry=entry), (
        400 if form.errors else 200
    )


@bp.get("/concerns/<token>")
@public
def concern_status(token: str) -> Any:
    """The complainant's private page: the reference and the progress, nothing else."""
    from iris.complaints.models import Complaint

    if len(token) != 32 or not all(c in "0123456789abcdef" for c in token):
        abort(404)
    complaint = db.session.scalar(db.select(Complaint).where(Complaint.public_id == token))
    if complaint is None:
        abort(404)
    entry = None
    if complaint.certificate_id is not None:
        from iris.registry.models import RegistryEntry

        entry = db.session.get(RegistryEntry, complaint.certificate_id)
    return render_template(
        "registry/concern_status.html",
        complaint=complaint,
        entry=entry,
        new=request.args.get("new") == "1",
    )


@bp.get("/registry")
@public
def search() -> Any:
    try:
        filters = _filters_from_args()
        page = _int_arg("page", 1, 1, 100_000)
    except ValueError:
        abort(400)
    result = queries.search(
        filters,
        page=page,
        per_page=int(current_app.config.get("IRIS_PAGE_SIZE", 25)),
        exact=False,  # "more than 1,000": the page does not count every match
    )
    if filters.q:
        tracking.record("search", f"{result.total}{'+' if result.capped else ''} found")
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "registry/search.html",
        result=result,
        filters=filters,
        states=STATES,
        companies=queries.audit_companies(),
        countries=queries.countries(),
        args=args,
    )


@bp.get("/registry.csv")
@public
@rate_limited(BULK_LIMIT)
def export_csv() -> Any:
    import csv
    import io

    try:
        filters = _filters_from_args()
    except ValueError:
        abort(400)

    def rows() -> Any:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["number", "status", "holder", "country", "city", "destinations", "audit_company",
             "issued", "expires", "verify_url"]
        )  # fmt: skip
        yield "\ufeff" + buffer.getvalue()
        base = str(current_app.config["IRIS_BASE_URL"]).rstrip("/")
        for e in queries.iterate(filters):
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(
                [e.number, e.state, e.name, e.country, e.city, e.destinations.strip(","),
                 e.audit_company_name, e.issued_on or "", e.expires_on or "",
                 f"{base}/verify/{e.number}"]
            )  # fmt: skip
            yield buffer.getvalue()

    response = Response(rows(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=iris-registry.csv"
    return response


@bp.route("/registry/check", methods=["GET", "POST"])
@public
@rate_limited(BULK_LIMIT, methods=["POST"])
def bulk_check() -> Any:
    form = BulkCheckForm()
    if form.validate_on_submit():
        data = form.file.data.read(512 * 1024 + 1)
        if len(data) > 512 * 1024:
            form.file.errors = [_("The file is larger than 512 KB.")]
        else:
            items = operations.read_csv_column(data)
            if not items:
                form.file.errors = [_("The file has no numbers in its first column.")]
            elif len(items) > operations.MAX_BULK:
                form.file.errors = [
                    _(
                        "The file has %(n)s lines; check at most %(max)s at once.",
                        n=len(items),
                        max=operations.MAX_BULK,
                    )
                ]
            else:
                results = operations.check_many(items)
                tracking.record(
                    "csv",
                    f"{sum(r.found for r in results)}/{len(results)} found",
                    count=len(results),
                )
                response = Response(operations.results_csv(results), mimetype="text/csv")
                response.headers["Content-Disposition"] = (
                    "attachment; filename=iris-check-results.csv"
                )
                return response
    return render_template("registry/check.html", form=form), (400 if form.errors else 200)
