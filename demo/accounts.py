"""The demo accounts, featured ones first, and the records to open in the demo."""

from dataclasses import dataclass

from accounts.models import Role, User
from reconciliation.models import (
    Discrepancy,
    DiscrepancyCode,
    SalesOrder,
    VendorBill,
)

# People listed under their role besides its first account and its
# super-users, with what to try as them.
FEATURED_PEOPLE: dict[str, str] = {
    "amir": "accounts payable: purchase orders and vendor bills",
}


@dataclass(frozen=True)
class DemoAccount:
    role_label: str
    username: str
    name: str
    note: str = ""
    is_customer: bool = False


def featured_short_payment_order() -> SalesOrder | None:
    """Return the first order, by number, whose customer paid short."""
    return (
        SalesOrder.objects.filter(
            discrepancies__code=DiscrepancyCode.SHORT_PAYMENT,
            discrepancies__state=Discrepancy.State.OPEN,
        )
        .select_related("sales_rep", "customer")
        .order_by("number")
        .first()
    )


def featured_price_variance_bill() -> VendorBill | None:
    """Return the first vendor bill, by number, priced above its purchase order."""
    return (
        VendorBill.objects.filter(
            pk__in=Discrepancy.objects.filter(
                code=DiscrepancyCode.BILL_PRICE_VARIANCE,
                state=Discrepancy.State.OPEN,
            ).values("vendor_bill_id")
        )
        .order_by("number")
        .first()
    )


def list_demo_accounts() -> list[DemoAccount]:
    order = featured_short_payment_order()
    preferred: dict[str, User | None] = {
        # The payments super-user answers the question the demo story asks.
        Role.FINANCE_CLERK: User.objects.filter(
            role=Role.FINANCE_CLERK,
            super_user_assignments__crm_function__slug="payments",
        )
        .order_by("pk")
        .first(),
    }
    if order is not None:
        preferred[Role.SALES_REP] = order.sales_rep
        preferred[Role.CUSTOMER] = order.customer.contacts.order_by("pk").first()

    accounts = []
    for role, label in Role.choices:
        person = preferred.get(role) or (
            User.objects.filter(role=role, is_active=True).order_by("pk").first()
        )
        if person is None:
            continue
        # The role's other super-users are listed too, because the README
        # sends people to them (fiona, super-user for invoicing).
        others = (
            User.objects.filter(
                role=role, is_active=True, super_user_assignments__isnull=False
            )
            .exclude(pk=person.pk)
            .distinct()
            .order_by("pk")
        )
        featured = (
            User.objects.filter(
                role=role, is_active=True, username__in=list(FEATURED_PEOPLE)
            )
            .exclude(pk__in=[person.pk, *(other.pk for other in others)])
            .order_by("pk")
        )
        for shown in [person, *others, *featured]:
            accounts.append(_account(str(label), shown))
    return accounts


def _account(label: str, person: User) -> DemoAccount:
    functions = ", ".join(
        assignment.crm_function.name
        for assignment in person.super_user_assignments.select_related("crm_function")
    )
    note = f"super-user for {functions}" if functions else ""
    note = FEATURED_PEOPLE.get(person.username, note)
    if person.is_external and person.customer is not None:
        note = f"contact at {person.customer.name}"
    return DemoAccount(
        label, person.username, person.display_name, note, person.is_external
    )


def list_other_demo_accounts(featured: list[DemoAccount]) -> list[DemoAccount]:
    """Return every active account that ``featured`` leaves out, staff first.

    Staff come in the order of their roles, then by pk. Customer contacts
    come by username, which is their Northwind customer id in lower case.
    Scripted accounts (practice stand-ins) cannot be used to sign in, so
    they are left out.
    """
    listed = {account.username for account in featured}
    labels = dict(Role.choices)
    role_order = {role: index for index, role in enumerate(labels)}
    people = (
        User.objects.filter(is_active=True, is_scripted=False)
        .exclude(username__in=listed)
        .select_related("customer")
    )
    staff = sorted(
        (person for person in people if not person.is_external),
        key=lambda person: (role_order.get(person.role, len(role_order)), person.pk),
    )
    customers = sorted(
        (person for person in people if person.is_external),
        key=lambda person: person.username,
    )
    return [
        _account(str(labels.get(person.role, person.role)), person)
        for person in [*staff, *customers]
    ]
