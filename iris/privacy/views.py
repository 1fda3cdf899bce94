"""Personal data pages: a person's own data, the scheme admins' access log and erasure."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from iris.accounts.models import User
from iris.admin.queries import paginate
from iris.core.db import db
from iris.core.permissions import login_required, roles_required
from iris.privacy import forms as f
from iris.privacy import operations as ops
from iris.privacy import queries
from workflows.roles import Role

bp = Blueprint("privacy", __name__)


@bp.app_template_global()
def access_kind_label(kind: str) -> str:
    return str(f.KIND_LABELS.get(kind, kind))  # type: ignore[call-overload]


@bp.get("/account/my-data")
@login_required
def my_data():  # type: ignore[no-untyped-def]
    return render_template("privacy/my_data.html", data=ops.export_personal_data(current_user))


@bp.get("/account/my-data.json")
@login_required
def my_data_json():  # type: ignore[no-untyped-def]
    body = json.dumps(ops.export_personal_data(current_user), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/admin/access-log")
@roles_required(Role.SCHEME_ADMIN)
def access_log():  # type: ignore[no-untyped-def]
    form = f.AccessLogFilterForm(request.args)
    form.validate()
    page = paginate(
        queries.access_log(form.person.data, form.kind.data, form.subject.data),
        max(1, request.args.get("page", 1, type=int) or 1),
        int(current_app.config["IRIS_PAGE_SIZE"]),
    )
    return render_template("privacy/access_log.html", form=form, page=page)


@bp.route("/admin/users/<public_id>/erase", methods=["GET", "POST"])
@roles_required(Role.SCHEME_ADMIN)
def erase(public_id: str) -> Any:
    user = db.first_or_404(sa.select(User).where(User.public_id == public_id))
    form = f.EraseForm()
    back = url_for("admin.user_detail", public_id=user.public_id)
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("privacy/erase.html", user=user, form=form, back=back), status
    try:
        pseudonym = ops.erase_person(user, actor=current_user, reason=form.reason.data)
    except ops.PrivacyError as exc:
        form.form_errors.append(str(exc))
        return render_template("privacy/erase.html", user=user, form=form, back=back), exc.status
    db.session.commit()
    flash(_("The person is erased; they appear as “%(name)s” from now on.", name=pseudonym),
          "success")  # fmt: skip
    return redirect(back)
