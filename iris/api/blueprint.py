"""The API's flask-smorest blueprint and Api object.

The feature loader registers ``iris.api.views.bp`` like any feature's blueprint; when it
does, :func:`_setup` (a ``record_once`` of the blueprint) initialises the :class:`IrisApi`
on that app and writes the blueprint's operations into the OpenAPI document. flask-smorest's
own error handler is not installed: it would replace the app's error pages for the whole
site; the blueprint has its own JSON handler instead (iris/api/errors.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.blueprints import BlueprintSetupState
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from iris.api import schemas
from iris.api.auth import SECURITY_SCHEME, commit_touch
from iris.api.errors import handle_http_exception
from iris.api.models import SCOPES

API_PREFIX = "/api/v1"
#: the largest JSON body accepted (evidence uploads have the site's upload limit)
JSON_MAX_BYTES = 1024 * 1024


class Parser(FlaskParser):
    """webargs' parser, plus a ``multipart`` location: form fields and files together."""

    DEFAULT_VALIDATION_STATUS = 422
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: Any, schema: Any) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


class IrisApi(Api):
    ERROR_SCHEMA = schemas.ErrorSchema

    def _register_error_handlers(self) -> None:
        """Leave the app's error handlers alone (the blueprint has its own)."""


api = IrisApi(
    spec_kwargs={
        "title": "IRIS Certify API",
        "version": "1",
        "openapi_version": "3.0.3",
        "info": {
            "description": "Applications, the self-assessment, audit cases and findings, the "
            "steps of each lifecycle, and the public registry of IRIS certificates. "
            "Authenticate with a personal API token: Authorization: Bearer iris_…"
        },
        "servers": [{"url": "/"}],
    }
)

bp = Blueprint("api", __name__, description="IRIS Certify API v1")


@bp.before_request
def _limit_json_body() -> None:
    """JSON bodies are small: refuse more than 1 MiB before reading it (413)."""
    if request.mimetype != "multipart/form-data":
        if (request.content_length or 0) > JSON_MAX_BYTES:
            raise RequestEntityTooLarge()
        request.max_content_length = JSON_MAX_BYTES


bp.after_request(commit_touch)
bp.register_error_handler(HTTPException, handle_http_exception)


def _setup(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    api.init_app(app)
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (iris_…) made at /account/tokens. Scopes: "
            + ", ".join(SCOPES)
            + ".",
        },
    )
    app.extensions["flask-smorest"]["blp_name_to_api"][bp.name] = api
    bp.register_views_in_doc(api, app, api.spec, name=bp.name, parameters=None)
    app.extensions["iris_openapi"] = api.spec  # per app: tests may build more than one


def install() -> None:
    """Hook :func:`_setup` to the blueprint's registration; call after every route is added."""
    bp.record_once(_setup)
