"""Where notifications plug into the lifecycles, without editing them (imported by views.py).

One ``every_step`` effect per lifecycle (the pattern of ``iris/fieldwork/hooks.py``) looks
the step up in :data:`STEP_EVENTS` and calls :func:`~iris.notifications.operations.notify`.
It runs inside ``fire()``, after the row's own effects (so the deferral date, the
corrective-action deadline or the certificate's number and expiry are already set), in the
transaction of the change: the outbox rows exist exactly when the change committed, and a
rolled-back step leaves none. Each occurrence is keyed by the step and the subject's
version counter, so the same change never mails the same person twice.

The notifications feature comes after every lifecycle's feature (``FEATURES`` order), so
it imports their bindings here; they never import it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from iris.core.workflow import SUBJECTS, Firing, bind
from iris.notifications.operations import EVENTS, PREFETCHED, keep_lock_read, lock_columns, notify
from workflows.lifecycles import REASON_LABELS


def _reason(f: Firing) -> Any:
    """The step's reason: the controlled-list label (in the recipient's language) and text."""
    label = REASON_LABELS.get(f.reason_code or "")
    if label and f.reason:
        return _l("%(label)s — %(text)s", label=_l(label), text=f.reason)
    return _l(label) if label else (f.reason or "")


def _deferred(f: Firing) -> dict[str, Any]:
    due = f.subject.deferral_due_at
    items = [i["text"] for i in f.subject.requested_items or ()]
    return {"reason": f.reason or "", "due": due.date() if due else None, "items": items}


def _findings(f: Firing) -> dict[str, Any]:
    due = f.subject.cap_due_at
    return {"due": due.date() if due else None}


def _granted(f: Firing) -> dict[str, Any]:
    return {"outcome": _l("certification granted"), "reason": f.reason or ""}


def _refused(f: Firing) -> dict[str, Any]:
    return {"outcome": _l("certification refused"), "reason": f.reason or ""}


def _with_reason(f: Firing) -> dict[str, Any]:
    return {"reason": _reason(f)}


def _nothing(_f: Firing) -> dict[str, Any]:
    return {}


#: (lifecycle, trigger) -> (event, what the mail says beyond the subject's own facts)
STEP_EVENTS: dict[tuple[str, str], tuple[str, Callable[[Firing], dict[str, Any]]]] = {
    ("application", "submit"): ("application_received", _nothing),
    ("application", "defer"): ("application_deferred", _deferred),
    ("application", "accept"): ("application_accepted", _nothing),
    ("application", "reject"): ("application_rejected", _with_reason),
    ("certification", "assign_team"): ("team_assigned", _nothing),
    ("certification", "issue_findings"): ("findings_issued", _findings),
    ("certification", "grant"): ("decision", _granted),
    ("certification", "refuse"): ("decision", _refused),
    ("certificate", "issue"): ("certificate_issued", _nothing),
    ("certificate", "suspend"): ("certificate_suspended", _with_reason),
    ("certificate", "restore"): ("certificate_restored", _with_reason),
    ("certificate", "withdraw"): ("certificate_withdrawn", _with_reason),
    ("certificate", "withdraw_overdue_suspension"): (
        "certificate_withdrawn",
        lambda f: {"reason": _l("The suspension limit passed without the cause being resolved.")},
    ),
}


def notify_step(f: Firing) -> None:
    """The every-step effect: queue the step's notification, if it has one."""
    found = STEP_EVENTS.get((f.lifecycle.name, f.transition.trigger))
    if found is None or f.dry_run:
        return
    event, extra = found
    key = f"{f.transition.trigger}:v{getattr(f.subject, 'version', None) or 0}"
    read = f.session.info.get(PREFETCHED, {}).pop((f.subject.__tablename__, f.subject.id), None)
    notify(event, f.subject, key=key, prefetched=read, **extra(f))


def _lock_columns(lifecycle: str) -> Callable[[], tuple[Any, ...]]:
    def columns() -> tuple[Any, ...]:
        events = [EVENTS[e] for (name, _t), (e, _x) in STEP_EVENTS.items() if name == lifecycle]
        return lock_columns(SUBJECTS[lifecycle], events)

    return columns


def register() -> None:
    # the features' own effects first (they set what the mail reports), then this one
    import iris.applications.workflow
    import iris.audits.workflow
    import iris.certificates.workflow  # noqa: F401

    for lifecycle in sorted({name for name, _trigger in STEP_EVENTS}):
        binding = bind(lifecycle)
        if notify_step not in binding.after_each:
            binding.every_step(notify_step)
            # on PostgreSQL who hears of a step is read with the subject's lock
            binding.read_with_lock(_lock_columns(lifecycle), keep_lock_read)


register()
