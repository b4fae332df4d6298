"""Reads of orders and their documents; the one visibility rule for each.

Employees see every order of their company. A customer account sees only the
orders of its own customer company (and of that company's child contacts).
Invoices follow the same split (``visible_invoices``). Payments are seen by
the finance roles, by employees on the orders they are applied to, and by a
customer when they are its own (``visible_payments``).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import (
    Avg,
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import Role, User
from accounts.permissions import Viewer
from reconciliation.models import (
    ACTIVE_CASE_STATES,
    Allocation,
    Approval,
    CaseComment,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    MatchGroup,
    Payment,
    SalesOrder,
    Shipment,
)
from reconciliation.money import format_number

# Which open discrepancy decides an order screen's help context, first wins:
# money at stake before paperwork, paperwork before logistics.
CONTEXT_PRIORITY: dict[str, int] = {
    code: rank
    for rank, code in enumerate(
        [
            DiscrepancyCode.DUPLICATE_INVOICE,
            DiscrepancyCode.SHORT_PAYMENT,
            DiscrepancyCode.MISSING_PAYMENT,
            DiscrepancyCode.OVER_PAYMENT,
            DiscrepancyCode.PRICE_MISMATCH,
            DiscrepancyCode.INVOICE_QTY_MISMATCH,
            DiscrepancyCode.SHORT_SHIP,
            DiscrepancyCode.NOT_SHIPPED,
            DiscrepancyCode.OVER_SHIP,
            DiscrepancyCode.UNINVOICED_DELIVERY,
            DiscrepancyCode.LATE_SHIP,
        ]
    )
}


def visible_orders(viewer: Viewer) -> QuerySet[SalesOrder]:
    if not isinstance(viewer, User):
        return SalesOrder.objects.none()
    # Practice sandboxes (practice app) live in their own companies; no real
    # screen shows them, not even to the learner.
    orders = SalesOrder.objects.exclude(company__practice_session__isnull=False)
    if viewer.is_external:
        return orders.filter(
            Q(customer_id=viewer.customer_id)
            | Q(customer__parent_id=viewer.customer_id)
        )
    return orders


# The roles that work with payments as such: the clerk applies them on the
# cash screen, and the manager approves their write-offs and reads every case.
FINANCE_ROLES = frozenset({Role.FINANCE_CLERK, Role.MANAGER})


def visible_payments(viewer: Viewer) -> QuerySet[Payment]:
    """Return the payments ``viewer`` may see; the one rule for a payment.

    The finance roles see every real payment. Any other employee sees a
    payment applied to an order they may open, since the order's page lists
    the payments on its invoices. A customer account sees its company's own
    payments, which its statement of account lists. Every surface that shows
    or names a payment goes through this rule (docs/reconciliation.md).
    """
    if not isinstance(viewer, User) or not viewer.is_active:
        return Payment.objects.none()
    real = Payment.objects.exclude(company__practice_session__isnull=False)
    if viewer.is_external:
        # Imported here because the portal's selectors import this module.
        from portal.selectors import customer_party_filter

        return real.filter(customer_party_filter(viewer, "party"))
    if viewer.role in FINANCE_ROLES:
        return real
    return real.filter(
        pk__in=Allocation.objects.filter(
            invoice__order__in=visible_orders(viewer).values("pk")
        ).values("payment_id")
    )


def visible_invoices(viewer: Viewer) -> QuerySet[Invoice]:
    """Return the invoices ``viewer`` may see.

    Employees see every real invoice, as they see every real order and the
    invoices on its page. A customer account may read the posted invoices of its
    company, which is the portal's rule (``portal.selectors.customer_invoices``).
    """
    if not isinstance(viewer, User) or not viewer.is_active:
        return Invoice.objects.none()
    if viewer.is_external:
        # Imported here because the portal's selectors import this module.
        from portal.selectors import customer_invoices

        return customer_invoices(viewer)
    return Invoice.objects.exclude(company__practice_session__isnull=False)


@dataclass(frozen=True)
class OrderFilters:
    recon_status: str = ""
    delivery_status: str = ""
    payment_status: str = ""
    code: str = ""
    search: str = ""


def list_orders(viewer: Viewer, filters: OrderFilters) -> QuerySet[SalesOrder]:
    orders = visible_orders(viewer).select_related("customer", "sales_rep", "currency")
    if filters.recon_status:
        orders = orders.filter(recon_status=filters.recon_status)
    if filters.delivery_status:
        orders = orders.filter(delivery_status=filters.delivery_status)
    if filters.payment_status:
        orders = orders.filter(payment_status=filters.payment_status)
    if filters.code:
        orders = orders.filter(
            pk__in=Discrepancy.objects.filter(
                code=filters.code, state__in=ACTIVE_CASE_STATES
            ).values("order_id")
        )
    if filters.search:
        term = filters.search.strip()
        orders = orders.filter(
            Q(number__icontains=term)
            | Q(customer__name__icontains=term)
            | Q(customer__code__iexact=term)
        )
    # A correlated subquery, not a join with GROUP BY, so the database counts
    # only for the orders on the page.
    open_count = (
        Discrepancy.objects.filter(order=OuterRef("pk"), state__in=ACTIVE_CASE_STATES)
        .order_by()
        .values("order")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return orders.annotate(
        open_discrepancies=Coalesce(Subquery(open_count), 0)
    ).order_by("-order_date", "-number")


def access_order(viewer: Viewer, number: str) -> SalesOrder:
    """Return the order with everything its page shows, or raise 404."""
    order = (
        visible_orders(viewer)
        .select_related("customer", "sales_rep", "currency")
        .prefetch_related(
            "lines__product",
            Prefetch("shipments", queryset=Shipment.objects.prefetch_related("lines")),
            Prefetch(
                "invoices",
                queryset=Invoice.objects.prefetch_related(
                    Prefetch(
                        "allocations",
                        queryset=Allocation.objects.filter(
                            payment__in=visible_payments(viewer)
                        ).select_related("payment"),
                    )
                ),
            ),
            Prefetch(
                "discrepancies",
                queryset=Discrepancy.objects.filter(
                    state__in=ACTIVE_CASE_STATES
                ).select_related("order_line", "invoice"),
                to_attr="open_discrepancies",
            ),
        )
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404("No order found with that number.")
    return order


@dataclass(frozen=True)
class MatchExplanation:
    """One row of an order's "Why" section: a match, or one line of a match.

    A match of control point A or C covers every line of its order, so it is
    explained line by line. Each row has the line's outcome, residual and
    tolerance profile. Other matches are one row each, and so are per-line
    matches stored before A and C kept one match per order.
    """

    group: MatchGroup
    label: str
    outcome: str
    rule_version: str
    facts: list[tuple[str, str]]
    residual: Decimal
    unit: str


# Keys of compared values that are quantities, stored with four decimals.
# The page shows them without trailing zeros: "ordered: 70", not "70.0000".
QUANTITY_FACTS = frozenset(
    {"ordered", "shipped", "received", "damaged", "picked", "qty", "rejected"}
)


def _fact_text(value: object, key: str = "") -> str:
    if isinstance(value, dict):
        return ", ".join(
            f"{name} {_fact_text(item, name)}" for name, item in value.items()
        )
    if isinstance(value, list):
        return "; ".join(_fact_text(item, key) for item in value)
    if value in (None, ""):
        return "—"
    if key in QUANTITY_FACTS and isinstance(value, str):
        try:
            return format_number(Decimal(value))
        except InvalidOperation:
            return value
    return str(value)


def _facts(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (key.replace("_", " "), _fact_text(item, key)) for key, item in values.items()
    ]


# Keys of a line of an order's match that have their own column on the page.
LINE_COLUMNS = frozenset({"line", "residual", "unit", "outcome", "tolerance"})


def _explain_group(group: MatchGroup) -> list[MatchExplanation]:
    compared = group.compared if isinstance(group.compared, dict) else {}
    lines = compared.get("lines")
    if not isinstance(lines, list):
        if group.order_line is not None:
            label = f"line {group.order_line.line_no}"
        elif group.invoice is not None:
            label = group.invoice.number
        else:
            label = ""
        return [
            MatchExplanation(
                group=group,
                label=label,
                outcome=group.get_outcome_display(),
                rule_version=group.rule_version,
                facts=_facts(compared),
                residual=group.residual,
                unit=group.unit,
            )
        ]

    tolerances = compared.get("tolerances", {})
    rows = []
    for item in lines:
        version = item.get("tolerance", "")
        tolerance = dict(tolerances.get(version, {}))
        facts = {key: value for key, value in item.items() if key not in LINE_COLUMNS}
        facts["tolerance"] = tolerance.pop("name", version)
        facts.update(tolerance)
        rows.append(
            MatchExplanation(
                group=group,
                label=f"line {item.get('line', '?')}",
                outcome=MatchGroup.Outcome(item["outcome"]).label,
                rule_version=version,
                facts=_facts(facts),
                residual=Decimal(item.get("residual", "0")),
                unit=item.get("unit", ""),
            )
        )
    return rows


def explain_matches(order: SalesOrder) -> list[MatchExplanation]:
    """Return the order's current matches, by control point, with their inputs.

    Reversed matches are left out; their reversal is in the audit trail.
    """
    groups = (
        MatchGroup.objects.filter(order=order)
        .exclude(state=MatchGroup.State.REVERSED)
        .select_related("order_line", "invoice")
        .order_by("kind", "pk")
    )
    return [row for group in groups for row in _explain_group(group)]


def open_discrepancies(order: SalesOrder) -> list[Discrepancy]:
    """Return the open discrepancies that ``access_order`` prefetched."""
    prefetched: list[Discrepancy] = order.open_discrepancies  # type: ignore[attr-defined]
    return prefetched


def leading_discrepancy(discrepancies: list[Discrepancy]) -> Discrepancy | None:
    """Return the open discrepancy that best describes the order's state."""
    if not discrepancies:
        return None
    return min(discrepancies, key=lambda item: CONTEXT_PRIORITY.get(item.code, 99))


# Discrepancy cases. Customers never see a case, its comments or approvals.


def visible_cases(viewer: Viewer) -> QuerySet[Discrepancy]:
    """Return the cases ``viewer`` may open.

    Managers see every case. Other employees see the cases whose owner role is
    their role and the cases assigned to them; a sales rep also sees the cases
    on the orders they took.
    """
    if not isinstance(viewer, User) or viewer.is_external or not viewer.is_active:
        return Discrepancy.objects.none()
    # As for orders: a practice sandbox's cases stay on the practice pages.
    real = Discrepancy.objects.exclude(company__practice_session__isnull=False)
    if viewer.role == Role.MANAGER:
        return real

    rule = Q(owner_role=viewer.role) | Q(assignee=viewer)
    if viewer.role == Role.SALES_REP:
        rule |= Q(order__sales_rep=viewer)
    return real.filter(rule)


@dataclass(frozen=True)
class CaseFilters:
    code: str = ""
    severity: str = ""
    # An empty state lists the cases still being worked.
    state: str = ""
    overdue: bool = False
    mine: bool = False


def list_cases(
    viewer: Viewer, filters: CaseFilters, *, now: datetime
) -> QuerySet[Discrepancy]:
    """Return the inbox of ``viewer``: earliest due first, no due time last."""
    cases = visible_cases(viewer).select_related(
        "order", "order__customer", "assignee", "payment", "vendor_bill"
    )
    if filters.state:
        cases = cases.filter(state=filters.state)
    else:
        cases = cases.filter(state__in=ACTIVE_CASE_STATES)
    if filters.code:
        cases = cases.filter(code=filters.code)
    if filters.severity:
        cases = cases.filter(severity=filters.severity)
    if filters.overdue:
        cases = cases.filter(due_at__lt=now, state__in=ACTIVE_CASE_STATES)
    if filters.mine and isinstance(viewer, User):
        cases = cases.filter(assignee=viewer)
    return cases.order_by(F("due_at").asc(nulls_last=True), "pk")


def access_case(viewer: Viewer, case_id: int) -> Discrepancy:
    """Return the case with its thread and approvals, or raise 404."""
    case = (
        visible_cases(viewer)
        .select_related(
            "order",
            "order__customer",
            "order__sales_rep",
            "order_line",
            "invoice",
            "shipment",
            "payment",
            "vendor_bill",
            "purchase_order",
            "assignee",
            "resolved_by",
        )
        .prefetch_related(
            Prefetch("comments", queryset=CaseComment.objects.order_by("pk")),
            Prefetch(
                "approvals",
                queryset=Approval.objects.select_related("requested_by", "approver"),
            ),
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404("No case found with that number.")
    return case


def list_assignable_people(case: Discrepancy) -> QuerySet[User]:
    """Return the people who may hold ``case`` (``cases.may_be_assigned``).

    They are the case's owner role, the managers, and the sales rep of the
    case's order when that rep decides the case.
    """
    from reconciliation.cases import SALES_DECIDED_CODES

    allowed = Q(role__in=[case.owner_role, Role.MANAGER])
    order = case.order
    if case.code in SALES_DECIDED_CODES and order and order.sales_rep_id:
        allowed |= Q(pk=order.sales_rep_id, role=Role.SALES_REP)
    return (
        User.objects.listed()
        .filter(allowed, is_active=True)
        .order_by("first_name", "last_name", "username")
    )


# Groups with fewer people than this are left out of the productivity measures,
# because a group of one or two would show those people's own figures.
MIN_GROUP_SIZE = 3


@dataclass(frozen=True)
class GroupCaseMeasures:
    group: str
    people: int
    cases_resolved: int
    mean_resolution_hours: float
    reopens: int

    @property
    def reopen_rate(self) -> float:
        return self.reopens / self.cases_resolved if self.cases_resolved else 0.0


def case_measures_by_group() -> list[GroupCaseMeasures]:
    """Aggregate detection-to-resolution time and reopens per learner group.

    Counts the cases a person resolved (resolved or closed now), by the
    resolver's learner group. Cases the matching pass resolved have no
    resolver and are left out. Only group totals are returned.
    """
    rows = (
        Discrepancy.objects.filter(
            state__in=[Discrepancy.State.RESOLVED, Discrepancy.State.CLOSED],
            resolved_by__learner_group__isnull=False,
            resolution_seconds__isnull=False,
        )
        .values("resolved_by__learner_group__name")
        .annotate(
            people=Count("resolved_by", distinct=True),
            cases=Count("pk"),
            mean_seconds=Avg("resolution_seconds"),
            reopens=Sum("reopen_count"),
        )
        .filter(people__gte=MIN_GROUP_SIZE)
        .order_by("resolved_by__learner_group__name")
    )
    return [
        GroupCaseMeasures(
            group=row["resolved_by__learner_group__name"],
            people=row["people"],
            cases_resolved=row["cases"],
            mean_resolution_hours=round(float(row["mean_seconds"]) / 3600, 2),
            reopens=row["reopens"] or 0,
        )
        for row in rows
    ]
