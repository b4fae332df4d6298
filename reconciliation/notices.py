"""Notifications of the approval and customer-resolution steps of a case.

Each step that waits for another person tells that person: a requested
approval goes to the managers, a decided one to its requester, a resolution
offered to the customer goes to the customer's contacts, and the customer's
decision goes to the employee who proposed it, a problem a customer
reports goes to the people who handle its case, and a shortage the
warehouse reports goes to the sales rep who decides it. A replacement the
customer accepted is announced to the warehouse when its draft shipment
is made, and to the customer's contacts when it ships.
Each is one notification per person and event
(``notifications.services.notify``).
"""

from django.db.models import Q
from django.urls import reverse

from accounts.models import Role, User
from notifications.models import Notification
from notifications.services import notify
from portal.models import ProblemReport, ResolutionProposal
from reconciliation.models import Approval, Discrepancy, ResolutionCode, Shipment
from reconciliation.money import format_money

Kind = Notification.Kind


def _in_sandbox(case_id: int) -> bool:
    """Return whether the case belongs to a practice sandbox, which tells nobody."""
    return Discrepancy.objects.filter(
        pk=case_id, company__practice_session__isnull=False
    ).exists()


def approval_requested(approval: Approval, *, actor: User) -> None:
    """Tell every active manager that ``approval`` waits for a decision."""
    if _in_sandbox(approval.case_id):
        return
    managers = User.objects.filter(role=Role.MANAGER, is_active=True)
    minor_units = approval.currency.minor_units
    shown = format_money(approval.amount, minor_units=minor_units)
    amount = f"{shown} {approval.currency_id}"
    action = ResolutionCode(approval.action).label.lower()
    notify(
        recipients=managers,
        kind=Kind.APPROVAL_REQUESTED,
        actor=actor,
        message=(
            f"{actor.display_name} asks you to approve a {action} of {amount} "
            f"on case {approval.case_id}."
        ),
        url=reverse("reconciliation:work_approvals"),
        subject_key=f"approval:{approval.pk}:requested",
    )


def approval_decided(approval: Approval, *, approver: User) -> None:
    """Tell the requester how ``approval`` was decided."""
    if _in_sandbox(approval.case_id):
        return
    notify(
        recipients=[approval.requested_by],
        kind=Kind.APPROVAL_DECIDED,
        actor=approver,
        message=(
            f"{approver.display_name} {approval.get_decision_display().lower()} "
            f"your request on case {approval.case_id}. {_next_step(approval)}"
        ),
        url=reverse("reconciliation:case_detail", args=[approval.case_id]),
        subject_key=f"approval:{approval.pk}:decided",
    )


def _next_step(approval: Approval) -> str:
    """Say what the decision did to the case and what the requester does next."""
    approved = approval.decision == Approval.Decision.APPROVED
    if approval.action == ResolutionCode.WRITE_OFF:
        if approved:
            return (
                "The write-off is booked and the case is resolved: nothing is "
                "left to do."
            )
        return "Nothing was written off: resolve the case another way."
    if approved:
        return "The credit note is offered to the customer, who accepts or rejects it."
    return "The credit note is withdrawn: propose something else or resolve the case."


def resolution_offered(
    case: Discrepancy, proposal: ResolutionProposal, *, actor: User
) -> None:
    """Tell the customer's contacts that a resolution waits for their answer."""
    if case.order is None or _in_sandbox(case.pk):
        return
    contacts = User.objects.filter(customer=case.order.customer, is_active=True)
    notify(
        recipients=contacts,
        kind=Kind.RESOLUTION_OFFERED,
        actor=actor,
        message=(
            f"We propose a resolution for order {case.order.number}: "
            "accept or reject it."
        ),
        url=reverse("reconciliation:portal_case", args=[case.pk]),
        subject_key=f"proposal:{proposal.pk}:offered",
    )


def replacement_shipped(
    case: Discrepancy,
    proposal: ResolutionProposal,
    shipment: Shipment,
    *,
    actor: User,
) -> None:
    """Tell the customer's contacts that the replacement they accepted has shipped."""
    if case.order is None or _in_sandbox(case.pk):
        return
    tracking = f" with {shipment.carrier}" if shipment.carrier else ""
    if shipment.tracking_no:
        tracking += f", tracking number {shipment.tracking_no}"
    notify(
        recipients=User.objects.filter(customer=case.order.customer, is_active=True),
        kind=Kind.REPLACEMENT_SHIPPED,
        actor=actor,
        message=(
            f"Replacement shipment {shipment.number} for order "
            f"{case.order.number} has shipped{tracking}."
        ),
        url=reverse("reconciliation:portal_case", args=[case.pk]),
        subject_key=f"proposal:{proposal.pk}:shipped",
    )


def replacement_to_ship(case: Discrepancy, shipment: Shipment, *, actor: User) -> None:
    """Tell every active warehouse worker that an accepted replacement waits to ship."""
    if case.order is None or _in_sandbox(case.pk):
        return
    order = case.order
    notify(
        recipients=User.objects.filter(role=Role.WAREHOUSE, is_active=True),
        kind=Kind.REPLACEMENT_TO_SHIP,
        actor=actor,
        message=(
            f"The customer accepted a replacement for order {order.number}: "
            f"draft shipment {shipment.number} waits in pick and ship."
        ),
        url=reverse("reconciliation:work_fulfilment", args=[order.number]),
        subject_key=f"shipment:{shipment.pk}:to_ship",
    )


def offer_closed(proposal: ResolutionProposal) -> int:
    """Delete the customer's "accept or reject it" notices of a closed offer.

    Once a customer accepts or rejects an offer, or it is withdrawn, the
    notice still invites an action that is no longer possible, and a
    second offer on the same order would read as the same notice twice.
    Returns how many were deleted.
    """
    deleted, _ = Notification.objects.filter(
        kind=Kind.RESOLUTION_OFFERED,
        subject_key=f"proposal:{proposal.pk}:offered",
    ).delete()
    return deleted


def resolution_decided(proposal: ResolutionProposal, *, customer: User) -> None:
    """Tell the proposer what the customer decided, and close the customer's notice."""
    offer_closed(proposal)
    if _in_sandbox(proposal.case_id):
        return
    notify(
        recipients=[proposal.proposed_by],
        kind=Kind.RESOLUTION_DECIDED,
        actor=customer,
        message=(
            f"{customer.display_name} {proposal.get_state_display().lower()} the "
            f"resolution you proposed on case {proposal.case_id}."
        ),
        url=reverse("reconciliation:case_detail", args=[proposal.case_id]),
        subject_key=f"proposal:{proposal.pk}:decided",
    )


def resolution_outdated(proposal: ResolutionProposal, *, customer: User) -> None:
    """Tell the proposer that the customer's acceptance found the offer out of date."""
    offer_closed(proposal)
    if _in_sandbox(proposal.case_id):
        return
    notify(
        recipients=[proposal.proposed_by],
        kind=Kind.RESOLUTION_DECIDED,
        actor=customer,
        message=(
            f"{customer.display_name} accepted the credit note you proposed on "
            f"case {proposal.case_id}, but it no longer fits its invoice, so it "
            "was withdrawn and nothing was posted. Propose a new resolution."
        ),
        url=reverse("reconciliation:case_detail", args=[proposal.case_id]),
        subject_key=f"proposal:{proposal.pk}:outdated",
    )


def offer_withdrawn_for_report(
    proposal: ResolutionProposal, report: ProblemReport, *, customer: User
) -> None:
    """Tell the proposer and the order's sales rep to propose again.

    The customer's "more units" report withdrew the offer, because it no
    longer covered the case's quantity. The customer's notice that invites
    them to accept or reject it goes too.
    """
    offer_closed(proposal)
    if _in_sandbox(proposal.case_id):
        return
    people = Q(pk=proposal.proposed_by_id)
    if report.order.sales_rep_id is not None:
        people |= Q(pk=report.order.sales_rep_id)
    number = proposal.credit_note.number if proposal.credit_note else "the offer"
    notify(
        recipients=User.objects.filter(people, is_active=True),
        kind=Kind.DECISION_NEEDED,
        actor=customer,
        message=(
            f"{customer.display_name} reported more {report.kind} units on case "
            f"{proposal.case_id} while {number} waited for their answer, so it "
            "was withdrawn and nothing was posted. Propose again for the new "
            "quantity."
        ),
        url=reverse("reconciliation:case_detail", args=[proposal.case_id]),
        subject_key=f"proposal:{proposal.pk}:report_changed",
    )


def problem_reported(report: ProblemReport, *, customer: User) -> None:
    """Tell the case's handlers and the order's sales rep about a customer's report.

    The handlers are the case's assignee, or every active person in the
    case's owner role while the case has no assignee. ``notify`` skips the
    people who may not open the case.
    """
    case = report.case
    if _in_sandbox(case.pk):
        return
    people = User.objects.filter(is_active=True)
    if case.assignee_id is not None:
        handlers = Q(pk=case.assignee_id)
    else:
        handlers = Q(role=case.owner_role)
    if report.order.sales_rep_id is not None:
        handlers |= Q(pk=report.order.sales_rep_id)
    notify(
        recipients=people.filter(handlers),
        kind=Kind.PROBLEM_REPORTED,
        actor=customer,
        message=(
            f"{customer.display_name} reported a problem on order "
            f"{report.order.number} ({report.get_kind_display()}): case {case.pk}."
        ),
        url=reverse("reconciliation:case_detail", args=[case.pk]),
        subject_key=f"problem:{report.pk}",
    )


def decision_needed(case: Discrepancy, *, rep: User | None, actor: User) -> None:
    """Tell the sales rep that a reported shortage waits for their decision.

    ``rep`` is the order's sales rep. Without one, every active sales rep is
    notified. Only employees with the sales rep role get it, never a customer.
    """
    if case.order is None or _in_sandbox(case.pk):
        return
    reps = User.objects.filter(
        role=Role.SALES_REP, is_active=True, customer__isnull=True
    )
    if rep is not None:
        reps = reps.filter(pk=rep.pk)
    notify(
        recipients=reps,
        kind=Kind.DECISION_NEEDED,
        actor=actor,
        message=(
            f"{actor.display_name} reported a shortage on order "
            f"{case.order.number} (case {case.pk}): decide whether the rest "
            "ships later, is cancelled or is credited."
        ),
        url=reverse("reconciliation:work_sales", args=[case.pk]),
        subject_key=f"case:{case.pk}:decision",
    )
