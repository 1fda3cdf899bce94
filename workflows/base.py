"""The vocabulary of the lifecycle tables: a transition row and a lifecycle.

Pure data and a few pure helpers; nothing here imports flask, sqlalchemy or iris.
The engine (``iris.core.workflow``) builds its machines from these tables, the UI its
buttons, the admin page its diagrams, and the tests one case per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from workflows.roles import Role

#: The pseudo-state before a subject exists. A row whose sources are ``(NEW,)`` creates
#: the subject; ``NEW`` is never stored (records keep ``from_state`` empty for it).
NEW = "new"


def N_(text: str) -> str:
    """Mark a string for translation without translating it (extracted by Babel)."""
    return text


@dataclass(frozen=True)
class Transition:
    """One row of a lifecycle table: ``sources --trigger--> dest``.

    ``guards`` and ``effects`` are names, resolved by the engine to the feature's
    functions (``iris/<feature>/workflow.py``). Effects run inside the transaction of the
    state change; anything outside the database (mail, webhooks) is queued by an effect to
    run after the commit.
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    reason_required: bool = False
    #: when given, the reason is chosen from this controlled list (codes), plus free text
    reason_codes: tuple[str, ...] = ()
    #: extra inputs the UI must collect and pass as ``data`` (e.g. ``requested_items``)
    fields: tuple[str, ...] = ()
    #: cannot be undone: the UI asks for a confirmation first
    irreversible: bool = False
    #: fired by ``flask iris tick`` when its guards say the time has come
    timer: bool = False
    label: str = ""
    help: str = ""

    def __post_init__(self) -> None:
        for name in ("sources", "guards", "effects", "reason_codes", "fields"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"{self.trigger}: {name} must be a tuple of strings, not {value!r}")
        if not isinstance(self.roles, frozenset):
            raise TypeError(f"{self.trigger}: roles must be a frozenset of Role")

    @property
    def creates(self) -> bool:
        return self.sources == (NEW,)


@dataclass(frozen=True)
class Lifecycle:
    """A named lifecycle: its states, its initial state and its table."""

    name: str
    title: str
    states: type[StrEnum]
    transitions: tuple[Transition, ...]
    #: human words for the states, shown in badges and diagrams
    state_labels: dict[str, str] = field(default_factory=dict)

    def rows(self, trigger: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.trigger == trigger)

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))

    @property
    def terminal_states(self) -> tuple[str, ...]:
        leaving = {s for t in self.transitions for s in t.sources}
        return tuple(s.value for s in self.states if s.value not in leaving)

    def state_label(self, state: str | None) -> str:
        if state is None:
            return NEW
        return self.state_labels.get(str(state), str(state).replace("_", " "))


def row_for(lifecycle: Lifecycle, state: str | None, trigger: str) -> Transition | None:
    """The row that ``trigger`` follows from ``state`` (``None`` = not yet created)."""
    source = NEW if state is None else str(state)
    for t in lifecycle.transitions:
        if t.trigger == trigger and source in t.sources:
            return t
    return None


def roles_for(lifecycle: Lifecycle, trigger: str) -> frozenset[Role]:
    """Every role that may fire ``trigger`` from some state."""
    out: frozenset[Role] = frozenset()
    for t in lifecycle.rows(trigger):
        out |= t.roles
    return out


def allowed(lifecycle: Lifecycle, state: str | None, trigger: str, roles: Iterable[Role]) -> bool:
    """Does the table let someone holding ``roles`` fire ``trigger`` from ``state``?

    Guards are not evaluated here: they need the subject's data (the engine runs them).
    """
    row = row_for(lifecycle, state, trigger)
    return row is not None and bool(row.roles & frozenset(roles))


def triggers_from(lifecycle: Lifecycle, state: str | None) -> tuple[Transition, ...]:
    source = NEW if state is None else str(state)
    return tuple(t for t in lifecycle.transitions if source in t.sources)


def problems(lifecycle: Lifecycle) -> list[str]:
    """Consistency checks of a table; an empty list means the table is well formed."""
    out: list[str] = []
    names = {s.value for s in lifecycle.states}
    seen: set[tuple[str, str]] = set()
    for t in lifecycle.transitions:
        where = f"{lifecycle.name}.{t.trigger}"
        if not t.sources:
            out.append(f"{where}: no source state")
        for s in t.sources:
            if s != NEW and s not in names:
                out.append(f"{where}: unknown source {s!r}")
            if (t.trigger, s) in seen:
                out.append(f"{where}: two rows leave {s!r} on the same trigger")
            seen.add((t.trigger, s))
        if NEW in t.sources and len(t.sources) > 1:
            out.append(f"{where}: a creating row has no other source")
        if t.dest not in names:
            out.append(f"{where}: unknown destination {t.dest!r}")
        if not t.roles:
            out.append(f"{where}: nobody may fire it")
        if t.timer and t.roles != frozenset({Role.SYSTEM}):
            out.append(f"{where}: a timer row is fired by the system only")
        if not t.timer and Role.SYSTEM in t.roles:
            out.append(f"{where}: the system fires timer rows only")
        if t.timer and not t.guards:
            out.append(f"{where}: a timer row needs a guard saying the time has come")
        if t.reason_codes and not t.reason_required:
            out.append(f"{where}: reason codes without a required reason")
        if not t.label:
            out.append(f"{where}: no label")
    reachable = {t.dest for t in lifecycle.transitions}
    for s in names - reachable:
        out.append(f"{lifecycle.name}: state {s!r} is never reached")
    return out


def mermaid(lifecycle: Lifecycle) -> str:
    """The lifecycle as a Mermaid ``stateDiagram-v2``, generated from the table."""
    lines = ["stateDiagram-v2"]
    for t in lifecycle.transitions:
        who = ", ".join(sorted(r.value for r in t.roles))
        guard = f" [{', '.join(t.guards)}]" if t.guards else ""
        for s in t.sources:
            src = "[*]" if s == NEW else s
            lines.append(f"    {src} --> {t.dest}: {t.trigger} ({who}){guard}")
    for s in lifecycle.terminal_states:
        lines.append(f"    {s} --> [*]")
    return "\n".join(lines) + "\n"
