"""What a page needs to show a subject's lifecycle: its state, the steps the current user
may take now (with their forms), and its history with people's names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from iris.accounts.models import User
from iris.core.db import db
from iris.core.history import history
from iris.core.roles import role_label
from iris.core.workflow import Action, available_actions
from iris.workflowui.forms import step_form
from workflows.lifecycles import REASON_LABELS

#: the badge colour of each state (Bootstrap contextual classes); others are "secondary"
STATE_TONES = {
    "accepted": "success", "certified": "success", "active": "success", "upheld": "success",
    "rejected": "danger", "refused": "danger", "withdrawn": "danger", "cancelled": "dark",
    "lapsed": "secondary", "expired": "secondary", "closed_not_certified": "danger",
    "superseded": "secondary", "closed": "secondary", "dismissed": "secondary",
    "deferred": "warning", "suspended": "warning", "findings_issued": "warning",
    "not_substantiated": "secondary", "substantiated": "warning",
}  # fmt: skip


@dataclass
class Step:
    action: Action
    form: FlaskForm | None
    url: str

    @property
    def row(self) -> Any:
        return self.action.transition


@dataclass
class Entry:
    at: datetime
    who: str
    role: str
    step: str
    from_state: str | None
    to_state: str
    reason: str | None
    reason_code: str | None


@dataclass
class Panel:
    subject: Any
    state: str
    state_label: str
    tone: str
    steps: list[Step]
    blocked: list[Step]
    timeline: list[Entry]


def timeline(subject: Any) -> list[Entry]:
    """The subject's history, newest last, naming people (looked up by id in one query)."""
    lc = subject.lifecycle
    records = history(db.session, lc.name, subject.id) if subject.id is not None else []
    ids = {r.actor_id for r in records if r.actor_id is not None}
    names = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
    labels = {t.trigger: t.label for t in lc.transitions}
    out = []
    for r in records:
        if r.actor_id is None:
            who = (
                _("IRIS Certify (automatic)")
                if r.actor_role == "system"
                else _("Member of the public")
            )
        else:
            who = names.get(r.actor_id, _("Unknown person"))
        code = (r.payload or {}).get("reason_code")
        out.append(
            Entry(
                at=r.at,
                who=who,
                role=role_label(r.actor_role),
                step=_(labels.get(r.trigger, r.trigger)),
                from_state=_(lc.state_label(r.from_state)) if r.from_state else None,
                to_state=_(lc.state_label(r.to_state)),
                reason=r.reason,
                reason_code=_(REASON_LABELS[code]) if code in REASON_LABELS else None,
            )
        )
    return out


def panel(subject: Any, user: Any) -> Panel:
    from flask import url_for

    lc = subject.lifecycle
    steps: list[Step] = []
    blocked: list[Step] = []
    for action in available_actions(subject, user):
        row = action.transition
        url = url_for(
            "workflowui.transition",
            subject_type=lc.name,
            public_id=subject.public_id,
            trigger=row.trigger,
        )
        form = None if row.irreversible else step_form(row, formdata=None)
        (steps if action.allowed else blocked).append(Step(action, form, url))
    state = str(subject.state)
    return Panel(
        subject=subject,
        state=state,
        state_label=_(lc.state_label(state)),
        tone=STATE_TONES.get(state, "info"),
        steps=steps,
        blocked=blocked,
        timeline=timeline(subject),
    )
