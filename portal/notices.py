"""Notifications about a customer's additions to a problem report.

A new report notifies the case's handlers through
``reconciliation.notices.problem_reported``. This module covers what a
customer adds to a report that is still open, so the people working the case
learn of new evidence without reopening its page.
"""

from django.urls import reverse

from accounts.models import Role, User
from notifications.models import Notification
from notifications.services import notify
from portal.models import ProblemReport
from reconciliation.models import Discrepancy


def case_handlers(case: Discrepancy) -> list[User]:
    """Return the active employees who work ``case``: its assignee, else its owner role.

    Customer accounts are left out even when a case would name one, because
    the notice links to the staff case page.
    """
    people = User.objects.filter(is_active=True).exclude(role=Role.CUSTOMER)
    if case.assignee_id is not None:
        return list(people.filter(pk=case.assignee_id))
    return list(people.filter(role=case.owner_role).order_by("pk"))


def evidence_added(
    report: ProblemReport,
    *,
    customer: User,
    added_files: int,
    added_description: bool,
    event_id: int,
) -> None:
    """Tell the handlers of the report's case what the customer added to it.

    ``event_id`` is the audit event of the addition, so each addition is one
    notification per person. A case in a practice sandbox sends no notification.
    """
    case = report.case
    if Discrepancy.objects.filter(
        pk=case.pk, company__practice_session__isnull=False
    ).exists():
        return
    added = []
    if added_files:
        added.append("1 file" if added_files == 1 else f"{added_files} files")
    if added_description:
        added.append("a description")
    notify(
        recipients=case_handlers(case),
        kind=Notification.Kind.PROBLEM_REPORTED,
        actor=customer,
        message=(
            f"{customer.display_name} added {' and '.join(added)} to the report "
            f"on order {report.order.number} ({report.get_kind_display()}): "
            f"case {case.pk}."
        ),
        url=reverse("reconciliation:case_detail", args=[case.pk]),
        subject_key=f"problem:{report.pk}:added:{event_id}",
    )
