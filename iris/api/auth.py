"""Bearer-token authentication, scopes and the API's rate limit.

:func:`token_required` is the API's access decorator (``iris_access = "api"``, so the
route walk in tests/core/test_access.py expects 401 from anonymous callers). A call is let
in only with ``Authorization: Bearer iris_...`` naming an active token of an active,
verified user; then the operation's scope is checked (403), and the view runs the same
role, organisation and object checks as the matching page of the web interface.

The API never looks at the session cookie: a browser that is signed in gets 401 here, so
no cross-site request can ride on a session, and the API's views are exempt from CSRF.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from flask_babel import gettext as _

from iris.api import operations, queries
from iris.api.errors import api_error
from iris.core.db import db, utcnow
from iris.extensions import csrf, limiter

F = TypeVar("F", bound=Callable[..., Any])

#: The security scheme named in the OpenAPI document.
SECURITY_SCHEME = "bearerAuth"


def _api_limit() -> str:
    return str(current_app.config.get("IRIS_RATELIMIT_API", "300 per minute"))


def _rate_key() -> str:
    """Limits count per token (a shared office address is not one client)."""
    token = getattr(g, "api_token", None)
    return f"api-token:{token.id}" if token is not None else f"api-ip:{request.remote_addr}"


def rate_limited(
    limit: Any, *, key_func: Callable[[], str] | None = None, scope: str | None = None
) -> Callable[[F], F]:
    """Flask-Limiter's limit (one budget shared by every view of ``scope``, if given),
    skipped entirely while limits are off (load tests: its check costs ~90 µs)."""

    def decorator(view: F) -> F:
        if scope:
            limited = limiter.shared_limit(limit, scope=scope, key_func=key_func)(view)
        else:
            limited = limiter.limit(limit, key_func=key_func)(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not limiter.enabled:
                return view(*args, **kwargs)
            return limited(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def _unauthorised(message: str) -> Any:
    return api_error(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="iris"'}
    )


def authenticate() -> Any:
    """The token of this request, or the 401 response to send."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return _unauthorised(_("Send an API token: Authorization: Bearer iris_…"))
    secret = secret.strip()
    if not secret.startswith(operations.TOKEN_PREFIX) or len(secret) > 200:
        return _unauthorised(_("This API token is not valid."))
    token = queries.token_by_hash(operations.hash_token(secret))
    now = utcnow()
    if token is None:
        return _unauthorised(_("This API token is not valid."))
    if token.revoked_at is not None:
        return _unauthorised(_("This API token was revoked."))
    if token.expires_at <= now:
        return _unauthorised(_("This API token has expired."))
    user = token.user
    if not user.is_active or not user.is_verified:
        return _unauthorised(_("The account of this API token is disabled."))
    if operations.touch(token, now):
        g.api_touched = True
    return token


def token_required(*scopes: str) -> Callable[[F], F]:
    """Let in a token holding every one of ``scopes``; the user becomes ``current_user``."""

    def decorator(view: F) -> F:
        limited = rate_limited(_api_limit, key_func=_rate_key, scope="api")(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = authenticate()
            if not hasattr(token, "scope_list"):
                return token
            g.api_token = token
            g._login_user = token.user  # current_user for this request only; no session
            missing = [s for s in scopes if s not in token.scope_list]
            if missing:
                return api_error(
                    403,
                    "insufficient_scope",
                    _("This API token lacks the scope %(scope)s.", scope=", ".join(missing)),
                )
            return limited(*args, **kwargs)

        protected: Any = wrapper
        protected.iris_access = "api"
        protected.iris_scopes = frozenset(scopes)
        protected.iris_csrf_exempt = True  # bearer token only: no cookie is ever used
        protected._apidoc = _with_auth_docs(getattr(protected, "_apidoc", {}), scopes)
        csrf.exempt(protected)
        return cast(F, protected)

    return decorator


AUTH_RESPONSES = (
    (401, "No token, or not a valid, current token"),
    (403, "The token lacks the scope, or your role does not allow this"),
    (429, "Too many requests"),
)


def _with_auth_docs(apidoc: dict[str, Any], scopes: tuple[str, ...]) -> dict[str, Any]:
    """The operation's documentation plus its security requirement and 401/403/429."""
    from copy import deepcopy

    from iris.api.blueprint import bp
    from iris.api.schemas import ErrorSchema

    doc = deepcopy(apidoc)
    manual = doc.setdefault("manual_doc", {})
    # OpenAPI: a bearer scheme's requirement lists no scopes; they are named in x-scopes
    manual["security"] = [{SECURITY_SCHEME: []}]
    if scopes or "x-scopes" not in manual:
        manual["x-scopes"] = list(scopes)

    def stand_in() -> None:
        return None

    target: Any = stand_in
    for status, text in AUTH_RESPONSES:
        target = bp.alt_response(status, schema=ErrorSchema, description=text)(target)
    responses = doc.setdefault("response", {}).setdefault("responses", {})
    for status, docs in target._apidoc["response"]["responses"].items():
        if status not in responses:
            responses[status] = docs
    return doc


def commit_touch(response: Any) -> Any:
    """After an API call: keep the token's last use, even when the view wrote nothing."""
    if g.pop("api_touched", False) and response.status_code < 500:
        db.session.commit()
    return response
