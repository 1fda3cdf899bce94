"""The workflow engine: the one door through which every state change goes.

``workflows/`` says WHAT may happen (pure tables); this module binds those tables to rows.
One ``transitions`` machine per lifecycle is built once, with ``model=None``,
``auto_transitions=False`` and ``send_event=True``, and fired on a light stand-in for the
row (``machine.events[trigger].trigger(run, ...)``): no machine is ever attached to a
loaded row, and the row's state is written only after the machine accepted the change.

:func:`fire` does the five steps of STYLE.md §2:

1. **lock** the row: a version counter (``version_id_col``) on every database, plus on
   PostgreSQL ``SELECT version ... FOR UPDATE`` (a newer version than the one in memory
   reloads the row; an expired subject is locked and reloaded with ``populate_existing``).
   Features may read what they need for every step in that same statement
   (:meth:`Binding.read_with_lock`: the registry entry, who is told), saving a round trip;
2. **permission**: the roles the actor holds *relative to this subject*
   (``subject.actor_roles(user)``) against the row's roles → :class:`PermissionDenied`
   (403); separation-of-duties guards (``permission=True``) also answer 403, with their
   reason;
3. **guards**: every guard named by the row runs; failures are collected and raised as
   :class:`TransitionNotAllowed` (409) carrying each failed condition in the user's words;
4. **state change and record** in the same transaction: a :class:`TransitionRecord`
   chained by hash to the subject's previous record, whose ``seq`` and hash the subject
   row carries (``history_seq``, ``history_hash``, written in the same UPDATE as the state),
   so no step reads the records;
5. **never commits**: effects run inside the transaction; anything outside the database
   (mail, webhooks, PDF jobs) is queued by the effect with ``firing.after_commit(...)`` and
   runs only once the caller's commit succeeds (dropped on rollback).

Guards and effects live in the feature's ``workflow.py`` (``iris/<feature>/workflow.py``),
registered by name on a :class:`Binding`; a subject model inherits
:class:`WorkflowSubject` and names its lifecycle in ``__workflow__``. The binding module
is the sibling ``workflow`` module of the model's package, imported on first use, so the
core never imports a feature by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError
from transitions import Machine

from iris.core import jobs
from iris.core.db import db, utcnow
from iris.core.history import TransitionRecord, chain_head, json_safe
from workflows.base import NEW, Lifecycle, Transition, roles_for, row_for, triggers_from
from workflows.lifecycles import LIFECYCLES
from workflows.roles import Role

# --------------------------------------------------------------------------- errors


class WorkflowError(Exception):
    """A state change that did not happen; ``status`` is the HTTP answer."""

    status = 409

    def __init__(self, *reasons: str) -> None:
        self.reasons = [str(r) for r in reasons if r]
        super().__init__("; ".join(self.reasons))

    @property
    def message(self) -> str:
        return " ".join(r if r.endswith(".") else r + "." for r in self.reasons)


class PermissionDenied(WorkflowError):
    """The actor may never take this step on this subject (403)."""

    status = 403


class TransitionNotAllowed(WorkflowError):
    """Not possible now: wrong state, a failed guard, a missing reason (409)."""

    status = 409


class ConcurrentChange(TransitionNotAllowed):
    """Someone else changed the subject at the same moment; the loser gets this (409)."""


class UnknownTrigger(WorkflowError):
    """No such step in this lifecycle (404: nothing to see)."""

    status = 404


class ConfigurationError(RuntimeError):
    """A table names a guard or an effect that its feature did not register."""


# --------------------------------------------------------------------------- actors


class _Actor:
    """A non-person actor: the system's timers, or an anonymous member of the public."""

    id = None

    def __init__(self, role: Role) -> None:
        self.role = role

    def __repr__(self) -> str:
        return f"<{self.role.value} actor>"


#: The actor of time-based transitions (``flask iris tick``).
SYSTEM = _Actor(Role.SYSTEM)
#: Anyone, without an account (e.g. a complainant).
PUBLIC = _Actor(Role.PUBLIC)


class UserLike(Protocol):
    id: int


def actor_id(actor: Any) -> int | None:
    return None if actor is None or isinstance(actor, _Actor) else int(actor.id)


# --------------------------------------------------------------------------- subjects

#: lifecycle name -> model class; filled as subject models are defined
SUBJECTS: dict[str, type[WorkflowSubject]] = {}


class WorkflowSubject:
    """Mixin for a model with a lifecycle.

    The model declares ``__workflow__`` (the lifecycle's name), a ``state`` column of the
    lifecycle's enum, a ``version`` column used as ``version_id_col``, and implements
    :meth:`actor_roles`.
    """

    __workflow__: ClassVar[str]
    id: Any
    state: Any
    version: Any

    #: The head of the subject's history chain: ``seq`` and ``hash`` of its last transition
    #: record, written by :func:`fire` in the same UPDATE as the state. The row lock and the
    #: version counter that protect the state protect these too, so the next step chains to
    #: them without reading the records. Empty on rows whose records were written otherwise
    #: (bulk loaders, rows older than these columns): the head is then read from the records.
    history_seq: Mapped[int | None] = mapped_column(default=None)
    history_hash: Mapped[str | None] = mapped_column(sa.String(64), default=None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("__workflow__")
        if name:
            if name not in LIFECYCLES:
                raise ConfigurationError(f"{cls.__name__}: no lifecycle named {name!r}")
            SUBJECTS[name] = cls

    def actor_roles(self, user: Any) -> set[Role]:
        """The roles ``user`` holds relative to this very subject (not in general)."""
        raise NotImplementedError

    def can_view(self, user: Any) -> bool:
        """Whether ``user`` may see the subject: any role relative to it beyond the public's."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        return bool(self.actor_roles(user) - {Role.PUBLIC})

    @property
    def lifecycle(self) -> Lifecycle:
        return LIFECYCLES[self.__workflow__]

    @property
    def state_label(self) -> str:
        return str(_(self.lifecycle.state_label(self.state)))


def roles_of(subject: WorkflowSubject, actor: Any) -> frozenset[Role]:
    if isinstance(actor, _Actor):
        return frozenset({actor.role})
    if actor is None or not getattr(actor, "is_authenticated", True):
        return frozenset({Role.PUBLIC})
    if not getattr(actor, "is_active", True):
        return frozenset()
    return frozenset(subject.actor_roles(actor))


# --------------------------------------------------------------------------- firing


@dataclass
class Firing:
    """What a guard or an effect sees: the subject, the step, who, when and the input."""

    subject: Any
    lifecycle: Lifecycle
    transition: Transition
    actor: Any
    roles: frozenset[Role]
    now: datetime
    session: Session
    reason: str | None = None
    reason_code: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    #: facts added by effects; stored in the record (and so covered by its hash)
    payload: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    denials: list[str] = field(default_factory=list)
    #: only checking what is possible (available actions): no input was given
    dry_run: bool = False

    @property
    def from_state(self) -> str | None:
        return None if self.transition.creates else str(self.subject.state)

    @property
    def actor_id(self) -> int | None:
        return actor_id(self.actor)

    @property
    def config(self) -> Any:
        return current_app.config

    def after_commit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn`` once the caller's transaction commits; dropped on rollback."""
        jobs.after_commit(self.session, fn, *args, **kwargs)


#: a guard returns ``None`` when its condition holds, else the reason in the user's words
Guard = Callable[[Firing], str | None]
Effect = Callable[[Firing], None]
#: the query of subjects that may be due for a timer step at a given moment
TimerQuery = Callable[[datetime], sa.Select[Any]]


@dataclass(frozen=True)
class _GuardSpec:
    fn: Guard
    permission: bool  # separation of duties: failure is a 403 with the reason
    on_input: bool  # checks the input given with the step: skipped when listing actions


@dataclass(frozen=True)
class LockRead:
    """Values a feature reads with the subject's lock (:meth:`Binding.read_with_lock`)."""

    columns: Callable[[], tuple[Any, ...]]
    into: Callable[[Session, Any, tuple[Any, ...]], None]


class Binding:
    """A lifecycle bound to its feature's guards, effects and timer queries."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.guards: dict[str, _GuardSpec] = {}
        self.effects: dict[str, Effect] = {}
        self.timer_queries: dict[str, TimerQuery] = {}
        #: effects run after every step of the lifecycle, after the row's own effects
        self.after_each: list[Effect] = []
        #: values other features read in the statement that locks the subject
        self.lock_reads: list[LockRead] = []
        self._machine: Machine | None = None

    def guard(
        self, name: str, *, permission: bool = False, on_input: bool = False
    ) -> Callable[[Guard], Guard]:
        def register(fn: Guard) -> Guard:
            self.guards[name] = _GuardSpec(fn, permission, on_input)
            self._machine = None
            return fn

        return register

    def effect(self, name: str) -> Callable[[Effect], Effect]:
        def register(fn: Effect) -> Effect:
            self.effects[name] = fn
            self._machine = None
            return fn

        return register

    def every_step(self, fn: Effect) -> Effect:
        """Register an effect that runs after every step (e.g. a status-changed date)."""
        self.after_each.append(fn)
        return fn

    def read_with_lock(
        self,
        columns: Callable[[], tuple[Any, ...]],
        into: Callable[[Session, Any, tuple[Any, ...]], None],
    ) -> None:
        """Read more values in the statement that locks the subject (PostgreSQL).

        ``columns()`` gives scalar subqueries correlated to the subject's table (built on
        first use, when every table is known); ``into(session, subject, values)`` receives
        them when the locked row is the one in memory. It is not called on SQLite (no lock
        statement) nor when the row had changed and was reloaded (the values were read in
        a snapshot older than that change): the feature reads them itself then. A feature
        that needs a row of its own for every step saves that round trip this way.
        """
        self.lock_reads.append(LockRead(columns, into))
        _VERSION_LOCKS.clear()

    def timer(self, trigger: str) -> Callable[[TimerQuery], TimerQuery]:
        """Register the query of subjects that may be due for a timer ``trigger``."""

        def register(fn: TimerQuery) -> TimerQuery:
            self.timer_queries[trigger] = fn
            return fn

        return register

    # ------------------------------------------------------------------ the machine

    def missing(self) -> list[str]:
        out = []
        for t in self.lifecycle.transitions:
            out += [f"guard {g!r} of {t.trigger}" for g in t.guards if g not in self.guards]
            out += [f"effect {e!r} of {t.trigger}" for e in t.effects if e not in self.effects]
            if t.timer and t.trigger not in self.timer_queries:
                out.append(f"timer query of {t.trigger}")
        return out

    @property
    def machine(self) -> Machine:
        if self._machine is None:
            self._machine = self._build()
        return self._machine

    def _build(self) -> Machine:
        missing = self.missing()
        if missing:
            raise ConfigurationError(f"{self.lifecycle.name}: not registered: {', '.join(missing)}")
        states = [NEW, *(s.value for s in self.lifecycle.states)]
        machine = Machine(
            model=None,
            states=states,
            initial=NEW,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
            name=self.lifecycle.name,
        )
        for t in self.lifecycle.transitions:
            # plain strings: transitions would name an Enum member by its NAME
            machine.add_transition(
                t.trigger,
                [str(s) for s in t.sources],
                str(t.dest),
                conditions=[self._condition(t)],
                after=[self._apply(t)],
            )
        return machine

    def _condition(self, t: Transition) -> Callable[[Any], bool]:
        def condition(event: Any) -> bool:
            firing: Firing = event.kwargs["firing"]
            self.check(firing)
            return not firing.failures and not firing.denials

        return condition

    def _apply(self, t: Transition) -> Callable[[Any], None]:
        def apply(event: Any) -> None:
            firing: Firing = event.kwargs["firing"]
            subject = firing.subject
            subject.state = self.lifecycle.states(t.dest)
            if t.creates:
                firing.session.add(subject)
                firing.session.flush()
            for name in t.effects:
                self.effects[name](firing)
            for effect in self.after_each:
                effect(firing)

        return apply

    # ------------------------------------------------------------------ guards

    def check(self, firing: Firing) -> None:
        """Run the row's guards: separation of duties first, then the others, all of them."""
        specs = [(n, self.guards[n]) for n in firing.transition.guards]
        specs.sort(key=lambda item: not item[1].permission)
        for _name, spec in specs:
            if firing.dry_run and spec.on_input:
                continue
            if spec.permission and firing.denials:
                continue
            problem = spec.fn(firing)
            if problem:
                (firing.denials if spec.permission else firing.failures).append(str(problem))
            if firing.denials:
                return


#: lifecycle name -> binding
BINDINGS: dict[str, Binding] = {}


def bind(name: str) -> Binding:
    """The binding of the lifecycle ``name`` (created on first call)."""
    if name not in BINDINGS:
        BINDINGS[name] = Binding(LIFECYCLES[name])
    return BINDINGS[name]


def binding_for(subject_or_class: Any) -> Binding:
    cls: Any = subject_or_class if isinstance(subject_or_class, type) else type(subject_or_class)
    name = cls.__workflow__
    binding = BINDINGS.get(name)
    # a built machine means nothing was missing (registering more resets it)
    if binding is None or (binding._machine is None and binding.missing()):
        # the guards live beside the model: iris/<feature>/workflow.py
        importlib.import_module(cls.__module__.rsplit(".", 1)[0] + ".workflow")
        binding = BINDINGS.get(name)
    if binding is None:
        raise ConfigurationError(f"no binding registered for the {name!r} lifecycle")
    return binding


def load_all() -> dict[str, Binding]:
    """Import the binding of every subject model known so far."""
    for cls in list(SUBJECTS.values()):
        binding_for(cls)
    return BINDINGS


# --------------------------------------------------------------------------- fire


def _lock(session: Session, subject: Any) -> None:
    """Lock the subject's row for this transaction; make sure the object is current.

    Pending changes of the caller are flushed first (the version counter checks them), so
    a reload never discards them. SQLite has no row locks: the version counter alone makes
    the second of two racing writers fail.

    On PostgreSQL: a subject whose columns are loaded is locked with ``SELECT version ...
    FOR UPDATE``; the same version as in memory means nobody changed the row since it was
    loaded (every write of a subject bumps it: ``version_id_col``), so nothing needs
    reloading; another version (someone committed meanwhile, perhaps while we waited for
    the lock) reloads the row, already locked. An expired subject (after a commit) is
    locked and reloaded in one ``SELECT ... FOR UPDATE`` with ``populate_existing``.
    """
    if subject in session.dirty:
        _flush(session)
    if session.get_bind().dialect.name != "postgresql":
        return
    cls = type(subject)
    state = sa.inspect(subject)
    if "version" in state.dict and not state.expired_attributes:
        statement, reads = _version_lock(binding_for(cls), cls)
        row = session.connection().execute(statement, {"id": subject.id}).one()
        if row[0] == subject.version:
            for into, start, end in reads:
                into(session, subject, tuple(row[start:end]))
            return
        reload = sa.select(cls).where(cls.id == subject.id)
    else:
        reload = sa.select(cls).where(cls.id == subject.id).with_for_update()
    session.execute(reload.execution_options(populate_existing=True)).all()


#: subject class -> (``SELECT version[, the lock reads] FROM <its table> WHERE id = :id
#: FOR UPDATE OF <its table>``, [(into, first column, last column + 1) per lock read])
_VERSION_LOCKS: dict[type, tuple[Any, list[tuple[Any, int, int]]]] = {}


def _version_lock(binding: Binding, cls: Any) -> tuple[Any, list[tuple[Any, int, int]]]:
    found = _VERSION_LOCKS.get(cls)
    if found is None:
        columns: list[Any] = [cls.version]
        reads = []
        for read in binding.lock_reads:
            more = read.columns()
            reads.append((read.into, len(columns), len(columns) + len(more)))
            columns += more
        statement = sa.select(*columns).where(cls.id == sa.bindparam("id")).with_for_update(of=cls)
        found = _VERSION_LOCKS[cls] = (statement, reads)
    return found


@contextmanager
def _conflicts() -> Iterator[None]:
    """Turn the database's ways of saying "someone else won the race" into ConcurrentChange:
    the version counter's StaleDataError, a duplicate record number in the chain, and
    SQLite refusing a writer whose snapshot is stale ("database is locked")."""
    try:
        yield
    except StaleDataError as exc:
        raise ConcurrentChange(_conflict_message()) from exc
    except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
        if "subject_seq" in str(exc.orig) or "database is locked" in str(exc.orig):
            raise ConcurrentChange(_conflict_message()) from exc
        raise


def _conflict_message() -> str:
    return _("Someone else changed this at the same moment. Reload the page and try again.")


def _flush(session: Session) -> None:
    with _conflicts():
        session.flush()


def _words(lifecycle: Lifecycle, t: Transition | None, trigger: str) -> str:
    rows = lifecycle.rows(trigger)
    return str(_(t.label if t else rows[0].label if rows else trigger))


def fire(
    subject: Any,
    trigger: str,
    actor: Any,
    *,
    reason: str | None = None,
    reason_code: str | None = None,
    now: datetime | None = None,
    session: Session | None = None,
    **data: Any,
) -> TransitionRecord:
    """Take the step ``trigger`` on ``subject`` as ``actor``; return the new record.

    ``actor`` is a user, :data:`SYSTEM` (timers) or ``None``/:data:`PUBLIC` (anonymous).
    A subject not yet in the database is created by its lifecycle's creating row.
    Raises :class:`PermissionDenied` (403), :class:`TransitionNotAllowed` (409) or
    :class:`UnknownTrigger` (404); never commits.
    """
    binding = binding_for(subject)
    lc = binding.lifecycle
    session = session if session is not None else db.session()
    now = now or utcnow()
    is_new = sa.inspect(subject).persistent is False

    if trigger not in lc.triggers:
        raise UnknownTrigger(_("There is no such step."))

    # 1. lock
    if not is_new:
        _lock(session, subject)
    state = None if is_new else subject.state

    # 2. permission
    roles = roles_of(subject, actor)
    row = row_for(lc, state, trigger)
    if not roles & roles_for(lc, trigger) or (row is not None and not roles & row.roles):
        raise PermissionDenied(
            _("Your role does not allow this step: %(step)s.", step=_words(lc, row, trigger))
        )
    if row is None:
        raise TransitionNotAllowed(
            _(
                "“%(step)s” is not possible while the %(subject)s is %(state)s.",
                step=_words(lc, row, trigger),
                subject=_(lc.title).lower(),
                state=_(lc.state_label(state)).lower(),
            )
        )
    if row.reason_required and not (reason and reason.strip()):
        raise TransitionNotAllowed(_("Give a reason for this step."))
    if row.reason_codes and reason_code not in row.reason_codes:
        raise TransitionNotAllowed(_("Choose the reason from the list."))
    if reason_code and not row.reason_codes:
        raise TransitionNotAllowed(_("This step takes no reason code."))

    firing = Firing(
        subject=subject,
        lifecycle=lc,
        transition=row,
        actor=actor,
        roles=roles,
        now=now,
        session=session,
        reason=reason.strip() if reason else None,
        reason_code=reason_code,
        data=data,
    )
    with _conflicts():
        # 3. guards, then the state change and the effects (inside the machine)
        run = _Run(NEW if state is None else str(state))
        done = binding.machine.events[trigger].trigger(run, firing=firing)
        if firing.denials:
            raise PermissionDenied(*firing.denials)
        if not done:
            raise TransitionNotAllowed(*firing.failures)

        # 4. the record, chained to the subject's previous one, in the same transaction
        head = None if is_new else _head(session, lc.name, subject)
        if reason_code:
            firing.payload.setdefault("reason_code", reason_code)
        record = TransitionRecord(
            subject_type=lc.name,
            subject_id=subject.id,
            seq=1 if head is None else head[0] + 1,
            trigger=trigger,
            from_state=None if state is None else str(state),
            to_state=str(subject.state),
            actor_id=actor_id(actor),
            actor_role=_acting_role(roles, row).value,
            at=now,
            reason=firing.reason,
            payload=json_safe(firing.payload),
        )
        record.seal(None if head is None else head[1])
        session.add(record)
        subject.history_seq, subject.history_hash = record.seq, record.hash
        # 5. flush (the version counter checks nobody changed the row meanwhile); no commit
        session.flush()
    return record


def _head(session: Session, name: str, subject: Any) -> tuple[int, str] | None:
    """(seq, hash) of the subject's last record: from its row, else from the records."""
    if subject.history_seq is not None and subject.history_hash is not None:
        return int(subject.history_seq), str(subject.history_hash)
    return chain_head(session, name, subject.id)


class _Run:
    """The stand-in the shared machine works on: only a ``state`` attribute."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _acting_role(roles: frozenset[Role], row: Transition) -> Role:
    return sorted(roles & row.roles)[0]


# --------------------------------------------------------------------------- for the UI


@dataclass
class Action:
    """A step the actor could take on the subject now, or why not yet."""

    transition: Transition
    blocked: list[str]

    @property
    def allowed(self) -> bool:
        return not self.blocked

    @property
    def trigger(self) -> str:
        return self.transition.trigger


def available_actions(subject: Any, actor: Any, *, now: datetime | None = None) -> list[Action]:
    """The steps the table offers ``actor`` from the subject's state, with what blocks each.

    Derived from the table, the actor's roles relative to the subject, and the guards
    (those that check the step's own input are left to the form). Timer steps and steps
    denied by separation of duties are not offered.
    """
    binding = binding_for(subject)
    lc = binding.lifecycle
    roles = roles_of(subject, actor)
    out: list[Action] = []
    for row in triggers_from(lc, subject.state):
        if row.timer or not roles & row.roles:
            continue
        firing = Firing(
            subject=subject,
            lifecycle=lc,
            transition=row,
            actor=actor,
            roles=roles,
            now=now or utcnow(),
            session=db.session(),
            dry_run=True,
        )
        binding.check(firing)
        if firing.denials:
            continue
        out.append(Action(row, firing.failures))
    return out


def subject_class(name: str) -> type[WorkflowSubject] | None:
    return SUBJECTS.get(name)


def visible_subject(subject_type: str, public_id: str, user: Any) -> Any | None:
    """The subject ``subject_type``/``public_id`` if ``user`` may see it, else None.

    None alike for an unknown kind, an unknown id and another organisation's subject, so
    callers answer 404 to all three and never confirm that someone else's subject exists.
    """
    load_all()
    cls: Any = subject_class(subject_type)
    if cls is None:
        return None
    subject = db.session.scalar(sa.select(cls).where(cls.public_id == public_id))
    if subject is None or not subject.can_view(user):
        return None
    return subject


# --------------------------------------------------------------------------- timers


@dataclass
class TickResult:
    fired: list[tuple[str, int, str]] = field(default_factory=list)  # (lifecycle, id, trigger)
    failed: list[tuple[str, int, str, str]] = field(default_factory=list)


def tick(now: datetime | None = None, *, session: Session | None = None) -> TickResult:
    """Fire every timer step that is due at ``now``, through :func:`fire`.

    Idempotent: a subject that moved is no longer in the timer's source state, so a second
    run at the same moment finds nothing to do. Each step runs in its own SAVEPOINT, so one
    failure neither stops nor undoes the others. Never commits.
    """
    now = now or utcnow()
    session = session if session is not None else db.session()
    result = TickResult()
    for name, binding in sorted(load_all().items()):
        cls = SUBJECTS[name]
        for row in binding.lifecycle.transitions:
            if not row.timer:
                continue
            query = binding.timer_queries[row.trigger](now).where(cls.state.in_(row.sources))
            for subject in session.scalars(query).all():
                try:
                    with session.begin_nested():
                        fire(subject, row.trigger, SYSTEM, now=now, session=session)
                except TransitionNotAllowed as exc:
                    # not due after all (a guard said no): nothing changed
                    if not isinstance(exc, ConcurrentChange):
                        continue
                    result.failed.append((name, subject.id, row.trigger, str(exc)))
                except WorkflowError as exc:
                    result.failed.append((name, subject.id, row.trigger, str(exc)))
                else:
                    result.fired.append((name, subject.id, row.trigger))
    return result


# --------------------------------------------------------------------------- verification


def state_mismatches(session: Session | None = None) -> list[str]:
    """Subjects whose row disagrees with their history: a state changed behind the engine,
    or a chain whose last record is not the one the row names as its head (a last record
    removed, added or rewritten and resealed outside the engine)."""
    session = session if session is not None else db.session()
    out: list[str] = []
    for name, cls in sorted(SUBJECTS.items()):
        last = (
            sa.select(
                TransitionRecord.subject_id,
                sa.func.max(TransitionRecord.seq).label("seq"),
            )
            .where(TransitionRecord.subject_type == name)
            .group_by(TransitionRecord.subject_id)
            .subquery()
        )
        ends = (
            sa.select(
                TransitionRecord.subject_id,
                TransitionRecord.to_state,
                TransitionRecord.seq,
                TransitionRecord.hash,
            )
            .join(
                last,
                sa.and_(
                    TransitionRecord.subject_id == last.c.subject_id,
                    TransitionRecord.seq == last.c.seq,
                ),
            )
            .where(TransitionRecord.subject_type == name)
            .subquery()
        )
        model: Any = cls
        head_differs = sa.and_(
            model.history_seq.is_not(None),
            sa.or_(
                ends.c.seq.is_(None),
                ends.c.seq != model.history_seq,
                ends.c.hash != model.history_hash,
            ),
        )
        rows = session.execute(
            sa.select(model.id, model.state, ends.c.to_state, ends.c.seq, model.history_seq)
            .outerjoin(ends, ends.c.subject_id == model.id)
            .where(sa.or_(ends.c.to_state.is_(None), ends.c.to_state != model.state, head_differs))
            .order_by(model.id)
        )
        for subject_id, state, to_state, seq, head in rows:
            if to_state is None:
                out.append(f"{name} #{subject_id}: in state {state} with no history")
            elif to_state != state:
                out.append(
                    f"{name} #{subject_id}: in state {state}, its history ends in {to_state}"
                )
            elif seq != head:
                out.append(
                    f"{name} #{subject_id}: its history ends with record {seq}, but its row "
                    f"names record {head} as its last (records removed or added outside the "
                    "workflow)"
                )
            else:
                out.append(
                    f"{name} #{subject_id}: its last record (record {seq}) is not the one its "
                    "row names (the record was rewritten)"
                )
    return out
