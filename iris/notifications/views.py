"""Employers follow a certificate by e-mail; scheme admins register webhook endpoints."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from iris.core import security
from iris.core.db import db
from iris.core.permissions import public, require, roles_required
from iris.extensions import limiter
from iris.main.forms import EmptyForm
from iris.notifications import hooks  # noqa: F401  (the lifecycles' notifications)
from iris.notifications import operations as ops
from iris.notifications.forms import SubscribeForm, WebhookForm
from iris.notifications.models import WebhookEndpoint
from workflows.roles import Role

bp = Blueprint("notifications", __name__)


def _certificate(number: str) -> Any:
    from iris.certificates.models import Certificate

    cert = db.session.scalar(sa.select(Certificate).where(Certificate.number == number))
    require(cert is not None, 404)
    return cert


@bp.route("/certificates/<number>/subscribe", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config.get("IRIS_RATELIMIT_SUBSCRIBE", "10 per hour"), methods=["POST"]
)
def subscribe(number: str) -> Any:
    cert = _certificate(number)
    form = SubscribeForm()
    if form.validate_on_submit():
        ops.subscribe(cert, email=form.email.data, locale=str(get_locale() or "en"))
        db.session.commit()
        return render_template(
            "notifications/subscribe_sent.html", number=cert.number, email=form.email.data
        )
    return render_template("notifications/subscribe.html", form=form, cert=cert)


def _from_token(purpose: str, token: str) -> Any:
    try:
        return ops.subscription_from_token(purpose, token), None
    except security.TokenError as exc:
        return None, str(exc)


@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str) -> Any:
    sub, problem = _from_token(ops.SUBSCRIBE, token)
    if sub is None:
        return render_template("notifications/token_problem.html", problem=problem), 400
    form = EmptyForm()
    if form.validate_on_submit():
        ops.confirm_subscription(sub)
        db.session.commit()
        return render_template("notifications/subscription_done.html", sub=sub, confirmed=True)
    return render_template("notifications/confirm.html", form=form, sub=sub)


@bp.route("/subscriptions/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str) -> Any:
    sub, problem = _from_token(ops.UNSUBSCRIBE, token)
    if sub is None:
        return render_template("notifications/token_problem.html", problem=problem), 400
    form = EmptyForm()
    if form.validate_on_submit():
        ops.end_subscription(sub)
        db.session.commit()
        return render_template("notifications/subscription_done.html", sub=sub, confirmed=False)
    return render_template("notifications/unsubscribe.html", form=form, sub=sub)


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@roles_required(Role.SCHEME_ADMIN)
def webhooks() -> Any:
    form = WebhookForm()
    created = None
    if form.validate_on_submit():
        try:
            created = ops.create_webhook_endpoint(
                actor=current_user,
                name=form.name.data,
                url=form.url.data,
                events=form.events.data or [],
            )
        except ops.NotificationError as exc:
            form.url.errors.append(str(exc))
        else:
            db.session.commit()
            form = WebhookForm(formdata=None)
    endpoints = db.session.scalars(
        sa.select(WebhookEndpoint).order_by(WebhookEndpoint.is_active.desc(), WebhookEndpoint.id)
    ).all()
    return render_template(
        "notifications/webhooks.html",
        form=form,
        created=created,
        endpoints=endpoints,
        deliveries=ops.recent_deliveries(),
        events=ops.EVENTS,
        action_form=EmptyForm(),
    )


@bp.post("/admin/webhooks/<public_id>/deactivate")
@roles_required(Role.SCHEME_ADMIN)
def deactivate_webhook(public_id: str) -> Any:
    endpoint = db.session.scalar(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id)
    )
    require(endpoint is not None, 404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ops.deactivate_webhook_endpoint(endpoint, actor=current_user)
    db.session.commit()
    flash(_("The endpoint %(name)s receives no more events.", name=endpoint.name), "info")
    return redirect(url_for("notifications.webhooks"))
