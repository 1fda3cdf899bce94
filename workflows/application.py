"""Application: screening of an agency's application by the scheme manager (DOMAIN.md §3.1)."""

from enum import StrEnum

from workflows.base import N_, NEW, Lifecycle, Transition
from workflows.roles import Role


class ApplicationState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    DEFERRED = "deferred"
    LAPSED = "lapsed"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"


S = ApplicationState
AGENCY = frozenset({Role.AGENCY_ADMIN})
REVIEWER = frozenset({Role.APPLICATION_REVIEWER})

#: The controlled list of rejection reasons (design).
REJECTION_REASONS: tuple[str, ...] = (
    "not_a_labour_recruiter",
    "no_valid_licence",
    "outside_scheme_scope",
    "false_or_misleading_information",
    "requested_items_not_provided",
    "other",
)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "create",
        (NEW,),
        S.DRAFT,
        AGENCY,
        guards=("agency_profile_exists",),
        label=N_("Start an application"),
    ),
    Transition(
        "submit",
        (S.DRAFT,),
        S.SUBMITTED,
        AGENCY,
        guards=(
            "profile_complete",
            "licence_valid",
            "scope_given",
            "declarations_signed",
            "questionnaire_complete",
        ),
        effects=("record_submission",),
        label=N_("Submit for review"),
        help=N_("The scheme manager reviews the application; it can no longer be edited."),
    ),
    Transition(
        "start_review",
        (S.SUBMITTED,),
        S.UNDER_REVIEW,
        REVIEWER,
        guards=("reviewer_independent",),
        effects=("set_review_target",),
        label=N_("Start the review"),
        help=N_("You become the reviewer; the review target is counted from now."),
    ),
    Transition(
        "defer",
        (S.UNDER_REVIEW,),
        S.DEFERRED,
        REVIEWER,
        guards=("reviewer_independent", "requested_items_listed"),
        effects=("set_deferral_due",),
        reason_required=True,
        fields=("requested_items",),
        label=N_("Defer: ask for more"),
        help=N_("The agency must answer every requested item before the due date."),
    ),
    Transition(
        "resubmit",
        (S.DEFERRED,),
        S.UNDER_REVIEW,
        AGENCY,
        guards=("requested_items_answered", "before_deferral_due"),
        effects=("record_resubmission",),
        label=N_("Send the requested items"),
    ),
    Transition(
        "lapse",
        (S.DEFERRED,),
        S.LAPSED,
        frozenset({Role.SYSTEM}),
        guards=("deferral_due_passed",),
        timer=True,
        irreversible=True,
        label=N_("Lapse (deferral deadline passed)"),
    ),
    Transition(
        "reject",
        (S.UNDER_REVIEW,),
        S.REJECTED,
        REVIEWER,
        guards=("reviewer_independent",),
        effects=("record_rejection",),
        reason_required=True,
        reason_codes=REJECTION_REASONS,
        irreversible=True,
        label=N_("Reject"),
        help=N_("The agency may appeal within the appeal window."),
    ),
    Transition(
        "accept",
        (S.UNDER_REVIEW,),
        S.ACCEPTED,
        REVIEWER,
        guards=("reviewer_independent", "eligibility_checklist_passed"),
        effects=("record_acceptance",),
        irreversible=True,
        label=N_("Accept"),
        help=N_(
            "The agency can then choose an approved audit company,"
            " which opens a certification case."
        ),
    ),
    Transition(
        "withdraw",
        (S.DRAFT, S.SUBMITTED),
        S.WITHDRAWN,
        AGENCY,
        irreversible=True,
        label=N_("Withdraw the application"),
    ),
)

LIFECYCLE = Lifecycle(
    name="application",
    title=N_("Application"),
    states=ApplicationState,
    transitions=TRANSITIONS,
    state_labels={
        S.DRAFT: N_("Draft"),
        S.SUBMITTED: N_("Submitted"),
        S.UNDER_REVIEW: N_("Under review"),
        S.DEFERRED: N_("Deferred"),
        S.LAPSED: N_("Lapsed"),
        S.REJECTED: N_("Rejected"),
        S.ACCEPTED: N_("Accepted"),
        S.WITHDRAWN: N_("Withdrawn"),
    },
)
