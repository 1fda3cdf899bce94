"""Complaint: from anyone, anonymous allowed, about an agency, an audit company or the scheme
(DOMAIN.md §3.4). The complainant's identity is protected: it is never part of a record.

A complaint about a certified agency is proposed at receipt to the audit company that
certified it: the scheme manager or that company triages it. The investigator (someone with
no tie to the subject) may open a special short-notice audit, and a substantiated
complaint's action can suspend the certificate or raise a finding in that special audit,
through the same engine.
"""

from enum import StrEnum

from workflows.base import N_, NEW, Lifecycle, Transition
from workflows.roles import Role


class ComplaintState(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    SUBSTANTIATED = "substantiated"
    NOT_SUBSTANTIATED = "not_substantiated"
    ACTION_TAKEN = "action_taken"
    CLOSED = "closed"


class ComplaintAbout(StrEnum):
    AGENCY = "agency"
    AUDIT_COMPANY = "audit_company"
    SCHEME = "scheme"


S = ComplaintState
#: The scheme manager handles every complaint; an audit company one proposed or routed to it.
HANDLERS = frozenset(
    {Role.SCHEME_ADMIN, Role.APPLICATION_REVIEWER, Role.PLANNER, Role.DECISION_MAKER}
)

#: What may follow a substantiated complaint (DOMAIN.md §3.4).
ACTIONS: tuple[str, ...] = (
    "finding_raised",
    "certificate_suspended",
    "special_audit",
    "referral_to_labour_inspectorate",
    "other",
)

REASON_LABELS: dict[str, str] = {
    "finding_raised": N_("A finding was raised"),
    "certificate_suspended": N_("The certificate was suspended"),
    "special_audit": N_("A special short-notice audit was opened"),
    "referral_to_labour_inspectorate": N_("Referred to a labour inspectorate"),
    "other": N_("Other (explained below)"),
}

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "receive",
        (NEW,),
        S.RECEIVED,
        frozenset({Role.PUBLIC}),
        guards=("complaint_has_text",),
        effects=("set_acknowledgement_due", "propose_handler"),
        label=N_("File a complaint"),
    ),
    Transition(
        "acknowledge",
        (S.RECEIVED,),
        S.ACKNOWLEDGED,
        frozenset({Role.SCHEME_ADMIN, Role.APPLICATION_REVIEWER}),
        effects=("inform_complainant",),
        label=N_("Acknowledge receipt"),
        help=N_("Target: within the acknowledgement period after receipt."),
    ),
    Transition(
        "triage",
        (S.ACKNOWLEDGED,),
        S.TRIAGED,
        HANDLERS,
        guards=("subject_identified",),
        effects=("route_complaint",),
        reason_required=True,
        label=N_("Triage"),
        help=N_("Against an agency, an audit company or the scheme; say who handles it and why."),
    ),
    Transition(
        "investigate",
        (S.TRIAGED,),
        S.INVESTIGATING,
        HANDLERS,
        guards=("investigator_not_involved",),
        effects=("record_investigator",),
        label=N_("Start the investigation"),
        help=N_(
            "You become the investigator; you must have no tie with the subject of the complaint."
        ),
    ),
    Transition(
        "substantiate",
        (S.INVESTIGATING,),
        S.SUBSTANTIATED,
        HANDLERS,
        guards=("actor_is_investigator",),
        reason_required=True,
        label=N_("Substantiated"),
    ),
    Transition(
        "dismiss",
        (S.INVESTIGATING,),
        S.NOT_SUBSTANTIATED,
        HANDLERS,
        guards=("actor_is_investigator",),
        reason_required=True,
        label=N_("Not substantiated"),
    ),
    Transition(
        "take_action",
        (S.SUBSTANTIATED,),
        S.ACTION_TAKEN,
        HANDLERS,
        guards=("actor_is_investigator", "action_possible"),
        effects=("carry_out_action",),
        reason_required=True,
        reason_codes=ACTIONS,
        label=N_("Record the action taken"),
        help=N_(
            "Suspending the certificate takes a decision maker of the audit company that"
            " certified the agency; a finding is raised in the special audit opened from this"
            " complaint."
        ),
    ),
    Transition(
        "close",
        (S.ACTION_TAKEN, S.NOT_SUBSTANTIATED),
        S.CLOSED,
        HANDLERS,
        guards=("actor_is_investigator",),
        effects=("inform_complainant",),
        irreversible=True,
        label=N_("Close and inform the complainant"),
    ),
)

LIFECYCLE = Lifecycle(
    name="complaint",
    title=N_("Complaint"),
    states=ComplaintState,
    transitions=TRANSITIONS,
    state_labels={
        S.RECEIVED: N_("Received"),
        S.ACKNOWLEDGED: N_("Acknowledged"),
        S.TRIAGED: N_("Triaged"),
        S.INVESTIGATING: N_("Investigating"),
        S.SUBSTANTIATED: N_("Substantiated"),
        S.NOT_SUBSTANTIATED: N_("Not substantiated"),
        S.ACTION_TAKEN: N_("Action taken"),
        S.CLOSED: N_("Closed"),
    },
)
