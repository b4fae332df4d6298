"""Documents of the order-to-cash chain and the discrepancies found between them.

Money and quantities are ``Decimal`` (``max_digits=18, decimal_places=4`` for
money, ``16, 4`` for quantities); comparisons quantize money to the currency's
minor unit. Running quantities on an order line are derived from its child
documents by ``services.refresh_order`` and are never edited by hand.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from core.models import TimeStampedModel
from reconciliation.money import unit_net

if TYPE_CHECKING:
    DecimalColumn = models.DecimalField[Decimal | int | str, Decimal]


def money_field(**kwargs: Any) -> "DecimalColumn":
    return models.DecimalField(max_digits=18, decimal_places=4, **kwargs)


def quantity_field(**kwargs: Any) -> "DecimalColumn":
    return models.DecimalField(max_digits=16, decimal_places=4, **kwargs)


class Currency(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=60)
    minor_units = models.PositiveSmallIntegerField(default=2)

    class Meta:
        verbose_name_plural = "currencies"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.minor_units)


class Company(models.Model):
    """The tenant whose books these are; a practice sandbox is a tenant too."""

    name = models.CharField(max_length=120, unique=True)
    base_currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    timezone = models.CharField(max_length=60, default="UTC")
    is_sandbox = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class Party(TimeStampedModel):
    """A customer company (or a child contact of one)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The commercial partner this party invoices through.",
    )
    country = models.CharField(max_length=60, blank=True)
    city = models.CharField(max_length=60, blank=True)
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)

    class Meta:
        verbose_name_plural = "parties"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "code"], name="party_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def commercial_partner_id(self) -> int:
        return self.parent_id or self.pk


class Product(models.Model):
    class InvoicePolicy(models.TextChoices):
        ORDERED = "ordered", "Ordered quantities"
        DELIVERED = "delivered", "Delivered quantities"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    sku = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    uom = models.CharField("unit of measure", max_length=40, default="unit")
    list_price = money_field()
    invoice_policy = models.CharField(
        max_length=10, choices=InvoicePolicy.choices, default=InvoicePolicy.DELIVERED
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "sku"], name="product_sku_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ReconStatus(models.TextChoices):
    CLEAN = "clean", "Clean"
    IN_TOLERANCE = "in_tolerance", "In tolerance"
    EXCEPTION = "exception", "Exception"


class SalesOrder(TimeStampedModel):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        CONFIRMED = "confirmed", "Confirmed"
        ON_HOLD = "on_hold", "On hold"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    class DeliveryStatus(models.TextChoices):
        PENDING = "pending", "Not shipped"
        PARTIAL = "partial", "Partially shipped"
        FULL = "full", "Shipped"

    class InvoiceStatus(models.TextChoices):
        NOTHING = "nothing", "Nothing to invoice"
        TO_INVOICE = "to_invoice", "To invoice"
        PARTIAL = "partial", "Partially invoiced"
        INVOICED = "invoiced", "Invoiced"
        UPSELL = "upsell", "Over-invoiced"

    class PaymentStatus(models.TextChoices):
        NOT_PAID = "not_paid", "Not paid"
        PARTIAL = "partial", "Partially paid"
        PAID = "paid", "Paid"
        OVERPAID = "overpaid", "Overpaid"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    number = models.CharField(max_length=30)
    customer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="orders")
    customer_po_ref = models.CharField(max_length=60, blank=True)
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales_orders",
    )
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    order_date = models.DateField()
    promised_date = models.DateField()
    ship_via = models.CharField(max_length=80, blank=True)
    freight = money_field(default=Decimal(0))
    ship_to = models.TextField(blank=True)
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.CONFIRMED
    )
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    invoice_status = models.CharField(
        max_length=12, choices=InvoiceStatus.choices, default=InvoiceStatus.NOTHING
    )
    payment_status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.NOT_PAID
    )
    recon_status = models.CharField(
        "reconciliation status",
        max_length=12,
        choices=ReconStatus.choices,
        default=ReconStatus.CLEAN,
    )
    amount_total = money_field(default=Decimal(0))

    class Meta:
        ordering = ["-order_date", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="order_number_unique"
            )
        ]
        indexes = [
            models.Index(fields=["company", "recon_status", "-order_date"]),
            models.Index(fields=["customer", "-order_date"]),
            # The order list's default sort, so a page is read in index order.
            models.Index(fields=["-order_date", "-number"], name="order_list_sort_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class SalesOrderLine(models.Model):
    order = models.ForeignKey(
        SalesOrder, on_delete=models.CASCADE, related_name="lines"
    )
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    description = models.CharField(max_length=200)
    qty_ordered = quantity_field()
    unit_price = money_field()
    discount_pct = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(0)
    )
    subtotal = money_field()
    promised_date = models.DateField()
    # Running quantities, derived from shipments and invoices.
    qty_shipped = quantity_field(default=Decimal(0))
    qty_invoiced = quantity_field(default=Decimal(0))
    amount_invoiced = money_field(default=Decimal(0))
    amount_paid = money_field(default=Decimal(0))

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_no"], name="order_line_no_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(qty_ordered__gt=0), name="order_line_qty_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.line_no}"

    @property
    def unit_net(self) -> Decimal:
        return unit_net(unit_price=self.unit_price, discount_pct=self.discount_pct)


class Shipment(TimeStampedModel):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    number = models.CharField(max_length=30)
    order = models.ForeignKey(
        SalesOrder, on_delete=models.PROTECT, related_name="shipments"
    )
    carrier = models.CharField(max_length=80, blank=True)
    tracking_no = models.CharField(max_length=60, blank=True)
    backorder_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="backorders",
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.SHIPPED
    )
    shipped_at = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["shipped_at", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="shipment_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        SalesOrderLine, on_delete=models.PROTECT, related_name="shipment_lines"
    )
    qty_shipped = quantity_field()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(qty_shipped__gte=0),
                name="shipment_line_qty_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.shipment.number}: {self.qty_shipped}"


class Invoice(TimeStampedModel):
    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"
        DEBIT_NOTE = "debit_note", "Debit note"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        POSTED = "posted", "Posted"
        CANCELLED = "cancelled", "Cancelled"

    class PaymentState(models.TextChoices):
        NOT_PAID = "not_paid", "Not paid"
        PARTIAL = "partial", "Partially paid"
        PAID = "paid", "Paid"
        OVERPAID = "overpaid", "Overpaid"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    number = models.CharField(max_length=30)
    reference = models.CharField(
        max_length=60,
        blank=True,
        help_text="The reference the customer quotes; duplicates are found by it.",
    )
    customer = models.ForeignKey(
        Party, on_delete=models.PROTECT, related_name="invoices"
    )
    order = models.ForeignKey(
        SalesOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    origin_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    invoice_date = models.DateField()
    due_date = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.POSTED)
    payment_state = models.CharField(
        max_length=10, choices=PaymentState.choices, default=PaymentState.NOT_PAID
    )
    amount_total = money_field(default=Decimal(0))
    amount_paid = money_field(default=Decimal(0))
    amount_written_off = money_field(default=Decimal(0))
    amount_residual = money_field(default=Decimal(0))

    class Meta:
        ordering = ["invoice_date", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="invoice_number_unique"
            )
        ]
        indexes = [
            models.Index(Lower("reference"), "customer", name="invoice_ref_ci_idx")
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        SalesOrderLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
    )
    shipment_line = models.ForeignKey(
        ShipmentLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    qty = quantity_field()
    unit_price = money_field()
    discount_pct = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(0)
    )
    subtotal = money_field()

    def __str__(self) -> str:
        return f"{self.invoice.number}: {self.qty} x {self.unit_price}"

    @property
    def unit_net(self) -> Decimal:
        return unit_net(unit_price=self.unit_price, discount_pct=self.discount_pct)


class Payment(TimeStampedModel):
    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PARTIALLY_ALLOCATED = "partially_allocated", "Partially allocated"
        ALLOCATED = "allocated", "Allocated"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    number = models.CharField(max_length=30)
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    amount = money_field()
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    value_date = models.DateField()
    reference = models.CharField(max_length=140, blank=True)
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.RECEIVED
    )
    amount_unallocated = money_field(default=Decimal(0))

    class Meta:
        ordering = ["value_date", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="payment_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Allocation(models.Model):
    """Part of a payment applied to an invoice, with any write-off it closed."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="allocations"
    )
    amount = money_field()
    # Positive when the company forgave part of the invoice, negative when it
    # kept a small overpayment; the invoice residual counts it either way.
    writeoff_amount = money_field(default=Decimal(0))
    writeoff_reason = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="allocation_amount_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.payment.number} -> {self.invoice.number}: {self.amount}"


class DiscrepancyCode(models.TextChoices):
    NOT_SHIPPED = "NOT_SHIPPED", "Not shipped"
    SHORT_SHIP = "SHORT_SHIP", "Short shipment"
    OVER_SHIP = "OVER_SHIP", "Over shipment"
    LATE_SHIP = "LATE_SHIP", "Late shipment"
    INVOICE_QTY_MISMATCH = "INVOICE_QTY_MISMATCH", "Invoiced quantity mismatch"
    PRICE_MISMATCH = "PRICE_MISMATCH", "Price mismatch"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE", "Duplicate invoice"
    UNINVOICED_DELIVERY = "UNINVOICED_DELIVERY", "Shipped, not invoiced"
    MISSING_PAYMENT = "MISSING_PAYMENT", "Missing payment"
    SHORT_PAYMENT = "SHORT_PAYMENT", "Short payment"
    OVER_PAYMENT = "OVER_PAYMENT", "Overpayment"


class Severity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ResolutionCode(models.TextChoices):
    RESHIP = "reship", "Reship"
    CREDIT_NOTE = "credit_note", "Credit note"
    DEBIT_NOTE = "debit_note", "Debit note"
    WRITE_OFF = "write_off", "Write-off"
    REFUND = "refund", "Refund"
    BACKORDER = "backorder", "Backorder"
    CANCEL_REMAINDER = "cancel_remainder", "Cancel remainder"
    PRICE_FIX = "price_fix", "Price fix"
    ACCEPTED_AS_IS = "accepted_as_is", "Accepted as is"
    DUPLICATE_CANCELLED = "duplicate_cancelled", "Duplicate cancelled"
    CARRIER_CLAIM = "carrier_claim", "Carrier claim"


class Discrepancy(TimeStampedModel):
    """A difference the matching pass found, worked as a case through its states.

    ``created_at`` is the detection time. ``resolved_by`` is empty when the
    matching pass resolved the case because the difference went away.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ASSIGNED = "assigned", "Assigned"
        IN_PROGRESS = "in_progress", "In progress"
        WAITING_CUSTOMER = "waiting_customer", "Waiting for the customer"
        WAITING_INTERNAL = "waiting_internal", "Waiting internally"
        PROPOSED_RESOLUTION = "proposed_resolution", "Resolution proposed"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"
        REJECTED = "rejected", "Rejected"
        REOPENED = "reopened", "Reopened"
        ESCALATED = "escalated", "Escalated"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    order = models.ForeignKey(
        SalesOrder, on_delete=models.CASCADE, related_name="discrepancies"
    )
    order_line = models.ForeignKey(
        SalesOrderLine,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(max_length=30, choices=DiscrepancyCode.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    owner_role = models.CharField(max_length=20)
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    resolution_code = models.CharField(
        max_length=20, choices=ResolutionCode.choices, blank=True
    )
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resolved_cases",
    )
    # Seconds from detection to the latest resolution. A reopen keeps it, so
    # the last attempt stays measured until the next resolution replaces it.
    resolution_seconds = models.PositiveBigIntegerField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    # False once the matching pass stops finding the difference while a person
    # still works the case. The case page then shows a notice, and the case
    # stays in the person's hands instead of being resolved by the pass.
    finding_holds = models.BooleanField(default=True)
    expected_value = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    actual_value = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    difference = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    unit = models.CharField(
        max_length=40, blank=True, help_text="Currency code or UoM."
    )
    explanation = models.TextField()
    rule = models.CharField(max_length=60)
    # Identifies the finding so that a second matching pass updates it in place.
    fingerprint = models.CharField(max_length=120)

    class Meta:
        verbose_name_plural = "discrepancies"
        ordering = ["order", "code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "fingerprint"], name="discrepancy_fingerprint_unique"
            )
        ]
        indexes = [
            models.Index(fields=["company", "state", "code"]),
            models.Index(fields=["order", "state"], name="discrepancy_order_state_idx"),
            models.Index(
                fields=["owner_role", "state", "due_at"],
                name="discrepancy_inbox_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} on {self.order.number}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_CASE_STATES


# States in which a case still needs work. The order page lists these as open.
ACTIVE_CASE_STATES = frozenset(
    {
        Discrepancy.State.OPEN,
        Discrepancy.State.ASSIGNED,
        Discrepancy.State.IN_PROGRESS,
        Discrepancy.State.WAITING_CUSTOMER,
        Discrepancy.State.WAITING_INTERNAL,
        Discrepancy.State.PROPOSED_RESOLUTION,
        Discrepancy.State.REOPENED,
        Discrepancy.State.ESCALATED,
    }
)


class CaseComment(models.Model):
    """A message in the internal thread of a case, hidden from customers."""

    case = models.ForeignKey(
        Discrepancy, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The author's name at the time, so the thread reads the same after the
    # account is renamed or removed.
    author_name = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on case {self.case_id}"


class Approval(models.Model):
    """A request that a second person approve a write-off on a case."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    case = models.ForeignKey(
        Discrepancy, on_delete=models.CASCADE, related_name="approvals"
    )
    action = models.CharField(max_length=20, default=ResolutionCode.WRITE_OFF)
    amount = money_field()
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    request_reason = models.TextField()
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(
        max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why the approver decided so.")

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approver__isnull=True)
                | ~models.Q(approver=models.F("requested_by")),
                name="approval_approver_not_requester",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    decision="pending", approver__isnull=True, decided_at__isnull=True
                )
                | (
                    ~models.Q(decision="pending")
                    & models.Q(approver__isnull=False, decided_at__isnull=False)
                ),
                name="approval_decided_with_approver",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(decision="pending"),
                name="approval_one_pending_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} of {self.amount} on case {self.case_id}"
