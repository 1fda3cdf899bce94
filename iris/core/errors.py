"""Every failure a user sees is a page in the product's style (or JSON under /api/)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Bad request"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not allowed"),
    409: _l("Not possible now"),
    413: _l("File too large"),
    422: _l("Check your input"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}

MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    401: _l("You need to sign in to see this page."),
    403: _l("Your account is not allowed to do this."),
    404: _l("We could not find this page. Check the address, or start again from the home page."),
    405: _l("This action is not available here."),
    409: _l("This is not possible in the current state."),
    413: _l("The file or form you sent is larger than the limit of %(mb)s MB."),
    422: _l("Some of what you entered could not be accepted."),
    429: _l("You have made too many attempts. Wait a minute and try again."),
    500: _l("An unexpected error happened on our side. It has been logged; please try again."),
    503: _l("The service is temporarily unavailable. Please try again shortly."),
}

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(code: int, message: str | None = None) -> Any:
    from flask import current_app

    default = MESSAGES.get(code, MESSAGES[500])
    if code == 413:
        default = _l(
            "The file or form you sent is larger than the limit of %(mb)s MB.",
            mb=current_app.config["IRIS_MAX_UPLOAD_MB"],
        )
    text = str(message or default)
    if wants_json():
        return jsonify(error={"code": CODES.get(code, "error"), "message": text}), code
    title = TITLES.get(code, TITLES[500])
    return render_template("errors/error.html", code=code, title=title, message=text), code


def _description(exc: HTTPException) -> str | None:
    # Werkzeug's default descriptions are English developer text: show ours instead, unless
    # the code raised the error with a message meant for the user.
    default = type(exc).description
    return exc.description if exc.description and exc.description != default else None


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return render_error(
            400,
            str(
                _l(
                    "The form has expired or was sent from elsewhere. Reload the page and try again."
                )
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = exc.code or 500
        response = render_error(code, _description(exc))
        if code in (405,) and exc.get_response().headers.get("Allow"):
            body, status = response
            resp = app.make_response((body, status))
            resp.headers["Allow"] = exc.get_response().headers["Allow"]
            return resp
        return response

    @app.errorhandler(InternalServerError)
    def _500(exc: InternalServerError) -> Any:
        log.error(
            "unhandled error on %s %s",
            request.method,
            request.path,
            exc_info=exc.original_exception,
        )
        return render_error(500)
