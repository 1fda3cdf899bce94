"""Every row of every lifecycle table, on its own, with no app.

For each row: allowed from each of its sources for each of its roles; refused for every
other role; refused from every other state. Plus: the tables implement every arrow of
DOMAIN.md §3, and they are well formed.
"""

import pytest

from workflows.base import NEW, allowed, mermaid, problems, roles_for, row_for, triggers_from
from workflows.lifecycles import LIFECYCLES
from workflows.roles import Role

ALL_ROLES = frozenset(Role)


def _rows():
    for lc in LIFECYCLES.values():
        for row in lc.transitions:
            yield pytest.param(
                lc, row, id=f"{lc.name}.{row.trigger}:{'|'.join(row.sources)}->{row.dest}"
            )


ROWS = list(_rows())


@pytest.mark.parametrize(("lc", "row"), ROWS)
def test_allowed_from_its_sources_for_its_roles(lc, row):
    for source in row.sources:
        state = None if source == NEW else source
        assert row_for(lc, state, row.trigger) is row
        for role in row.roles:
            assert allowed(lc, state, row.trigger, {role})
            assert row in triggers_from(lc, state)


@pytest.mark.parametrize(("lc", "row"), ROWS)
def test_refused_for_every_other_role(lc, row):
    others = ALL_ROLES - row.roles
    assert others, "some role must be refused"
    for source in row.sources:
        state = None if source == NEW else source
        for role in others:
            assert not allowed(lc, state, row.trigger, {role}), role
        assert not allowed(lc, state, row.trigger, others)


@pytest.mark.parametrize(("lc", "row"), ROWS)
def test_refused_from_every_other_state(lc, row):
    states = [None] + [s.value for s in lc.states]
    for state in states:
        source = NEW if state is None else state
        if source in row.sources:
            continue
        other = row_for(lc, state, row.trigger)
        # another row may carry the same trigger from that state (e.g. ``recommend``);
        # then it is that row, never this one, that applies
        assert other is not row
        if other is None:
            assert not allowed(lc, state, row.trigger, row.roles), state


@pytest.mark.parametrize("lc", LIFECYCLES.values(), ids=LIFECYCLES.keys())
def test_table_is_well_formed(lc):
    assert problems(lc) == []


@pytest.mark.parametrize("lc", LIFECYCLES.values(), ids=LIFECYCLES.keys())
def test_unknown_trigger_is_never_allowed(lc):
    for state in [None, *lc.states]:
        assert not allowed(lc, state, "teleport", ALL_ROLES)
    assert roles_for(lc, "teleport") == frozenset()


def test_problems_reports_a_broken_table():
    from enum import StrEnum

    from workflows.base import Lifecycle, Transition

    class St(StrEnum):
        A = "a"
        B = "b"

    broken = Lifecycle(
        "broken",
        "Broken",
        St,
        (
            Transition("go", ("a",), "c", frozenset({Role.AUDITOR}), label="Go"),
            Transition("go", ("a",), "b", frozenset({Role.AUDITOR}), label="Go"),
            Transition("tick", ("b",), "a", frozenset({Role.AUDITOR}), timer=True),
        ),
    )
    found = "\n".join(problems(broken))
    assert "unknown destination 'c'" in found
    assert "two rows leave 'a'" in found
    assert "timer row is fired by the system only" in found
    assert "needs a guard" in found
    assert "broken.tick: no label" in found


def test_a_guard_given_as_a_bare_string_is_refused():
    from workflows.base import Transition

    with pytest.raises(TypeError, match="guards must be a tuple"):
        Transition("go", ("a",), "b", frozenset({Role.AUDITOR}), guards=("oops"))


# DOMAIN.md §3 transcribed arrow by arrow: (lifecycle, from, to, role). ``None`` = creation.
SPEC = [
    # 3.1 application
    ("application", None, "draft", Role.AGENCY_ADMIN),
    ("application", "draft", "submitted", Role.AGENCY_ADMIN),
    ("application", "submitted", "under_review", Role.APPLICATION_REVIEWER),
    ("application", "under_review", "deferred", Role.APPLICATION_REVIEWER),
    ("application", "deferred", "under_review", Role.AGENCY_ADMIN),
    ("application", "deferred", "lapsed", Role.SYSTEM),
    ("application", "under_review", "rejected", Role.APPLICATION_REVIEWER),
    ("application", "under_review", "accepted", Role.APPLICATION_REVIEWER),
    ("application", "draft", "withdrawn", Role.AGENCY_ADMIN),
    ("application", "submitted", "withdrawn", Role.AGENCY_ADMIN),
    # 3.2 certification case
    ("certification", None, "team_pending", Role.AGENCY_ADMIN),
    ("certification", "team_pending", "audit_planned", Role.PLANNER),
    ("certification", "audit_planned", "stage1", Role.LEAD_AUDITOR),
    ("certification", "stage1", "audit_planned", Role.LEAD_AUDITOR),
    ("certification", "stage1", "stage2", Role.LEAD_AUDITOR),
    ("certification", "stage2", "findings_issued", Role.LEAD_AUDITOR),
    ("certification", "findings_issued", "cap_submitted", Role.AGENCY_ADMIN),
    ("certification", "cap_submitted", "findings_issued", Role.LEAD_AUDITOR),
    ("certification", "cap_submitted", "recommended", Role.LEAD_AUDITOR),
    ("certification", "stage2", "recommended", Role.LEAD_AUDITOR),
    ("certification", "recommended", "decision_pending", Role.TECHNICAL_REVIEWER),
    ("certification", "decision_pending", "certified", Role.DECISION_MAKER),
    ("certification", "decision_pending", "refused", Role.DECISION_MAKER),
    ("certification", "findings_issued", "closed_not_certified", Role.SYSTEM),
    ("certification", "cap_submitted", "closed_not_certified", Role.SYSTEM),
    # follow-up audits (surveillance, recertification, special) reuse the case's machine
    ("certification", None, "team_pending", Role.PLANNER),
    ("certification", None, "team_pending", Role.SCHEME_ADMIN),
    ("certification", None, "team_pending", Role.SYSTEM),
    ("certification", "audit_planned", "stage2", Role.LEAD_AUDITOR),
    # 3.3 certificate
    ("certificate", None, "active", Role.DECISION_MAKER),
    ("certificate", "active", "suspended", Role.DECISION_MAKER),
    ("certificate", "suspended", "active", Role.DECISION_MAKER),
    ("certificate", "suspended", "withdrawn", Role.DECISION_MAKER),
    ("certificate", "suspended", "withdrawn", Role.SYSTEM),
    ("certificate", "active", "withdrawn", Role.DECISION_MAKER),
    ("certificate", "active", "expired", Role.SYSTEM),
    ("certificate", "active", "superseded", Role.DECISION_MAKER),
    *[
        ("certificate", s, "cancelled", Role.SCHEME_ADMIN)
        for s in ("active", "suspended", "withdrawn", "expired", "superseded")
    ],
    # 3.4 complaint
    ("complaint", None, "received", Role.PUBLIC),
    ("complaint", "received", "acknowledged", Role.SCHEME_ADMIN),
    ("complaint", "acknowledged", "triaged", Role.SCHEME_ADMIN),
    ("complaint", "acknowledged", "triaged", Role.PLANNER),  # the certifying audit company
    ("complaint", "triaged", "investigating", Role.SCHEME_ADMIN),
    ("complaint", "investigating", "substantiated", Role.SCHEME_ADMIN),
    ("complaint", "investigating", "not_substantiated", Role.SCHEME_ADMIN),
    ("complaint", "substantiated", "action_taken", Role.SCHEME_ADMIN),
    ("complaint", "action_taken", "closed", Role.SCHEME_ADMIN),
    ("complaint", "not_substantiated", "closed", Role.SCHEME_ADMIN),
    # 3.4 appeal
    ("appeal", None, "lodged", Role.AGENCY_ADMIN),
    ("appeal", "lodged", "panel_assigned", Role.SCHEME_ADMIN),
    ("appeal", "panel_assigned", "upheld", Role.SCHEME_ADMIN),
    ("appeal", "panel_assigned", "dismissed", Role.SCHEME_ADMIN),
    ("appeal", "upheld", "closed", Role.SCHEME_ADMIN),
    ("appeal", "dismissed", "closed", Role.SCHEME_ADMIN),
]


@pytest.mark.parametrize(("name", "source", "dest", "role"), SPEC)
def test_every_arrow_of_the_domain_is_in_a_table(name, source, dest, role):
    lc = LIFECYCLES[name]
    src = NEW if source is None else source
    rows = [t for t in lc.transitions if src in t.sources and t.dest == dest and role in t.roles]
    assert rows, f"{name}: {src} -> {dest} by {role} is missing"
    if role is Role.SYSTEM:
        assert all(r.timer for r in rows)


TIMERS = {
    ("application", "deferred", "lapsed"),
    ("certification", "findings_issued", "closed_not_certified"),
    ("certification", "cap_submitted", "closed_not_certified"),
    ("certificate", "active", "expired"),
    ("certificate", "suspended", "withdrawn"),
    # the certificate's schedule opens the surveillance or recertification audit when due
    ("certification", "new", "team_pending"),
}


def test_timer_rows_are_exactly_the_time_based_arrows():
    found = {
        (lc.name, s, t.dest)
        for lc in LIFECYCLES.values()
        for t in lc.transitions
        if t.timer
        for s in t.sources
    }
    assert found == TIMERS


@pytest.mark.parametrize("lc", LIFECYCLES.values(), ids=LIFECYCLES.keys())
def test_diagram_shows_every_row(lc):
    text = mermaid(lc)
    assert text.startswith("stateDiagram-v2\n")
    for row in lc.transitions:
        for s in row.sources:
            src = "[*]" if s == NEW else s
            assert f"{src} --> {row.dest}: {row.trigger} " in text


def test_reason_lists_come_from_the_domain():
    from workflows.certificate import SUSPENSION_REASONS

    assert set(SUSPENSION_REASONS) == {
        "unresolved_major_finding",
        "surveillance_refused_or_overdue",
        "substantiated_complaint",
        "misuse_of_mark",
        "voluntary",
    }
    assert LIFECYCLES["application"].rows("reject")[0].reason_codes


def test_every_reason_code_has_words():
    from workflows.lifecycles import REASON_LABELS

    codes = {c for lc in LIFECYCLES.values() for t in lc.transitions for c in t.reason_codes}
    assert codes <= set(REASON_LABELS)
