from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, redirect, render_template, session, url_for
from flask_login import current_user

from iris.core.db import db
from iris.core.permissions import public
from iris.core.urls import safe_next
from iris.main.forms import LanguageForm

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def home():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return render_template("main/landing.html")
    return render_template("main/home.html", roles=current_user.all_roles)


@bp.get("/healthz")
@public
def healthz():  # type: ignore[no-untyped-def]
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database unavailable")
        return jsonify(status="unavailable", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


@bp.post("/language")
@public
def set_language():  # type: ignore[no-untyped-def]
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in current_app.config["IRIS_LOCALES"]:
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
            db.session.commit()
    return redirect(safe_next(form.next.data) or url_for("main.home"))
