"""The account pages where users make, list and revoke their own API tokens.

``/account/tokens`` lists the signed-in user's tokens (never anyone else's) and makes new
ones; the secret is shown once, on the page answering the POST (``Cache-Control:
no-store``), and only its SHA-256 is kept. Revoking asks for a confirmation and keeps the
token's row (audit). A token of another user answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from iris.api import operations, queries
from iris.api.blueprint import bp as api_bp
from iris.api.forms import SCOPE_LABELS, NewTokenForm, RevokeForm
from iris.core.db import db, utcnow
from iris.core.permissions import login_required

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _page(form: NewTokenForm, status: int = 200) -> Any:
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=queries.tokens_of(current_user.id),
        now=utcnow(),
        scope_labels=SCOPE_LABELS,
    ), status


@bp.route("", methods=["GET", "POST"])
@login_required
def index() -> Any:
    form = NewTokenForm()
    if form.is_submitted() and not form.validate():
        return _page(form, 422 if not form.errors.get("csrf_token") else 400)
    if not form.is_submitted():
        form.expires_on.data = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=90)
        return _page(form)
    end_of_day = dt.datetime.combine(form.expires_on.data, dt.time(23, 59, 59), dt.UTC)
    try:
        token, secret = operations.create_token(
            actor=current_user, name=form.name.data, scopes=list(form.scopes.data or []),
            expires_at=end_of_day,
        )  # fmt: skip
    except operations.TokenError as exc:
        form.name.errors = [str(exc)]
        return _page(form, 422)
    db.session.commit()
    response = make_response(
        render_template("api/token_created.html", token=token, secret=secret), 201
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<public_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(public_id: str) -> Any:
    token = queries.own_token(current_user.id, public_id)
    if token is None:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        operations.revoke_token(token, actor=current_user)
        db.session.commit()
        flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
        return redirect(url_for("api.tokens.index"))
    if form.is_submitted():
        abort(400)
    return render_template("api/token_revoke.html", token=token, form=form)


Blueprint.register_blueprint(api_bp, bp)  # nested: api.tokens.*, kept out of the API document
