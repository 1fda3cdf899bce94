"""What the notifications add to a step: ``fire()`` with and without the notification hook.

Certificates are suspended, then restored, one transaction per step (as a request does),
alternately with the hook of ``iris/notifications/hooks.py`` in place and removed, in the
same process and the same run (SQLite file). Twice: with nobody to tell (the lookups only:
the agency's administrators, the certificate's followers, the webhook endpoints), and with
one agency administrator (a mail rendered in Polish and written to the outbox per step).

    .venv/bin/python bench/bench_notify.py [--n 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_workflow as base  # noqa: E402


def _hook(on: bool) -> None:
    from iris.core.workflow import bind
    from iris.notifications.hooks import notify_step

    steps = bind("certificate").after_each
    if on and notify_step not in steps:
        steps.append(notify_step)
    if not on and notify_step in steps:
        steps.remove(notify_step)


def _round(
    halves: tuple[list[int], list[int]], decider: int, results: dict[str, list[float]],
    label: str, flip: bool,
) -> None:  # fmt: skip
    """Suspend then restore both halves: one with the hook, the other without (``flip``
    swaps them, so each half and each order get both settings over the rounds)."""
    first, second = halves
    for trigger in ("suspend", "restore"):
        for ids, hooked in ((first, not flip), (second, flip)):
            _hook(hooked)
            rate = len(ids) / base.through_engine(ids, decider, trigger)
            results.setdefault(f"{label}, {'with' if hooked else 'without'}", []).append(rate)
    _hook(True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = base.make_app(f"sqlite:///{tmp}/bench.db", tmp)
        with app.app_context():
            from iris.accounts.models import Membership, User
            from iris.certificates.models import Certificate
            from iris.core.db import db
            from workflows.roles import Role

            db.create_all()
            ids, decider = base.setup(args.n)
            results: dict[str, list[float]] = {}
            halves = (ids[::2], ids[1::2])
            for i in range(args.rounds):
                _round(halves, decider, results, "nobody to tell", flip=i % 2 == 1)
            agency_id = db.session.get(Certificate, ids[0]).agency_id  # type: ignore[union-attr]
            admin = User(email="admin@bench.example.com", name="Anna Nowak", locale="pl")
            db.session.add(admin)
            db.session.flush()
            db.session.add(
                Membership(user_id=admin.id, organisation_id=agency_id, role=Role.AGENCY_ADMIN)
            )
            db.session.commit()
            db.session.remove()
            for i in range(args.rounds):
                _round(halves, decider, results, "one recipient", flip=i % 2 == 1)
    print(f"SQLite (file, WAL): {args.n // 2} steps per batch, median transitions/s")
    for label in ("nobody to tell", "one recipient"):
        without = statistics.median(results[f"{label}, without"])
        with_ = statistics.median(results[f"{label}, with"])
        print(f"  {label:<15} without {without:7.0f}/s   with {with_:7.0f}/s   "
              f"{without / with_:.2f}× the time of a step without")  # fmt: skip


if __name__ == "__main__":
    main()
