"""The JSON API's routes: meta (ping, OpenAPI, docs, me) and the public registry.

The other resources are in sibling modules, imported at the end so their routes join the
same blueprint: ``views_applications`` (agencies), ``views_cases`` (auditors),
``views_workflow`` (allowed steps and firing them) and ``tokens`` (the account pages).

Hot path: ``GET /api/v1/certificates/<number>`` is benchmarked against ``GET /api/v1/ping``
(bench/bench_verify.py). Both carry their OpenAPI documentation as data only
(:func:`documented`): no smorest wrapper runs per request, and the certificate's stored
JSON document is returned as it is, without a marshmallow dump.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, render_template, request, url_for
from flask_babel import gettext as _

from iris.api import schemas as s
from iris.api.auth import rate_limited, token_required
from iris.api.blueprint import API_PREFIX, bp, install
from iris.api.errors import api_error
from iris.certificates import numbering
from iris.core.permissions import public
from iris.extensions import csrf
from iris.registry import operations as registry_ops
from iris.registry import queries as registry_queries
from iris.registry import tracking

META = ["meta"]
REGISTRY = ["certificates"]


def _limit(name: str, default: str) -> Any:
    return lambda: str(current_app.config.get(name, default))


VERIFY_LIMIT = _limit("IRIS_RATELIMIT_VERIFY", "120 per minute")
BULK_LIMIT = _limit("IRIS_RATELIMIT_BULK", "20 per minute")


def documented(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Attach the OpenAPI documentation of smorest's decorators without their wrappers.

    The decorators are applied to a stand-in and only their ``_apidoc`` is copied: the view
    is documented from the same schemas but runs with no per-request cost.
    """

    def decorator(view: Any) -> Any:
        def stand_in() -> None:
            return None

        target: Any = stand_in
        for deco in reversed(decorators):
            target = deco(target)
        view._apidoc = getattr(target, "_apidoc", {})
        return view

    return decorator


def json_response(body: Any, status: int = 200) -> Response:
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype="application/json"
    )


ERRORS_429 = bp.alt_response(429, schema=s.ErrorSchema, description="Too many requests")


# --------------------------------------------------------------------------- meta


@bp.route(f"{API_PREFIX}/ping", tags=META)
@public
@documented(bp.response(200, s.PingSchema))
def ping() -> Response:
    """A constant answer (the baseline of bench/bench_verify.py)"""
    return current_app.response_class('{"ok":true}', mimetype="application/json")


@bp.route(f"{API_PREFIX}/openapi.json", tags=META)
@public
@documented(bp.response(200, description="This document (OpenAPI 3.0)"))
def openapi_json() -> Response:
    """The OpenAPI document of this API"""
    spec = current_app.extensions["iris_openapi"]
    return json_response(spec.to_dict())


@bp.route(f"{API_PREFIX}/docs", tags=META)
@public
@documented(bp.response(200, content_type="text/html", description="A page for people"))
def docs() -> Any:
    """The API's documentation as a page"""
    from iris.api import docs as docs_page

    spec = current_app.extensions["iris_openapi"].to_dict()
    return render_template("api/docs.html", doc=docs_page.readable(spec), spec=spec)


@bp.route(f"{API_PREFIX}/me", tags=META)
@token_required()
@bp.response(200, s.MeSchema)
@ERRORS_429
def me() -> Any:
    """Who the token belongs to: the user, their roles in each organisation, the token"""
    from flask import g

    token = g.api_token
    user = token.user
    return {
        "id": user.public_id,
        "name": user.name,
        "email": user.email,
        "memberships": [
            {
                "organisation": {"id": m.organisation.public_id, "name": m.organisation.name},
                "kind": str(m.organisation.kind),
                "role": str(m.role),
            }
            for m in user.memberships
        ],
        "token": {
            "name": token.name,
            "scopes": token.scope_list,
            "expires_at": token.expires_at.isoformat(),
        },
    }


# --------------------------------------------------------------------------- the registry


@bp.route(f"{API_PREFIX}/certificates/<number>", tags=REGISTRY)
@public
@rate_limited(VERIFY_LIMIT)
@documented(
    bp.response(200, s.CertificateSchema),
    bp.alt_response(400, schema=s.ErrorSchema, description="Not a certificate number"),
    bp.alt_response(404, schema=s.ErrorSchema, description="No such certificate"),
    ERRORS_429,
)
def certificate(number: str) -> Response:
    """Verify one certificate by its number: its live status, holder, scope and signed credential

    The lean path: normalise, one indexed lookup, the stored JSON as it is.
    """
    canonical = numbering.normalise(number) if len(number) <= 64 else None
    if canonical is None:
        tracking.record("api", "invalid")
        return api_error(400, "invalid_number", _("This is not a certificate number."))
    document = registry_queries.document_json(canonical)
    tracking.record("api", "found" if document else "not_found")
    if document is None:
        message = _("No certificate has the number %(number)s.", number=canonical)
        if not numbering.is_valid(canonical):
            message += " " + _("Its check digit does not match: a digit is probably mistyped.")
        return api_error(404, "not_found", message)
    return current_app.response_class(document, mimetype="application/json")


def _search_args() -> tuple[registry_queries.Filters, int, int]:
    """The query string, checked by :class:`SearchArgs` (ValueError names the bad one)."""
    raw = {k: val.strip() for k, val in request.args.items() if val.strip()}
    if "status" in raw:
        raw["status"] = raw["status"].lower()
    errors = s.SearchArgs().validate(raw)
    if errors:
        raise ValueError(sorted(errors)[0])
    args = s.SearchArgs().load(raw)
    company = args.get("audit_company")
    filters = registry_queries.Filters(
        q=args.get("q", "").strip(),
        country=args.get("country", "").strip().upper(),
        destination=args.get("destination", "").strip().upper(),
        status=args.get("status", "").strip().lower(),
        audit_company=int(company) if company else None,
    )
    return filters, args["page"], args["per_page"]


def _summary(e: Any) -> dict[str, Any]:
    return {
        "number": e.number,
        "status": e.state,
        "holder": {"name": e.name, "country": e.country, "city": e.city},
        "audit_company": e.audit_company_name,
        "issued_at": e.issued_on,
        "expires_at": e.expires_on,
        "url": url_for("api.certificate", number=e.number, _external=True),
    }


@bp.route(f"{API_PREFIX}/certificates", tags=REGISTRY)
@public
@rate_limited(VERIFY_LIMIT)
@documented(
    bp.arguments(s.SearchArgs, location="query"),
    bp.response(200, s.CertificatePageSchema),
    bp.alt_response(400, schema=s.ErrorSchema, description="A parameter is not valid"),
    ERRORS_429,
)
def search() -> Response:
    """Search the public registry (accent-insensitive), paginated"""
    try:
        filters, page, per_page = _search_args()
    except ValueError as exc:
        return api_error(400, "invalid_parameter", _("Invalid parameter: %(name)s.", name=str(exc)))
    result = registry_queries.search(filters, page=page, per_page=per_page)
    tracking.record("search", f"{result.total} found")
    return json_response(
        {
            "items": [_summary(e) for e in result.items],
            "page": result.page,
            "per_page": result.per_page,
            "total": result.total,
            "pages": result.pages,
        }
    )


@bp.route(f"{API_PREFIX}/certificates/verify", methods=["POST"], tags=REGISTRY)
@public
@rate_limited(BULK_LIMIT)
@documented(
    bp.arguments(s.VerifyManySchema),
    bp.response(200, s.VerifyResultsSchema),
    bp.alt_response(400, schema=s.ErrorSchema, description="Not a JSON list of numbers"),
    bp.alt_response(413, schema=s.ErrorSchema, description="More than 1,000 numbers"),
    ERRORS_429,
)
def verify_many() -> Response:
    """Check up to 1,000 certificate or registration numbers at once: a result per item"""
    if request.content_length is not None and request.content_length > 256 * 1024:
        return api_error(413, "too_large", _("Send at most 256 KB in one request."))
    data = request.get_json(silent=True)
    example = _('Send JSON like {"numbers": ["IRIS-PL-2025-0000423", ...]}.')
    if not isinstance(data, dict) or not isinstance(data.get("numbers"), list):
        return api_error(400, "invalid_body", example)
    if len(data["numbers"]) > registry_ops.MAX_BULK:
        return api_error(
            413, "too_many_items", _("Send at most %(n)s numbers at once.", n=registry_ops.MAX_BULK)
        )
    if s.VerifyManySchema().validate(data):
        if not all(isinstance(i, str) for i in data["numbers"]):
            return api_error(400, "invalid_body", _("Every number must be a string."))
        return api_error(400, "invalid_body", example)
    items = data["numbers"]
    results = registry_ops.check_many(items)
    tracking.record(
        "api_bulk", f"{sum(r.found for r in results)}/{len(results)} found", count=len(results)
    )
    return json_response({"results": [r.as_dict() for r in results]})


verify_many.iris_csrf_exempt = True  # type: ignore[attr-defined]  # JSON, no cookies used
csrf.exempt(verify_many)


# The other resources join the blueprint; then the spec is built at registration.
from iris.api import tokens, views_applications, views_cases, views_workflow  # noqa: E402,F401

install()
