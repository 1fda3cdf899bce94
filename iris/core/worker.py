"""The job worker: Celery with Redis as the broker, after Flask's "Background Tasks with Celery".

``celery_init_app(app)`` builds a Celery app configured from the Flask app's settings whose
tasks run inside the Flask application context (:class:`FlaskTask`), and stores it in
``app.extensions["celery"]``. The web processes build it lazily, on the first job they
enqueue, so an installation without Redis never imports or configures Celery.

Start the worker and the scheduler (same settings as the web processes, ``IRIS_REDIS_URL``
set)::

    celery -A iris.core.worker worker --loglevel=INFO
    celery -A iris.core.worker beat --loglevel=INFO      # exactly one per installation

``-A iris.core.worker`` finds the module's ``celery`` attribute, which builds the Flask app
with ``create_app()`` on first access. The tasks are few and generic:

- ``iris.run_job``: a function marked with :func:`iris.core.jobs.job`, by name, with JSON
  arguments (mail delivery of the rows just written, webhook delivery, PDF rendering ...);
- ``iris.deliver_outboxes``: every outbox's due rows (retries after backoff, rows whose
  worker died mid-delivery once their lease has run out); on the beat schedule;
- ``iris.tick``: the time-based transitions of the workflow engine
  (:func:`iris.core.workflow.tick`, the same as ``flask iris tick``), then the reminders of
  any feature that defines ``iris.<feature>.operations.on_tick(now)``; on the beat
  schedule.

Tasks are acknowledged late (after they finish) and rejected when their worker is lost, so
a worker killed mid-task leaves its task on the queue for another worker; every task is
idempotent (the outbox claim, the timer transitions), so running one twice is harmless.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery, Task, shared_task
from flask import Flask, current_app

log = logging.getLogger(__name__)


class FlaskTask(Task):
    """A task that runs inside the application context of the Flask app it was built for."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        flask_app: Flask = self.app.flask_app
        with flask_app.app_context():
            return self.run(*args, **kwargs)


def celery_config(app: Flask) -> dict[str, Any]:
    """Celery's settings, derived from the app's ``IRIS_*`` settings."""
    url = app.config["IRIS_REDIS_URL"]
    queue = app.config.get("IRIS_JOB_QUEUE", "iris")
    cfg: dict[str, Any] = {
        "broker_url": url,
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": queue,
        "task_default_exchange": queue,
        "task_default_routing_key": queue,
        # A task is acknowledged once it has finished: a worker killed mid-task leaves it
        # on the queue, and Redis gives it to another worker after the visibility timeout.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {
            "visibility_timeout": int(app.config.get("IRIS_JOB_VISIBILITY_SECONDS", 3600)),
        },
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 5,
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": {
            "iris-tick": {
                "task": "iris.tick",
                "schedule": timedelta(seconds=int(app.config.get("IRIS_TICK_SECONDS", 300))),
            },
            "iris-deliver-outboxes": {
                "task": "iris.deliver_outboxes",
                "schedule": timedelta(seconds=int(app.config.get("IRIS_OUTBOX_SWEEP_SECONDS", 60))),
            },
        },
    }
    cfg.update(app.config.get("CELERY") or {})
    return cfg


def celery_init_app(app: Flask) -> Celery:
    """Flask's documented pattern: a Celery app whose tasks run in ``app``'s context."""
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.flask_app = app
    celery_app.config_from_object(celery_config(app))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def celery_for(app: Flask) -> Celery:
    existing = app.extensions.get("celery")
    return existing if existing is not None else celery_init_app(app)


def enqueue(app: Flask, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Send the job ``name`` to the worker (raises if the broker cannot be reached)."""
    celery_for(app).send_task("iris.run_job", args=[name, args, kwargs])


# --------------------------------------------------------------------------- the tasks


@shared_task(name="iris.run_job")
def run_job(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    from iris.core.jobs import resolve

    resolve(name)(*args, **kwargs)


@shared_task(name="iris.deliver_outboxes")
def deliver_outboxes() -> dict[str, int]:
    from iris.core.outbox import deliver_all_due

    report = deliver_all_due(current_app.config)
    return {
        "sent": len(report.sent),
        "retrying": len(report.retrying),
        "failed": len(report.failed),
    }


@shared_task(name="iris.tick")
def tick() -> dict[str, int]:
    return run_tick()


def run_tick(now: Any = None) -> dict[str, int]:
    """The periodic work: timer transitions, then the features' reminders; commits."""
    from iris import feature_modules
    from iris.core import workflow
    from iris.core.db import db, utcnow

    now = now or utcnow()
    result = workflow.tick(now)
    db.session.commit()
    reminders = 0
    for module in feature_modules("operations"):
        on_tick = getattr(module, "on_tick", None)
        if on_tick is not None:
            reminders += int(on_tick(now) or 0)
            db.session.commit()
    if result.failed:
        log.warning("tick: %d timer step(s) failed: %s", len(result.failed), result.failed)
    return {"fired": len(result.fired), "failed": len(result.failed), "reminders": reminders}


# --------------------------------------------------------------------------- celery -A


def _make_celery() -> Celery:
    from iris import create_app

    return celery_for(create_app())


_built: list[Celery] = []


def __getattr__(name: str) -> Any:
    # ``celery -A iris.core.worker`` reads ``app``, then ``celery``: build it on demand, so
    # importing this module (tests, web processes) never creates an application.
    if name == "celery":
        if not _built:
            _built.append(_make_celery())
        return _built[0]
    raise AttributeError(name)
