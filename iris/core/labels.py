"""Words for stored codes: one registry of labels, one template filter (``|label``).

A page, an e-mail or a PDF never shows a stored code (``initial``, ``plan_submitted``,
``lead``) to a person: it shows the code's label in the reader's language. Each feature
registers its enums next to the labels it already uses for its form choices (core never
imports a feature)::

    GRADE_LABELS = register_labels(FindingGrade, {FindingGrade.MINOR: _l("Minor"), ...})

and templates write ``{{ finding.grade|label }}``. An enum member finds its labels by its
class; a plain string (a PDF's plain-dict context, a JSON snapshot) names its vocabulary:
``{{ f.grade|label('FindingGrade') }}``. Codes that are not an enum in the database (a
complaint's channel) register under a name: ``register_labels("complaint_channel", {...})``.

The labels are lazy (``_l``) and become text when shown, so the same registry serves a page in
the reader's locale and an e-mail or PDF rendered inside ``force_locale``. The lifecycles'
states and the roles are registered here from ``workflows/`` (their words are ``N_`` marked
there). ``tests/core/test_labels.py`` fails on any registered value without a label and on any
enum column or lifecycle state that has no labels at all.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l

from iris.core.outbox import OutboxStatus
from iris.core.roles import ROLE_LABELS
from workflows.lifecycles import LIFECYCLES, REASON_LABELS
from workflows.roles import Role

M = TypeVar("M", bound=Mapping[Any, Any])

#: vocabulary name -> {code: label}; an enum's name is its class name
_LABELS: dict[str, dict[str, Any]] = {}
#: vocabulary name -> the enum class, when the vocabulary is an enum
ENUMS: dict[str, type[enum.Enum]] = {}


def vocabulary(kind: type[enum.Enum] | str) -> str:
    return kind if isinstance(kind, str) else kind.__name__


def register_labels(kind: type[enum.Enum] | str, labels: M) -> M:
    """Record ``labels`` (code or member -> lazy text) for ``kind``; returns ``labels``.

    Registering the same vocabulary twice merges (a later feature may add words, e.g. a short
    form elsewhere); a code registered twice keeps its last label.
    """
    name = vocabulary(kind)
    if not isinstance(kind, str):
        known = ENUMS.setdefault(name, kind)
        if known is not kind:
            raise ValueError(f"two enums are called {name}: {known!r} and {kind!r}")
    words = _LABELS.setdefault(name, {})
    for code, text in labels.items():
        words[str(code.value if isinstance(code, enum.Enum) else code)] = text
    return labels


def registered() -> dict[str, dict[str, Any]]:
    """Every vocabulary and its words (for tests and the lead's checks)."""
    return {name: dict(words) for name, words in _LABELS.items()}


def label(value: Any, kind: type[enum.Enum] | str | None = None) -> str:
    """The label of ``value`` in the current locale ("" for no value).

    ``value`` is an enum member (its class names the vocabulary) or a code with ``kind``.
    An unknown code shows as itself rather than failing a page; the registry test is what
    keeps that from happening.
    """
    if value is None or value == "":
        return ""
    if kind is None:
        if not isinstance(value, enum.Enum):
            raise TypeError(f"label({value!r}) needs the vocabulary of a plain code")
        kind = type(value)
    code = str(value.value if isinstance(value, enum.Enum) else value)
    text = _LABELS.get(vocabulary(kind), {}).get(code)
    return str(text) if text is not None else code


# ------------------------------------------------------------------ core's own vocabularies


def _register_core() -> None:
    for lc in LIFECYCLES.values():
        register_labels(
            lc.states,
            {s: _l(lc.state_labels[s.value]) for s in lc.states if s.value in lc.state_labels},
        )
    register_labels(Role, ROLE_LABELS)
    #: the controlled reasons of transitions (suspension, rejection, complaint actions...)
    register_labels("reason", {code: _l(text) for code, text in REASON_LABELS.items()})
    register_labels(
        OutboxStatus,
        {
            OutboxStatus.PENDING: _l("Waiting to be sent"),
            OutboxStatus.SENT: _l("Sent"),
            OutboxStatus.LOCAL: _l("Kept here (no mail server)"),
            OutboxStatus.FAILED: _l("Failed"),
        },
    )


_register_core()
