"""The catalogue of practice scenarios.

A scenario is a small, fixed data set (customers, products, orders,
shipments, invoices and payments), the faults built into it, and the
resolutions a learner is expected to reach. ``seed.build_scenario`` writes
the data set into a sandbox company and runs the real matching pass, which
finds the faults as cases. The catalogue writes its dates as of
``AS_OF``, and the seed moves every date by the same number of days so that
``AS_OF`` falls on the day the session starts or resets. Nothing here reads
the wall clock or a random source, so a scenario seeded on a given day
always gets the same rows.

Raise ``version`` when a scenario's data or expectations change; a session
keeps the version it started with.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from reconciliation.models import DiscrepancyCode, ResolutionCode

# The day the catalogue's dates are written for: every promise and due date
# lies before it. A session moves it, and every other date, to its own day.
AS_OF = date(2025, 3, 31)


@dataclass(frozen=True)
class PartySpec:
    code: str
    name: str
    city: str


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    price: str
    uom: str = "unit"


@dataclass(frozen=True)
class ShipmentSpec:
    number: str
    shipped_at: date
    # Line number to quantity shipped; a line left out did not ship.
    quantities: dict[int, str]
    # Line number to the units the customer reported damaged on delivery.
    damaged: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InvoiceSpec:
    number: str
    reference: str
    invoice_date: date
    due_date: date
    # Line number to quantity billed at the order price.
    quantities: dict[int, str]


@dataclass(frozen=True)
class OrderSpec:
    number: str
    customer: str
    order_date: date
    promised_date: date
    # (product sku, quantity, unit price) per line, numbered from 1.
    lines: tuple[tuple[str, str, str], ...]
    shipments: tuple[ShipmentSpec, ...] = ()
    invoices: tuple[InvoiceSpec, ...] = ()
    customer_po_ref: str = ""


@dataclass(frozen=True)
class PaymentSpec:
    number: str
    # Empty when the bank did not say who paid.
    customer: str
    amount: str
    value_date: date
    reference: str


@dataclass(frozen=True)
class ExpectedResolution:
    """The case of ``code`` on these documents ends with one of ``codes``.

    Empty ``codes`` accept any end, also the matching pass resolving the
    case because the learner fixed the documents. With ``codes`` and
    ``documents_settle`` set, a resolved case whose documents now agree
    passes too.
    """

    code: str
    codes: tuple[str, ...]
    order: str = ""
    invoice: str = ""
    payment: str = ""
    # The write-off the resolution forgives, when a write-off is expected.
    write_off: Decimal | None = None
    # Said to the learner when the check fails.
    hint: str = ""
    # Whether a resolved case whose finding no longer applies passes whatever
    # its code, because the learner fixed the documents.
    documents_settle: bool = False
    # Resolution codes that settle the case less well than ``codes``, each
    # with the percent of the check's marks it earns. The check still fails.
    partial: tuple[tuple[str, int], ...] = ()
    # With a replacement shipment (``reship``) expected: the units its
    # replacement shipments must have shipped for the case, in total.
    replaced_units: Decimal | None = None


@dataclass(frozen=True)
class ExpectedAllocation:
    """Money from ``payment`` applied to ``invoice``, not reversed, in total."""

    payment: str
    invoice: str
    amount: Decimal
    hint: str = ""
    # Set when the seed already has this allocation and the learner must
    # leave it in place: it earns no credit, and undoing it fails the check.
    keep: bool = False


@dataclass(frozen=True)
class FollowUp:
    """A case the expected work opens as a side effect, which no check scores.

    The session page shows ``reason`` next to such a case: why the matching
    pass opens it.
    """

    code: str
    reason: str


@dataclass(frozen=True)
class ScriptedManager:
    """The manager who decides a session's approval requests, at once.

    A sandbox has one person, and an approval needs a manager other than the
    requester. So a write-off above the write-off limit, or a credit note
    above the sales rep's credit limit, is decided by this script. It
    approves a credit note of at most ``approves_credit_up_to`` and rejects
    every other request with the scenario's reason. Write-offs are always
    rejected.
    """

    name: str
    # The reason for rejecting a write-off above the limit.
    write_off: str
    # The reason for rejecting a credit note above the credit limit.
    credit_note: str
    # The largest credit note the manager approves, in the invoice's currency.
    # None rejects every credit note.
    approves_credit_up_to: Decimal | None = None
    # The reason for approving a credit note up to that amount.
    approval: str = ""

    def reason(self, action: str) -> str:
        """Return the reason the manager gives for rejecting ``action``."""
        if action == ResolutionCode.CREDIT_NOTE:
            return self.credit_note
        return self.write_off

    def approves(self, action: str, amount: Decimal) -> bool:
        """Return whether the manager approves ``action`` for ``amount``."""
        return (
            action == ResolutionCode.CREDIT_NOTE
            and self.approves_credit_up_to is not None
            and amount <= self.approves_credit_up_to
        )


@dataclass(frozen=True)
class ScriptedCustomer:
    """The customer who accepts a session's replacement offers at once.

    The learner answers credit notes as the customer on the session page.
    A replacement offer in a scenario with a scripted customer is accepted
    at once instead, through the customer portal's service, so the learner
    goes on to ship it. ``accepted`` is what the customer says.
    """

    name: str
    accepted: str


MANAGER_NAME = "Ines Walch"
MANAGER = ScriptedManager(
    name=MANAGER_NAME,
    write_off=(
        "Money above the limit is forgiven only when nobody will ever pay it. "
        "Find out why the difference exists before you ask to forgive it."
    ),
    credit_note=(
        "An amount this large needs a reason the case does not give. Check "
        "what the customer really owes before you credit it."
    ),
)


@dataclass(frozen=True)
class Scenario:
    key: str
    version: int
    title: str
    goal: str
    story: str
    role: str
    parties: tuple[PartySpec, ...]
    products: tuple[ProductSpec, ...]
    orders: tuple[OrderSpec, ...]
    payments: tuple[PaymentSpec, ...] = ()
    resolutions: tuple[ExpectedResolution, ...] = ()
    allocations: tuple[ExpectedAllocation, ...] = field(default_factory=tuple)
    follow_ups: tuple[FollowUp, ...] = ()
    manager: ScriptedManager = MANAGER
    # Set when a script accepts the replacement offers for the customer.
    customer: ScriptedCustomer | None = None

    @property
    def check_count(self) -> int:
        return len(self.resolutions) + len(self.allocations)


PARTIES = (
    PartySpec("ALPEN", "Alpenblick Feinkost", "Innsbruck"),
    PartySpec("HARBR", "Harbour Street Grocers", "Leith"),
)
PRODUCTS = (
    ProductSpec("TEA-ASSAM", "Assam tea, 500 g tin", "12.50"),
    ProductSpec("OIL-OLIVE", "Olive oil, 1 l bottle", "9.75"),
    ProductSpec("HONEY-ACACIA", "Acacia honey, 250 g jar", "6.40"),
)


def _invoice(
    number: str, quantities: dict[int, str], reference: str = ""
) -> InvoiceSpec:
    return InvoiceSpec(
        number=number,
        reference=reference,
        invoice_date=date(2025, 2, 10),
        due_date=date(2025, 3, 12),
        quantities=quantities,
    )


def _shipment(number: str, quantities: dict[int, str]) -> ShipmentSpec:
    return ShipmentSpec(
        number=number, shipped_at=date(2025, 2, 7), quantities=quantities
    )


SHORT_PAYMENT_WRITE_OFF = Scenario(
    key="short-payment-write-off",
    version=1,
    title="A short payment inside the write-off limit",
    goal="Write off a small short payment after checking it is inside your limit.",
    story=(
        "Alpenblick Feinkost paid invoice PR-INV-1001 but kept back 12.50 EUR "
        "as a bank charge. The amount is below the write-off limit, so you may "
        "write it off yourself."
    ),
    role="finance_clerk",
    parties=PARTIES,
    products=PRODUCTS,
    orders=(
        OrderSpec(
            number="PR-SO-1001",
            customer="ALPEN",
            order_date=date(2025, 2, 3),
            promised_date=date(2025, 2, 10),
            lines=(("TEA-ASSAM", "20", "12.50"), ("OIL-OLIVE", "12", "9.75")),
            shipments=(_shipment("PR-SH-1001", {1: "20", 2: "12"}),),
            invoices=(_invoice("PR-INV-1001", {1: "20", 2: "12"}),),
        ),
    ),
    payments=(
        PaymentSpec(
            number="PR-PAY-1001",
            customer="ALPEN",
            amount="354.50",
            value_date=date(2025, 3, 10),
            reference="PR-INV-1001",
        ),
    ),
    resolutions=(
        ExpectedResolution(
            code=DiscrepancyCode.SHORT_PAYMENT,
            order="PR-SO-1001",
            invoice="PR-INV-1001",
            codes=(ResolutionCode.WRITE_OFF,),
            write_off=Decimal("12.50"),
            hint=(
                "Compare the difference with the amount you may settle on your "
                "own, and reread why the customer kept the money back."
            ),
        ),
    ),
    allocations=(
        ExpectedAllocation(
            payment="PR-PAY-1001",
            invoice="PR-INV-1001",
            amount=Decimal("354.50"),
            hint="The payment names the invoice it pays: check its allocation.",
            keep=True,
        ),
    ),
)

SHORT_PAYMENT_DISPUTE = Scenario(
    key="short-payment-dispute",
    version=1,
    title="A short payment above the write-off limit",
    goal=(
        "Recognise a deduction that is too large to write off and settle it "
        "with a credit note."
    ),
    story=(
        "Harbour Street Grocers paid 180.00 EUR less than invoice PR-INV-2001. "
        "Their remittance says six cases of olive oil arrived broken and were "
        "thrown away. The warehouse confirms the breakage; the deduction is "
        "above the write-off limit."
    ),
    role="finance_clerk",
    parties=PARTIES,
    products=PRODUCTS,
    orders=(
        OrderSpec(
            number="PR-SO-2001",
            customer="HARBR",
            order_date=date(2025, 2, 3),
            promised_date=date(2025, 2, 10),
            lines=(("OIL-OLIVE", "80", "9.75"), ("TEA-ASSAM", "40", "12.50")),
            shipments=(_shipment("PR-SH-2001", {1: "80", 2: "40"}),),
            invoices=(_invoice("PR-INV-2001", {1: "80", 2: "40"}),),
        ),
    ),
    payments=(
        PaymentSpec(
            number="PR-PAY-2001",
            customer="HARBR",
            amount="1100.00",
            value_date=date(2025, 3, 11),
            reference="PR-INV-2001",
        ),
    ),
    resolutions=(
        ExpectedResolution(
            code=DiscrepancyCode.SHORT_PAYMENT,
            order="PR-SO-2001",
            invoice="PR-INV-2001",
            codes=(ResolutionCode.CREDIT_NOTE,),
            hint=(
                "Is the deduction inside your write-off limit? If not, which "
                "document lowers what the customer owes for the broken goods?"
            ),
        ),
    ),
    manager=ScriptedManager(
        name=MANAGER_NAME,
        write_off=(
            "The warehouse confirmed the breakage, so Harbour Street Grocers "
            "owe us nothing for those bottles: this is no bad debt to forgive. "
            "Lower their invoice with the document made for returned or "
            "broken goods."
        ),
        credit_note=MANAGER.credit_note,
    ),
)

UNSHIPPED_BACKORDER = Scenario(
    key="unshipped-backorder",
    version=2,
    title="An unshipped line that needs a backorder decision",
    goal="Decide what happens to an order line the warehouse could not ship.",
    story=(
        "Order PR-SO-3001 from Alpenblick Feinkost left the warehouse without "
        "the acacia honey: none was in stock. The customer wants the honey as "
        "soon as the next delivery arrives."
    ),
    # The sales rep decides what happens to goods the warehouse could not ship.
    role="sales_rep",
    parties=PARTIES,
    products=PRODUCTS,
    orders=(
        OrderSpec(
            number="PR-SO-3001",
            customer="ALPEN",
            order_date=date(2025, 2, 3),
            promised_date=date(2025, 2, 10),
            lines=(("TEA-ASSAM", "10", "12.50"), ("HONEY-ACACIA", "24", "6.40")),
            shipments=(_shipment("PR-SH-3001", {1: "10"}),),
            invoices=(_invoice("PR-INV-3001", {1: "10"}),),
        ),
    ),
    payments=(
        PaymentSpec(
            number="PR-PAY-3001",
            customer="ALPEN",
            amount="125.00",
            value_date=date(2025, 3, 5),
            reference="PR-INV-3001",
        ),
    ),
    resolutions=(
        ExpectedResolution(
            code=DiscrepancyCode.NOT_SHIPPED,
            order="PR-SO-3001",
            codes=(ResolutionCode.BACKORDER,),
            hint="Reread what the customer wants done about the missing goods.",
            # Shipping the honey is right too once the next delivery arrived,
            # and the pass resolves the case when the order is complete.
            documents_settle=True,
        ),
    ),
    # The honey was promised 49 days before the session's day, so the pass
    # finds NOT_SHIPPED past that promise, and shipping it without a
    # backorder is late. A backorder is judged against the expected date the
    # learner enters, which is today or later. Honey shipped on the backorder
    # by that date opens no case. BACKORDER_OPEN opens only once that date
    # and the line's late days pass without the honey shipping.
    follow_ups=(
        FollowUp(
            code=DiscrepancyCode.BACKORDER_OPEN,
            reason=(
                "The honey on the backorder was still not shipped after the "
                "date it was expected, so the matching pass opens this case "
                "until the honey ships."
            ),
        ),
        FollowUp(
            code=DiscrepancyCode.LATE_SHIP,
            reason=(
                "Honey shipped now without a backorder date leaves after its "
                "promised date, so the matching pass records the late shipment."
            ),
        ),
    ),
)

DUPLICATE_INVOICE = Scenario(
    key="duplicate-invoice",
    version=1,
    title="The same delivery invoiced twice",
    goal="Find the duplicate invoice and cancel it, leaving the original in place.",
    story=(
        "Harbour Street Grocers write that they received two invoices for "
        "order PR-SO-4001 with the same reference. They paid the first one."
    ),
    role="finance_clerk",
    parties=PARTIES,
    products=PRODUCTS,
    orders=(
        OrderSpec(
            number="PR-SO-4001",
            customer="HARBR",
            order_date=date(2025, 2, 3),
            promised_date=date(2025, 2, 10),
            customer_po_ref="HSG-7781",
            lines=(("HONEY-ACACIA", "50", "6.40"),),
            shipments=(_shipment("PR-SH-4001", {1: "50"}),),
            invoices=(
                _invoice("PR-INV-4001", {1: "50"}, reference="HSG-7781"),
                _invoice("PR-INV-4002", {1: "50"}, reference="HSG-7781"),
            ),
        ),
    ),
    payments=(
        PaymentSpec(
            number="PR-PAY-4001",
            customer="HARBR",
            amount="320.00",
            value_date=date(2025, 3, 6),
            reference="PR-INV-4001",
        ),
    ),
    resolutions=(
        ExpectedResolution(
            code=DiscrepancyCode.DUPLICATE_INVOICE,
            order="PR-SO-4001",
            invoice="PR-INV-4002",
            codes=(ResolutionCode.DUPLICATE_CANCELLED,),
            hint=(
                "Compare the two invoices' references and what the customer "
                "paid: should both invoices exist?"
            ),
        ),
    ),
    manager=ScriptedManager(
        name=MANAGER_NAME,
        write_off=(
            "The customer never owed the second invoice for the same "
            "delivery, so there is nothing to forgive: deal with the invoice "
            "itself."
        ),
        credit_note=(
            "A credit note would leave a wrong invoice on the books, with a "
            "second document to undo it. Deal with the invoice itself."
        ),
    ),
)

UNAPPLIED_PAYMENT = Scenario(
    key="unapplied-payment",
    version=1,
    title="A payment nobody could match",
    goal="Find the invoice a payment belongs to and allocate the payment to it.",
    story=(
        "A bank transfer of 208.50 EUR arrived from an account the system "
        "does not know, with the text 'ALPENBLICK ORDER 5001'. Alpenblick "
        "Feinkost has one open invoice for order PR-SO-5001."
    ),
    role="finance_clerk",
    parties=PARTIES,
    products=PRODUCTS,
    orders=(
        OrderSpec(
            number="PR-SO-5001",
            customer="ALPEN",
            order_date=date(2025, 2, 3),
            promised_date=date(2025, 2, 10),
            lines=(("HONEY-ACACIA", "15", "6.40"), ("TEA-ASSAM", "9", "12.50")),
            shipments=(_shipment("PR-SH-5001", {1: "15", 2: "9"}),),
            invoices=(_invoice("PR-INV-5001", {1: "15", 2: "9"}),),
        ),
    ),
    payments=(
        PaymentSpec(
            number="PR-PAY-5001",
            customer="",
            amount="208.50",
            value_date=date(2025, 3, 7),
            reference="ALPENBLICK ORDER 5001",
        ),
    ),
    resolutions=(
        ExpectedResolution(
            code=DiscrepancyCode.UNAPPLIED_PAYMENT,
            payment="PR-PAY-5001",
            codes=(),
            hint=(
                "A payment nobody matched stays open until it pays an invoice: "
                "read its reference."
            ),
        ),
        ExpectedResolution(
            code=DiscrepancyCode.MISSING_PAYMENT,
            order="PR-SO-5001",
            invoice="PR-INV-5001",
            codes=(),
            hint="Look for money that arrived without naming this invoice.",
        ),
    ),
    manager=ScriptedManager(
        name=MANAGER_NAME,
        write_off=(
            "Before we forgive an invoice, make sure its money has not "
            "already arrived: look at the payments nobody could match."
        ),
        credit_note=MANAGER.credit_note,
    ),
    allocations=(
        ExpectedAllocation(
            payment="PR-PAY-5001",
            invoice="PR-INV-5001",
            amount=Decimal("208.50"),
            hint="Read the transfer text and find the invoice it belongs to.",
        ),
    ),
)

BROKEN_GOODS_CREDIT = Scenario(
    key="broken-goods-credit",
    version=1,
    title="A credit above your limit, approved by the manager",
    goal=(
        "Settle a confirmed deduction that needs a manager's approval, and "
        "finish the case once the manager has answered."
    ),
    story=(
        "Harbour Street Grocers paid 292.50 EUR less than invoice PR-INV-6001. "
        "Their remittance says 30 bottles of olive oil arrived broken, and the "
        "warehouse confirms the breakage. The deduction is above your "
        "write-off limit and above the amount you may credit on your own."
    ),
    role="sales_rep",
    parties=PARTIES,
    products=PRODUCTS,
    orders=(
        OrderSpec(
            number="PR-SO-6001",
            customer="HARBR",
            order_date=date(2025, 2, 3),
            promised_date=date(2025, 2, 10),
            lines=(("OIL-OLIVE", "100", "9.75"), ("TEA-ASSAM", "20", "12.50")),
            shipments=(_shipment("PR-SH-6001", {1: "100", 2: "20"}),),
            invoices=(_invoice("PR-INV-6001", {1: "100", 2: "20"}),),
        ),
    ),
    payments=(
        PaymentSpec(
            number="PR-PAY-6001",
            customer="HARBR",
            amount="932.50",
            value_date=date(2025, 3, 11),
            reference="PR-INV-6001",
        ),
    ),
    resolutions=(
        ExpectedResolution(
            code=DiscrepancyCode.SHORT_PAYMENT,
            order="PR-SO-6001",
            invoice="PR-INV-6001",
            codes=(ResolutionCode.CREDIT_NOTE,),
            hint=(
                "The breakage is confirmed, so the customer does not owe that "
                "money. Which document lowers what they owe, and who must agree "
                "to an amount this large? Once it is agreed, answer as the "
                "customer on the session page."
            ),
        ),
    ),
    manager=ScriptedManager(
        name=MANAGER_NAME,
        write_off=(
            "The warehouse confirmed the breakage, so Harbour Street Grocers "
            "owe us nothing for those bottles: this is no bad debt to forgive. "
            "Lower their invoice with the document made for broken goods."
        ),
        credit_note=MANAGER.credit_note,
        approves_credit_up_to=Decimal("292.50"),
        approval=(
            "The warehouse confirmed 30 broken bottles at 9.75 EUR, so the "
            "amount is right."
        ),
    ),
)

DAMAGED_GOODS_REPLACEMENT = Scenario(
    key="damaged-goods-replacement",
    version=1,
    title="Damaged goods the customer wants again",
    goal=(
        "Settle damaged goods the way the customer asks for: offer a "
        "replacement shipment of the damaged units and ship it."
    ),
    story=(
        "Alpenblick Feinkost received order PR-SO-7001 and reported 3 tins of "
        "Assam tea dented and unsellable. They have not paid yet, and their "
        "invoice is not due. They write that they want the 3 tins for their "
        "shelves, not money back, and the warehouse has Assam tea in stock."
    ),
    # The sales rep decides how damaged goods are settled with the customer.
    role="sales_rep",
    parties=PARTIES,
    products=PRODUCTS,
    orders=(
        OrderSpec(
            number="PR-SO-7001",
            customer="ALPEN",
            order_date=date(2025, 3, 17),
            promised_date=date(2025, 3, 24),
            lines=(("TEA-ASSAM", "24", "12.50"), ("HONEY-ACACIA", "12", "6.40")),
            shipments=(
                ShipmentSpec(
                    number="PR-SH-7001",
                    shipped_at=date(2025, 3, 24),
                    quantities={1: "24", 2: "12"},
                    damaged={1: "3"},
                ),
            ),
            invoices=(
                InvoiceSpec(
                    number="PR-INV-7001",
                    reference="",
                    invoice_date=date(2025, 3, 25),
                    due_date=date(2025, 4, 24),
                    quantities={1: "24", 2: "12"},
                ),
            ),
        ),
    ),
    resolutions=(
        ExpectedResolution(
            code=DiscrepancyCode.DAMAGED,
            order="PR-SO-7001",
            codes=(ResolutionCode.RESHIP,),
            partial=((ResolutionCode.CREDIT_NOTE, 50),),
            replaced_units=Decimal(3),
            hint=(
                "Reread what the customer asks for instead of money back, and "
                "how many tins they reported. The case is settled once the "
                "warehouse has sent them."
            ),
        ),
    ),
    manager=ScriptedManager(
        name=MANAGER_NAME,
        write_off=(
            "Nobody owes us this money: the customer reported the damage and "
            "told us what they want instead. Settle it with them."
        ),
        credit_note=MANAGER.credit_note,
    ),
    customer=ScriptedCustomer(
        name="Alpenblick Feinkost",
        accepted=(
            "Thank you, that is what we hoped for: please send the tins with "
            "our next delivery."
        ),
    ),
)

SCENARIOS: dict[str, Scenario] = {
    scenario.key: scenario
    for scenario in (
        SHORT_PAYMENT_WRITE_OFF,
        SHORT_PAYMENT_DISPUTE,
        UNSHIPPED_BACKORDER,
        DUPLICATE_INVOICE,
        UNAPPLIED_PAYMENT,
        BROKEN_GOODS_CREDIT,
        DAMAGED_GOODS_REPLACEMENT,
    )
}


class UnknownScenario(LookupError):
    def __init__(self, key: str) -> None:
        known = ", ".join(sorted(SCENARIOS))
        super().__init__(
            f"There is no practice scenario {key!r}: choose one of {known}."
        )


def get_scenario(key: str) -> Scenario:
    try:
        return SCENARIOS[key]
    except KeyError:
        raise UnknownScenario(key) from None
