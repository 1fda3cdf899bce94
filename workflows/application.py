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

REASON_LABELS: dict[str, str] = {
    "not_a_labour_recruiter": N_("Not a labour recruiter placing workers across borders"),
    "no_valid_licence": N_("No valid licence for recruitment"),
    "outside_scheme_scope": N_("Corridors or services outside the scheme's scope"),
    "false_or_misleading_information": N_("False or misleading information"),
    "requested_items_not_provided": N_("Requested items not provided"),
    "other": N_("Other (explained below)"),
}

#: What the reviewer confirms before accepting (design).
ELIGIBILITY_CHECKLIST: tuple[tuple[str, str], ...] = (
    ("labour_recruiter", N_("The applicant is a labour recruiter placing workers across borders")),
    ("licence_verified", N_("Its licence was checked against the issuing register")),
    ("scope_in_scheme", N_("The corridors and services are within the scheme's scope")),
    ("no_exclusion", N_("No sanction or proceeding excludes it from the scheme")),
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
        # profile_complete covers the licence (valid, not expired, file uploaded) and the
        # scope (corridors, services, sites); questionnaire_complete covers the answers,
        # the evidence and the signed declaration (DOMAIN.md §6, M05)
        guards=("profile_complete", "questionnaire_complete"),
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
        fields=("eligibility_checklist",),
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
