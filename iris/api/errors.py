"""Every API failure is JSON: ``{"error": {"code": ..., "message": ..., "fields"?: ...}}``.

The app's own handler (iris/core/errors.py) already answers JSON under ``/api/``; the API
blueprint adds what an integrating system needs on top: the field messages of a 422 (from
the same marshmallow schemas that document the request), ``invalid_json`` for a body that
is not JSON, the reasons of a refused workflow step, and ``WWW-Authenticate`` on 401.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from iris.core.errors import CODES, MESSAGES


def api_error(
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, list[str]] | None = None,
    reasons: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    if reasons:
        error["reasons"] = reasons
    response = current_app.response_class(
        json.dumps({"error": error}, ensure_ascii=False),
        status=status,
        mimetype="application/json",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"answers.A01": ["..."]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, name))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        out[prefix or "_body"] = [str(m) for m in messages]
    elif isinstance(messages, list | tuple):
        for i, value in enumerate(messages):
            out.update(flatten(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or "_body"] = [str(messages)]
    return out


def _without_location(messages: Any) -> Any:
    """webargs nests messages under the request location (``json``, ``query``, ``files``)."""
    if isinstance(messages, dict) and set(messages) <= {
        "json",
        "query",
        "form",
        "files",
        "multipart",
        "view_args",
    }:
        merged: dict[str, Any] = {}
        for value in messages.values():
            if isinstance(value, dict):
                merged.update(value)
            else:
                merged.setdefault("_body", value)
        return merged
    return messages


def invalid(fields: dict[str, list[str]]) -> Response:
    first = next(iter(fields.items()))
    return api_error(
        422,
        "invalid",
        _("Some of what you sent could not be accepted (%(field)s: %(message)s).",
          field=first[0], message=first[1][0]),
        fields=fields,
    )  # fmt: skip


def _page_error(exc: HTTPException) -> Any:
    """The account pages of this blueprint (not under /api/) keep the site's error pages."""
    from flask_wtf.csrf import CSRFError

    from iris.core.errors import render_error

    if isinstance(exc, CSRFError):
        return render_error(
            400,
            _("The form has expired or was sent from elsewhere. Reload the page and try again."),
        )
    default = type(exc).description
    return render_error(exc.code or 500, exc.description if exc.description != default else None)


def handle_http_exception(exc: HTTPException) -> Any:
    if not request.path.startswith("/api/"):
        return _page_error(exc)
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    headers: dict[str, str] = {}
    if status == 405:
        allow = exc.get_response().headers.get("Allow")
        if allow:
            headers["Allow"] = allow
    if status == 400 and isinstance(messages, dict) and isinstance(messages.get("json"), list):
        return api_error(400, "invalid_json", _("The request body is not valid JSON."))
    if status == 422 and messages:
        return invalid(flatten(_without_location(messages)))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="iris"'
    if status == 413:
        message = _("The request is larger than the limit.")
    elif status == 429:
        message = _("Too many requests. Wait a minute and try again.")
    else:
        default = type(exc).description
        own = exc.description if exc.description and exc.description != default else None
        message = str(data.get("message") or own or MESSAGES.get(status, MESSAGES[500]))
    return api_error(status, CODES.get(status, "error"), message, headers=headers)
