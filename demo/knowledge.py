"""The demo company's people beyond Northwind's staff, and its starting knowledge.

Northwind supplies sales representatives, managers and customer contacts; the
other roles (finance, warehouse, learning, HR, IT, executive, moderation) are
added here, with one community per CRM function and per learner group, a few
FAQ entries and documents for each function, and named super-users.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import CrmFunction, LearnerGroup, Role, SuperUserAssignment, User
from answers.models import FaqEntry
from assist.models import HelpContext
from communities.models import Community, Membership
from core.markdown import render_markdown
from demo.people import create_demo_person
from library.models import Document


@dataclass(frozen=True)
class StaffSeed:
    username: str
    first_name: str
    last_name: str
    role: Role
    group: str
    title: str


EXTRA_STAFF: tuple[StaffSeed, ...] = (
    StaffSeed(
        "fiona",
        "Fiona",
        "Clarke",
        Role.FINANCE_CLERK,
        "operations",
        "Accounts receivable clerk",
    ),
    StaffSeed(
        "paula",
        "Paula",
        "Reyes",
        Role.FINANCE_CLERK,
        "operations",
        "Cash application lead",
    ),
    # The accounts payable clerk and buyer of the three-way match. The
    # project has no separate payables role, and the purchase screens are
    # for finance clerks, warehouse workers and managers.
    StaffSeed(
        "amir",
        "Amir",
        "Rahman",
        Role.FINANCE_CLERK,
        "operations",
        "Accounts payable clerk and buyer",
    ),
    StaffSeed("walter", "Walter", "Ng", Role.WAREHOUSE, "warehouse", "Warehouse lead"),
    StaffSeed("sam", "Sam", "Okafor", Role.WAREHOUSE, "warehouse", "Picker"),
    StaffSeed(
        "lena",
        "Lena",
        "Fischer",
        Role.FACILITATOR,
        "customer_service",
        "Learning facilitator",
    ),
    StaffSeed("hana", "Hana", "Sato", Role.HR, "operations", "HR business partner"),
    StaffSeed("ivan", "Ivan", "Petrov", Role.IT, "operations", "CRM administrator"),
    StaffSeed(
        "erin", "Erin", "Walsh", Role.EXECUTIVE, "sales", "Chief operating officer"
    ),
    StaffSeed(
        "mona",
        "Mona",
        "Haddad",
        Role.MODERATOR,
        "customer_service",
        "Community moderator",
    ),
)

# CRM function slug -> usernames named super-user for it.
SUPER_USERS: dict[str, tuple[str, ...]] = {
    "order_entry": ("janet",),
    "fulfilment": ("walter",),
    "invoicing": ("fiona",),
    "payments": ("paula",),
    "disputes": ("margaret",),
}

FUNCTION_COMMUNITIES: dict[str, tuple[str, str]] = {
    "order_entry": (
        "Order entry",
        "Entering and changing sales orders, prices and promised dates.",
    ),
    "fulfilment": (
        "Fulfilment",
        "Picking, shipping, backorders and proof of delivery.",
    ),
    "invoicing": (
        "Invoicing",
        "Invoices, credit notes and what to do when they do not match the order.",
    ),
    "payments": (
        "Payments",
        "Applying cash, short and missing payments, and write-offs.",
    ),
    "disputes": ("Disputes", "Customer disputes from first report to resolution."),
}

# The CRM functions each employee role works in. Its people are members of
# those functions' communities, so a screen question left unanswered in
# time reaches them (``assist.services.escalate_unanswered_questions``). Managers
# approve credit notes and write-offs. Other roles work in no function.
# Customers stay out of these communities: they are for employees only.
ROLE_FUNCTIONS: dict[Role, tuple[str, ...]] = {
    Role.SALES_REP: ("order_entry", "disputes"),
    Role.FINANCE_CLERK: ("invoicing", "payments"),
    Role.WAREHOUSE: ("fulfilment",),
    Role.MANAGER: ("disputes", "payments"),
}

# People who work in other functions than their role's. The accounts payable
# clerk handles vendor bills, whose screens belong to invoicing, and no
# customer payments.
PERSON_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "amir": ("invoicing",),
}

FUNCTION_COMMUNITIES_SLUGS = tuple(
    slug.replace("_", "-") for slug in FUNCTION_COMMUNITIES
)

GROUP_COMMUNITIES: dict[str, tuple[str, str, str]] = {
    "sales": (
        "Sales team",
        "Sales representatives sharing what works with customers.",
        Community.Visibility.OPEN,
    ),
    "operations": (
        "Operations and finance",
        "Clerks in billing and cash application.",
        Community.Visibility.OPEN,
    ),
    "warehouse": (
        "Warehouse floor",
        "Pickers, packers and shippers.",
        Community.Visibility.OPEN,
    ),
    "customer_service": (
        "Customer service",
        "Everyone who talks to customers about their orders.",
        Community.Visibility.OPEN,
    ),
    "customers": (
        "Customer corner",
        "Customers and Company X staff: orders, deliveries and invoices.",
        Community.Visibility.CUSTOMER,
    ),
}


@dataclass(frozen=True)
class FaqSeed:
    function: str
    contexts: tuple[str, ...]
    question: str
    answer: str
    customer_visible: bool = False


FAQ_SEEDS: tuple[FaqSeed, ...] = (
    FaqSeed(
        "order_entry",
        ("reconciliation.order",),
        "Which columns on the order lines should I check first?",
        "Read each line left to right: **ordered**, then **shipped**, then "
        "**invoiced**, then **paid**. The first column that falls short of the "
        "one before it is where the problem started, and the discrepancy list "
        "under the lines names its type and who owns it.",
    ),
    FaqSeed(
        "order_entry",
        ("reconciliation.orders",),
        "How do I find the orders that need my attention?",
        "Filter the order list by *Reconciliation: Exception*, then narrow it by "
        "discrepancy type. The count in brackets is the number of open "
        "discrepancies on that order.",
    ),
    FaqSeed(
        "fulfilment",
        ("reconciliation.order.not_shipped", "reconciliation.order.short_ship"),
        "An order line shows less shipped than ordered. What now?",
        "Check the shipment for a backorder first. With no backorder, ask the "
        "warehouse lead whether stock is coming; the sales representative then "
        "decides with the customer to wait, substitute or cancel the rest.",
    ),
    FaqSeed(
        "fulfilment",
        ("reconciliation.order.late_ship",),
        "The order shipped after the promised date. Do I need to do anything?",
        "Tell the customer, and note the reason (stock, capacity or carrier) on "
        "the order. A late shipment is a credit only when the contract says so.",
    ),
    FaqSeed(
        "fulfilment",
        ("reconciliation.order.damaged", "reconciliation.order.not_received"),
        "The customer reported damaged goods. Replacement or credit note?",
        "Ask the customer what they need. If they want the goods, offer a "
        "**replacement shipment** of the reported units on the sales decision "
        "screen: once they accept, the warehouse ships it from Pick and ship, "
        "it is not invoiced again, and the case resolves when it leaves. If "
        "they would rather pay less, offer a **credit note** for the units. "
        "Damaged goods the customer reported are no bad debt, so do not write "
        "them off. When the damaged units come back later, the replacement "
        "has settled them and no credit note is due for them.",
    ),
    FaqSeed(
        "invoicing",
        ("reconciliation.order.price_mismatch",),
        "The invoice price differs from the order price. Who fixes it?",
        "The sales representative confirms which price is right. If the invoice "
        "is too high, billing issues a credit note for the difference; if it is "
        "too low, a debit note. Fix the price list too, or it happens again.",
    ),
    FaqSeed(
        "invoicing",
        ("reconciliation.order.duplicate_invoice",),
        "The same invoice was entered twice. How do I cancel the copy?",
        "Keep the invoice the customer received first and cancel the later one "
        "with the reason *duplicate*. Check that no payment was applied to the "
        "copy before cancelling it.",
    ),
    FaqSeed(
        "payments",
        ("reconciliation.order.missing_payment",),
        "The invoice is overdue and nothing was paid. What is the first step?",
        "Check for an unapplied payment from the customer first: remittances "
        "often quote the order number instead of the invoice number. If there "
        "is none, send the first reminder and tell the sales representative.",
    ),
    FaqSeed(
        "payments",
        ("reconciliation.order", "reconciliation.order.short_payment"),
        "Why does an invoice paid one cent short close by itself?",
        "Differences up to the payment tolerance (0.01 by default) are written "
        "off automatically, with the write-off recorded on the payment. Larger "
        "differences open a short-payment case.",
    ),
    FaqSeed(
        "invoicing",
        ("reconciliation.work.purchasing.bill",),
        "What does the three-way match of a vendor bill compare?",
        "Each bill line is compared with its purchase order line for the "
        "price, and with the goods receipts for the quantity. A line is "
        "released to pay when its price matches the order and the billed "
        "quantity is no more than was received and accepted. A bill for goods "
        "that have not arrived is *on hold*. Anything else is an *exception*: "
        "do not pay the bill until its cases are resolved.",
    ),
    FaqSeed(
        "invoicing",
        ("reconciliation.order.bill_price_variance",),
        "The vendor bill charges more than the purchase order. What do I do?",
        "Ask the buyer whether a new price was agreed with the vendor. If not, "
        "ask the vendor for a credit note for the difference and leave the "
        "bill unpaid until it comes. If the new price was agreed, a manager "
        "releases the bill with an override and the reason.",
    ),
    FaqSeed(
        "invoicing",
        ("reconciliation.order.bill_before_receipt",),
        "A bill arrived before the goods. Do we pay it?",
        "Not yet. The bill is on hold until the warehouse records the goods "
        "receipt. Once the receipt covers the billed quantity, the bill is "
        "released to pay with nothing more to do.",
    ),
    FaqSeed(
        "invoicing",
        (
            "reconciliation.order.receipt_short",
            "reconciliation.order.bill_qty_over_received",
        ),
        "We received fewer goods than we ordered or were billed for. What now?",
        "The warehouse checks the count first, and records goods that arrive "
        "later as a second receipt. If the rest will not come, the buyer asks "
        "the vendor for a credit note for the missing quantity. A bill for "
        "more than was received stays an exception until then.",
    ),
    FaqSeed(
        "invoicing",
        ("reconciliation.order.duplicate_invoice",),
        "A vendor bill repeats another bill's supplier reference. Is it a copy?",
        "Compare the lines and amounts of the two bills. If it is the same bill "
        "entered twice, leave the later one unpaid and tell whoever entered "
        "it. If the vendor reuses its invoice numbers (some restart them every "
        "year), a finance clerk or manager keeps the bill with a reason on the "
        "bill page.",
    ),
    FaqSeed(
        "fulfilment",
        ("reconciliation.work.purchasing.receipt",),
        "How do I record goods that arrived damaged?",
        "Enter the quantity that arrived and, on the same line, the quantity "
        "you reject with the reason (damaged, wrong item). Rejected goods do "
        "not count as received, and the buyer uses your reason for the claim "
        "to the vendor.",
    ),
    FaqSeed(
        "fulfilment",
        ("reconciliation.work.fulfilment",),
        "What is the difference between Ship and Save picked only?",
        "**Ship** records what left the warehouse today: the *Shipped now* "
        "quantities become a shipment with its carrier and tracking number. "
        "**Save picked only** keeps the *Picked* quantities on a draft "
        "shipment and ships nothing. Choose that draft later and press "
        "*Ship* when its goods leave, or discard it. Leave *Picked* empty "
        "when you pick what ships, and the shipped quantity counts as picked.",
    ),
    FaqSeed(
        "fulfilment",
        ("reconciliation.work.fulfilment",),
        "The shelf has fewer units than the order line needs. What do I do?",
        "Ship what you have, then use *Report a shortage* with the line's "
        "whole shortage and the reason. The report opens a case, and the "
        "sales representative decides with the customer whether the rest "
        "ships on a backorder or is cancelled. Reporting the same quantity "
        "again changes nothing, and a larger one raises the case to the new "
        "total.",
    ),
    FaqSeed(
        "payments",
        ("reconciliation.work.cash",),
        "How do I apply a payment to its invoices?",
        "Pick the payment in *Unallocated payments*: the right panel lists "
        "its customer's open invoices in the payment's currency. Enter the "
        "amount for each invoice the payment covers and press *Allocate*. "
        "What you do not allocate stays on the payment as *Left*, for a "
        "later invoice or a refund.",
    ),
    FaqSeed(
        "payments",
        ("reconciliation.work.cash",),
        "A payment came from an unknown payer. What now?",
        "It waits under *Payments from an unknown payer*, because its bank "
        "line named no customer that the import could find. Look for an "
        "invoice or order number in its reference, choose that customer and "
        "press *Assign customer*, then allocate it as usual. If nothing in "
        "it names the payer, ask in the Payments community before you guess.",
    ),
    FaqSeed(
        "payments",
        ("reconciliation.work.approvals",),
        "Why does a write-off or credit note wait for my approval?",
        "A write-off above the write-off limit, and a credit note above the "
        "sales representative's credit limit, need a manager who did not "
        "request it. Both limits are amounts in the company currency "
        "(`RECONCILIATION_WRITE_OFF_LIMIT` and `SALES_REP_CREDIT_LIMIT`). "
        "Nobody can approve their own request.",
    ),
    FaqSeed(
        "payments",
        ("reconciliation.work.approvals",),
        "What should I check before I approve?",
        "Compare the amount with what is *Open on the case*, and read the "
        "requester's reason. For a credit note, read the message to the "
        "customer and open the credit note and its case. Approve only what "
        "the case explains. A rejection needs a reason, and the audit trail "
        "keeps the reason of every decision.",
    ),
    # Customer-visible entries are tagged on portal screens only: staff
    # screens get the internal entries, and the portal gets help of its own.
    FaqSeed(
        "disputes",
        ("portal", "portal.order", "portal.problem"),
        "How do I report a problem with my delivery or invoice?",
        "Open the order and choose *Report a problem*, use *Ask from here*, or "
        "post in the Customer corner. "
        "Tell us the order number and what is wrong; we answer within one "
        "working day.",
        customer_visible=True,
    ),
    FaqSeed(
        "payments",
        ("portal.statement",),
        "My statement still shows an amount I have paid. Why?",
        "A payment shows on the statement once our bank has received it and we "
        "have matched it to your invoice. Quote the invoice number in the "
        "payment reference so it matches at once. If the amount still shows a "
        "few days after you paid, use *Ask from here* on this page.",
        customer_visible=True,
    ),
    FaqSeed(
        "disputes",
        ("portal.case", "portal.problem"),
        "What happens after I report a problem?",
        "Your report opens a case with our team, and its page shows where it "
        "stands. When we propose a resolution, such as a credit note, you can "
        "accept it or reject it with a reason on that page.",
        customer_visible=True,
    ),
)


@dataclass(frozen=True)
class DocumentSeed:
    function: str
    contexts: tuple[str, ...]
    title: str
    summary: str
    body: str
    customer_visible: bool = False


DOCUMENT_SEEDS: tuple[DocumentSeed, ...] = (
    DocumentSeed(
        "order_entry",
        ("reconciliation", "reconciliation.orders"),
        "Order reconciliation in five minutes",
        "What the four checks are and who owns each kind of discrepancy.",
        "## The four checks\n\n1. **Order and shipment**: did we ship what was "
        "ordered, on time? The warehouse owns these.\n2. **Shipment and "
        "invoice**: did we bill what we shipped, at the agreed price? Billing "
        "owns these, with the sales representative for prices.\n3. **Invoice "
        "and payment**: did the customer pay in full and on time? Finance "
        "owns these.\n4. **Returns and credit notes**: was every accepted "
        "return credited?\n\nEach discrepancy names its owner role on the "
        "order page.",
    ),
    DocumentSeed(
        "fulfilment",
        ("reconciliation.order.short_ship", "reconciliation.order.not_shipped"),
        "Backorders: when to create one",
        "Create a backorder when the rest will ship; cancel the remainder "
        "only with the sales representative.",
        "A **backorder** keeps the unshipped quantity open on a new shipment. "
        "Create one when stock is expected. When it is not, the sales "
        "representative agrees the cancellation with the customer first.",
    ),
    DocumentSeed(
        "invoicing",
        (
            "reconciliation.order.price_mismatch",
            "reconciliation.order.duplicate_invoice",
        ),
        "Credit notes and debit notes",
        "Which note corrects which mistake, and who approves it.",
        "A **credit note** lowers what the customer owes: a price billed too "
        "high, a duplicate invoice, a return. A **debit note** raises it. "
        "Notes above your limit go to the finance manager for approval.",
    ),
    DocumentSeed(
        "payments",
        ("reconciliation.order.short_payment",),
        "Short payments: deduction, fee or dispute?",
        "Read the remittance, compare the difference with known fees, then "
        "write off or open a dispute.",
        "When a customer pays less than the invoice:\n\n1. Read the "
        "remittance text: customers often name the deduction.\n2. A bank fee "
        "within tolerance is written off.\n3. A deduction for a price or "
        "quantity problem becomes a dispute case for the sales "
        "representative.\n4. Anything else: contact the customer before the "
        "next statement.",
    ),
    DocumentSeed(
        "payments",
        ("reconciliation.order.missing_payment",),
        "Reminder schedule for overdue invoices",
        "First reminder at 7 days overdue, second at 21, then the sales "
        "representative calls.",
        "| Days overdue | Action |\n| --- | --- |\n| 7 | First reminder by "
        "e-mail |\n| 21 | Second reminder, copy to the sales representative "
        "|\n| 35 | Call from the sales representative |\n",
    ),
    DocumentSeed(
        "invoicing",
        (
            "reconciliation.work.purchasing",
            "reconciliation.work.purchasing.order",
            "reconciliation.work.purchasing.bill",
        ),
        "The three-way match: purchase order, goods receipt, vendor bill",
        "What the match checks on each bill line, and who acts on each case.",
        "Before a vendor bill is paid, each of its lines is checked against "
        "the purchase order and the goods received.\n\n"
        "| Case | What it means | Who acts |\n| --- | --- | --- |\n"
        "| Receipt short | less received than ordered after the promised "
        "date | warehouse, then the buyer |\n"
        "| Bill before receipt | billed before anything arrived: on hold | "
        "accounts payable |\n"
        "| Billed more than received | billed quantity above what was "
        "received and accepted | accounts payable |\n"
        "| Bill price variance | bill price above or below the order price | "
        "accounts payable, with the buyer |\n"
        "| Duplicate invoice | the vendor's reference is on another bill | "
        "accounts payable |\n\n"
        "A manager can release a held or rejected bill with an override and a "
        "reason.",
    ),
    DocumentSeed(
        "fulfilment",
        ("reconciliation.work.fulfilment",),
        "Pick and ship: from draft to shipment",
        "How picked and shipped quantities, drafts and shortages fit together.",
        "1. **Pick** the goods. Enter *Picked* only when you pick now and "
        "ship later, and press *Save picked only* to keep a draft.\n"
        "2. **Ship** what leaves today, with the carrier and tracking number. "
        "The customer sees both in the portal.\n"
        "3. **Report a shortage** for what you could not ship. The sales "
        "representative decides on a backorder or a cancellation.\n\n"
        "Cancelled units were taken off the order by the sales "
        "representative and cannot ship.",
    ),
    DocumentSeed(
        "payments",
        ("reconciliation.work.cash",),
        "Cash application: matching payments to invoices",
        "Where a payment comes from and how it is allocated.",
        "Payments come from bank statement imports (CSV or CAMT.053) and "
        "from the matching rules, which apply a payment by its invoice "
        "number when they can. What they leave waits on this screen.\n\n"
        "- A payment of a known customer: allocate it to that customer's "
        "open invoices.\n"
        "- A payment from an unknown payer: assign the customer first.\n"
        "- A payment short by more than the payment tolerance opens a "
        "short-payment case. A write-off above the limit needs a manager's "
        "approval.",
    ),
    DocumentSeed(
        "payments",
        ("reconciliation.work.approvals",),
        "Approving write-offs and credit notes",
        "The four-eyes rule for money the company gives up.",
        "A request above its limit waits here with the requester's reason. "
        "*Approve* carries it out: a write-off is booked and resolves the "
        "case, and a credit note goes to the customer. *Reject* needs a "
        "reason, and a rejected credit note is withdrawn with its draft. The "
        "approver is never the requester, and each decision is kept in the "
        "audit trail with its reason.",
    ),
    DocumentSeed(
        "disputes",
        ("portal", "portal.order", "portal.statement"),
        "Your orders, deliveries and invoices",
        "A guide for customers to the order pages.",
        "Each order shows what you ordered, what we shipped, what we invoiced "
        "and what you paid. If something does not match, ask from the order "
        "page and our team answers within one working day.",
        customer_visible=True,
    ),
)


def _contexts(keys: tuple[str, ...]) -> list[HelpContext]:
    return list(HelpContext.objects.filter(key__in=keys))


def create_staff_member(username: str) -> User:
    """Create the extra staff member ``username``, or return the existing one."""
    seed = next(seed for seed in EXTRA_STAFF if seed.username == username)
    return create_demo_person(
        username=seed.username,
        first_name=seed.first_name,
        last_name=seed.last_name,
        role=seed.role,
        learner_group_slug=seed.group,
        title=seed.title,
    )


def create_extra_staff() -> dict[str, User]:
    return {seed.username: create_staff_member(seed.username) for seed in EXTRA_STAFF}


def create_communities(*, owner: User) -> None:
    functions = {function.slug: function for function in CrmFunction.objects.all()}
    groups = {group.slug: group for group in LearnerGroup.objects.all()}

    for slug, (name, purpose) in FUNCTION_COMMUNITIES.items():
        community, _ = Community.objects.get_or_create(
            slug=slug.replace("_", "-"),
            defaults={"name": name, "purpose": purpose, "created_by": owner},
        )
        community.crm_functions.add(functions[slug])

    for slug, (name, purpose, visibility) in GROUP_COMMUNITIES.items():
        community, _ = Community.objects.get_or_create(
            slug=f"group-{slug.replace('_', '-')}",
            defaults={
                "name": name,
                "purpose": purpose,
                "visibility": visibility,
                "learner_group": groups[slug],
                "created_by": owner,
            },
        )
        members = User.objects.filter(learner_group=groups[slug])
        Membership.objects.bulk_create(
            [Membership(community=community, person=person) for person in members],
            ignore_conflicts=True,
        )
        Membership.objects.update_or_create(
            community=community, person=owner, defaults={"role": Membership.Role.OWNER}
        )


# Ages in days on the load day. The last FAQ entry is 2 days old and the last
# document 1 day, and each earlier seed is older by its step.
FAQ_OLDEST_DAYS = 2 + 3 * (len(FAQ_SEEDS) - 1)
FAQ_STEP_DAYS = 3
DOCUMENT_OLDEST_DAYS = 1 + 5 * (len(DOCUMENT_SEEDS) - 1)
DOCUMENT_STEP_DAYS = 5
# The time of day that back-dated content was written, in the current time zone.
CONTENT_TIME = time(9, 30)


def content_moment(as_of: date, *, age_days: int) -> datetime:
    """Return CONTENT_TIME on the day ``age_days`` before ``as_of``, made aware."""
    day = as_of - timedelta(days=age_days)
    return timezone.make_aware(datetime.combine(day, CONTENT_TIME))


def create_content(*, author: User, as_of: date | None = None) -> None:
    """Add the FAQ entries and documents, dated over the weeks before ``as_of``.

    ``as_of`` is the demo's load day, today by default. Spread dates let
    people try sorting by date and the date filters. Later seeds are
    younger, so they still rank first among equally helpful items, as when
    they were all created on the load day.
    """
    as_of = as_of or timezone.localdate()
    functions = {function.slug: function for function in CrmFunction.objects.all()}
    for index, faq in enumerate(FAQ_SEEDS):
        entry = FaqEntry.objects.create(
            question=faq.question,
            answer=faq.answer,
            answer_html=render_markdown(faq.answer, mentions=False).html,
            crm_function=functions[faq.function],
            customer_visible=faq.customer_visible,
            created_by=author,
        )
        entry.contexts.set(_contexts(faq.contexts))
        # update() keeps auto_now from replacing the dates. The search index
        # reads the row when the transaction commits, so it sees them.
        moment = content_moment(as_of, age_days=FAQ_OLDEST_DAYS - FAQ_STEP_DAYS * index)
        FaqEntry.objects.filter(pk=entry.pk).update(
            created_at=moment, updated_at=moment
        )
    for index, seed in enumerate(DOCUMENT_SEEDS):
        document = Document.objects.create(
            title=seed.title,
            summary=seed.summary,
            body=seed.body,
            body_html=render_markdown(seed.body, mentions=False).html,
            owner=author,
            crm_function=functions[seed.function],
            customer_visible=seed.customer_visible,
        )
        document.contexts.set(_contexts(seed.contexts))
        moment = content_moment(
            as_of, age_days=DOCUMENT_OLDEST_DAYS - DOCUMENT_STEP_DAYS * index
        )
        Document.objects.filter(pk=document.pk).update(
            created_at=moment, updated_at=moment
        )


def name_super_users(*, named_by: User) -> None:
    for function in CrmFunction.objects.filter(slug__in=SUPER_USERS):
        for username in SUPER_USERS[function.slug]:
            person = User.objects.get(username=username)
            SuperUserAssignment.objects.get_or_create(
                person=person, crm_function=function, defaults={"named_by": named_by}
            )
            person.crm_functions.add(function)
            for community in Community.objects.filter(
                crm_functions=function, learner_group__isnull=True
            ):
                Membership.objects.update_or_create(
                    community=community,
                    person=person,
                    defaults={"role": Membership.Role.MODERATOR},
                )


def join_function_communities() -> None:
    """Give each employee the CRM functions of their role and those communities.

    ``PERSON_FUNCTIONS`` gives a person other functions than their role's.

    Members join in username order, so the escalation order (longest-standing
    member first) is the same on every load. Super-users keep their
    moderator role.
    """
    functions = {function.slug: function for function in CrmFunction.objects.all()}
    communities = {
        community.slug: community
        for community in Community.objects.filter(slug__in=FUNCTION_COMMUNITIES_SLUGS)
    }
    people = User.objects.filter(
        role__in=ROLE_FUNCTIONS, customer__isnull=True, is_active=True
    ).order_by("username")
    for person in people:
        slugs = PERSON_FUNCTIONS.get(person.username, ROLE_FUNCTIONS[Role(person.role)])
        person.crm_functions.add(*(functions[slug] for slug in slugs))
        for slug in slugs:
            Membership.objects.get_or_create(
                community=communities[slug.replace("_", "-")], person=person
            )


@transaction.atomic
def seed_knowledge(*, as_of: date | None = None) -> None:
    """Add the extra staff, communities, FAQ, documents and super-users once.

    The content is dated before ``as_of``, the demo's load day (default today).
    """
    if FaqEntry.objects.exists():
        return
    staff = create_extra_staff()
    facilitator = staff["lena"]
    create_communities(owner=facilitator)
    create_content(author=facilitator, as_of=as_of)
    manager = User.objects.filter(role=Role.MANAGER).order_by("pk").first()
    name_super_users(named_by=manager or facilitator)
    join_function_communities()
