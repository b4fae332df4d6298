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

from core.models import TimeStampedModel
from reconciliation.money import unit_net
from reconciliation.reference_keys import (
    MAX_KEY_LENGTH,
    ReferenceKeyQuerySet,
    fill_keys,
)

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
        return self.parent_id or self.id


class Product(models.Model):
    class InvoicePolicy(models.TextChoices):
        ORDERED = "ordered", "Ordered quantities"
        DELIVERED = "delivered", "Delivered quantities"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    sku = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    uom = models.CharField("unit of measure", max_length=40, default="unit")
    list_price = money_field()
    group = models.CharField(
        "product group",
        max_length=60,
        blank=True,
        help_text="Tolerance profiles can be scoped to a product group.",
    )
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
    # The order's value after cancelled units: the lines' subtotals less
    # ``amount_cancelled``, the value of the units a sales rep cancelled.
    # Both are derived by ``services.refresh_order``.
    amount_total = money_field(default=Decimal(0))
    amount_cancelled = money_field(default=Decimal(0))
    # What the matching pass last read for the order and the codes of what it
    # found, so a later pass skips the order while both stay the same (see
    # ``reconciliation.fingerprints``). Empty until the first pass.
    match_fingerprint = models.CharField(max_length=32, blank=True, default="")
    match_findings = models.TextField(blank=True, default="")

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

    @property
    def amount_ordered(self) -> Decimal:
        """The order's value as ordered, cancelled units included."""
        return self.amount_total + self.amount_cancelled


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
    # Running quantities, derived from shipments, invoices and cancellations.
    qty_shipped = quantity_field(default=Decimal(0))
    qty_cancelled = quantity_field(default=Decimal(0))
    qty_invoiced = quantity_field(default=Decimal(0))
    amount_invoiced = money_field(default=Decimal(0))
    amount_paid = money_field(default=Decimal(0))
    # The part of ``subtotal`` that the cancelled units make up.
    amount_cancelled = money_field(default=Decimal(0))

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

    @property
    def qty_due(self) -> Decimal:
        """The ordered quantity less the cancelled units: what is to ship in all."""
        return self.qty_ordered - self.qty_cancelled

    @property
    def qty_to_ship(self) -> Decimal:
        """The units still to ship: ordered, less cancelled and shipped, at least 0."""
        return max(self.qty_due - self.qty_shipped, Decimal(0))

    @property
    def amount_due(self) -> Decimal:
        """The line's value after cancellations: its subtotal less cancelled units."""
        return self.subtotal - self.amount_cancelled


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
    expected_delivery = models.DateField(null=True, blank=True)
    # Proof of delivery: the day the customer signed for the goods.
    delivered_at = models.DateField(null=True, blank=True)
    # A replacement shipment (reship) sends again the units a damaged or
    # missing goods case reported, on ``replacement_line``. Up to
    # ``replacement_qty`` of its units on that line are not counted as
    # shipped for the order: they are neither an over-shipment nor billed.
    replaces_case = models.ForeignKey(
        "Discrepancy",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacement_shipments",
    )
    replacement_line = models.ForeignKey(
        "SalesOrderLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    replacement_qty = models.DecimalField(
        max_digits=16, decimal_places=4, null=True, blank=True
    )

    class Meta:
        ordering = ["shipped_at", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="shipment_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    replaces_case__isnull=True,
                    replacement_line__isnull=True,
                    replacement_qty__isnull=True,
                )
                | models.Q(
                    replaces_case__isnull=False,
                    replacement_line__isnull=False,
                    replacement_qty__gt=0,
                ),
                name="shipment_replacement_complete",
            ),
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
    # The product that left the warehouse, when it is not the ordered one.
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What the customer confirmed on receipt; empty until they confirm.
    qty_received = models.DecimalField(
        max_digits=16, decimal_places=4, null=True, blank=True
    )
    qty_damaged = quantity_field(default=Decimal(0))

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
    # ``reference_key`` of the number and the reference, written on save.
    # A payment's reference meets the invoice through them.
    number_key = models.CharField(max_length=MAX_KEY_LENGTH, blank=True, default="")
    reference_key = models.CharField(max_length=MAX_KEY_LENGTH, blank=True, default="")

    objects = ReferenceKeyQuerySet.as_manager()
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
    # Company currency per unit of the invoice currency on the invoice date;
    # empty for an invoice in the company currency.
    fx_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True)
    freight_amount = money_field(default=Decimal(0))
    # Set on a credit note when the customer asked for the money back.
    refund_requested = models.BooleanField(default=False)
    amount_total = money_field(default=Decimal(0))
    amount_paid = money_field(default=Decimal(0))
    amount_written_off = money_field(default=Decimal(0))
    # On an invoice, the posted credit notes applied to it; on a credit note,
    # the part of it applied to its origin invoice.
    amount_credited = money_field(default=Decimal(0))
    amount_residual = money_field(default=Decimal(0))
    # A person's reason for keeping an invoice that repeats an earlier one's
    # reference: the duplicate-invoice case was decided as not a duplicate, so
    # the invoice is no longer held and takes cash like any other.
    duplicate_kept_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["invoice_date", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="invoice_number_unique"
            )
        ]
        indexes = [
            # One new payment finds the invoice its reference names through
            # these two.
            models.Index(fields=["number_key"], name="invoice_number_key_idx"),
            models.Index(fields=["reference_key"], name="invoice_reference_key_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        fill_keys(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"number", "reference"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "number_key", "reference_key"}
        super().save(*args, **kwargs)


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
    # What the line bills or credits, in words (a credit note's line says
    # what it credits); empty on most invoice lines.
    description = models.CharField(max_length=200, blank=True)
    qty = quantity_field()
    unit_price = money_field()
    discount_pct = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(0)
    )
    subtotal = money_field()
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    # Tax rounded per line, as billed; the checks recompute it from the rate.
    tax_amount = money_field(default=Decimal(0))
    # True on a credit note's line that credits an amount of money, not
    # units. It is stored as 1 x amount so that quantity times price is the
    # subtotal. That 1 is not a unit, so screens show only the amount.
    amount_only = models.BooleanField(default=False)

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
    # ``reference_key`` of the reference, written on save.
    reference_key = models.CharField(
        max_length=MAX_KEY_LENGTH, blank=True, default="", db_index=True
    )

    objects = ReferenceKeyQuerySet.as_manager()
    # Company currency per unit of the payment currency on the value date.
    fx_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True)
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

    def save(self, *args: Any, **kwargs: Any) -> None:
        fill_keys(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "reference" in update_fields:
            kwargs["update_fields"] = {*update_fields, "reference_key"}
        super().save(*args, **kwargs)


class Allocation(models.Model):
    """Part of a payment applied to an invoice, with any write-off it closed."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="allocations"
    )
    amount = money_field()
    # Write-offs in the invoice's currency, kept apart because only forgiven
    # money takes room from the invoice total that credit notes share.
    # Forgiven: part of the invoice the company forgave. Kept: an overpayment
    # the company kept. Both are 0 or more, and 0 or less on a reversal row.
    writeoff_forgiven = money_field(default=Decimal(0))
    writeoff_kept = money_field(default=Decimal(0))
    writeoff_reason = models.CharField(max_length=120, blank=True)
    # The exchange gain (positive) or loss in company currency that this
    # allocation books, from the invoice rate to the payment rate.
    fx_difference = money_field(default=Decimal(0))
    match_group = models.ForeignKey(
        "MatchGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    # Set on the negative row that unreconcile writes; the pair nets to zero.
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(reverses__isnull=True, amount__gte=0)
                    | models.Q(reverses__isnull=False, amount__lte=0)
                ),
                name="allocation_amount_sign",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        reverses__isnull=True,
                        writeoff_forgiven__gte=0,
                        writeoff_kept__gte=0,
                    )
                    | models.Q(
                        reverses__isnull=False,
                        writeoff_forgiven__lte=0,
                        writeoff_kept__lte=0,
                    )
                ),
                name="allocation_writeoff_sign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment.number} -> {self.invoice.number}: {self.amount}"

    @property
    def writeoff_net(self) -> Decimal:
        """Forgiven less kept: what the write-offs settle of the invoice residual."""
        return self.writeoff_forgiven - self.writeoff_kept

    def book_write_off(self, amount: Decimal) -> None:
        """Book a signed write-off: forgiven when positive, kept when negative.

        A negative ``amount`` adds its size to the kept column. The caller
        saves both write-off columns.
        """
        if amount > 0:
            self.writeoff_forgiven += amount
        else:
            self.writeoff_kept -= amount

    def writeoff_state(self) -> dict[str, str]:
        """Return the write-off columns as an audit event's before or after."""
        return {
            "writeoff_forgiven": str(self.writeoff_forgiven),
            "writeoff_kept": str(self.writeoff_kept),
        }


class ReturnAuthorization(TimeStampedModel):
    """A return the customer was allowed to send back (RMA)."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        RECEIVED = "received", "Received"
        INSPECTED = "inspected", "Inspected"
        CLOSED = "closed", "Closed"
        REJECTED = "rejected", "Rejected"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    number = models.CharField(max_length=30)
    order = models.ForeignKey(
        SalesOrder, on_delete=models.PROTECT, related_name="returns"
    )
    reason = models.CharField(max_length=120, blank=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.REQUESTED
    )
    received_at = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="return_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    authorization = models.ForeignKey(
        ReturnAuthorization, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        SalesOrderLine, on_delete=models.PROTECT, related_name="return_lines"
    )
    # The shipment line the units came back from, when it is known. A credit
    # note for them names it, as a goods case's credit names its shipment
    # line, so the order's invoice status counts the credited units as billed.
    shipment_line = models.ForeignKey(
        ShipmentLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_lines",
    )
    qty_received = quantity_field(default=Decimal(0))
    qty_accepted = quantity_field(default=Decimal(0))

    def __str__(self) -> str:
        return f"{self.authorization.number}: {self.qty_accepted}"


# Procurement: purchase order, goods receipt and vendor bill (three-way match).


class PurchaseOrder(TimeStampedModel):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    number = models.CharField(max_length=30)
    vendor = models.ForeignKey(
        Party, on_delete=models.PROTECT, related_name="purchase_orders"
    )
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    order_date = models.DateField()
    promised_date = models.DateField()

    class Meta:
        ordering = ["order_date", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="purchase_order_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    class Policy(models.TextChoices):
        ORDERED = "ordered", "Bill ordered quantities"
        RECEIVED = "received", "Bill received quantities"

    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    qty_ordered = quantity_field()
    unit_price = money_field()
    purchase_policy = models.CharField(
        max_length=10, choices=Policy.choices, default=Policy.RECEIVED
    )

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_no"], name="purchase_line_no_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.line_no}"


class GoodsReceipt(TimeStampedModel):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    number = models.CharField(max_length=30)
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="receipts"
    )
    received_at = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="goods_receipt_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.number


class GoodsReceiptLine(models.Model):
    receipt = models.ForeignKey(
        GoodsReceipt, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipt_lines"
    )
    qty_received = quantity_field()
    qty_rejected = quantity_field(default=Decimal(0))
    reason = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return f"{self.receipt.number}: {self.qty_received}"


class VendorBill(TimeStampedModel):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        POSTED = "posted", "Posted"
        CANCELLED = "cancelled", "Cancelled"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    number = models.CharField(max_length=30)
    vendor = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="bills")
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bills",
    )
    supplier_ref = models.CharField(
        "supplier reference",
        max_length=60,
        blank=True,
        help_text="The vendor's own invoice number; duplicates are found by it.",
    )
    # A person's reason for keeping a bill whose reference repeats an older one
    # (small vendors restart their numbering each year).
    duplicate_override_reason = models.CharField(max_length=200, blank=True)
    # A finance manager's decision to pay a bill that the three-way match holds
    # (billed before receipt) or rejects (price variance, billed over received).
    release_override_reason = models.CharField(max_length=200, blank=True)
    release_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    release_override_at = models.DateTimeField(null=True, blank=True)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT)
    bill_date = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.POSTED)

    class Meta:
        ordering = ["bill_date", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="vendor_bill_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.number


class VendorBillLine(models.Model):
    bill = models.ForeignKey(VendorBill, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        PurchaseOrderLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bill_lines",
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    qty = quantity_field()
    unit_price = money_field()

    def __str__(self) -> str:
        return f"{self.bill.number}: {self.qty} x {self.unit_price}"


class ExchangeRate(models.Model):
    """Units of ``to_currency`` per unit of ``from_currency`` on ``date``."""

    date = models.DateField()
    from_currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+"
    )
    to_currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+"
    )
    rate = models.DecimalField(max_digits=18, decimal_places=8)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "from_currency", "to_currency"],
                name="exchange_rate_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(rate__gt=0), name="exchange_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.from_currency_id}/{self.to_currency_id} {self.rate}"


class ToleranceProfile(TimeStampedModel):
    """How far documents may differ before a match becomes a discrepancy.

    A profile applies to a company, optionally narrowed to one customer, one
    product group or both. ``tolerances.ToleranceBook`` picks the most specific
    active profile: customer and group, then customer, then group, then company.
    Percentages are of the expected value; amounts are in the document currency.
    """

    class PaymentToleranceType(models.TextChoices):
        FIXED = "fixed", "Fixed amount"
        PERCENT = "pct", "Percent of the invoice total"

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    name = models.CharField(max_length=80)
    customer = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product_group = models.CharField(max_length=60, blank=True)
    is_active = models.BooleanField(default=True)
    qty_under_pct = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(0)
    )
    qty_over_pct = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(0)
    )
    over_billing_pct = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(0)
    )
    price_pct = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    price_abs = money_field(default=Decimal("0.01"))
    abs_amount = money_field(
        default=Decimal(0), help_text="Largest freight difference accepted as is."
    )
    rounding_units_per_line = models.PositiveSmallIntegerField(default=1)
    payment_tolerance_type = models.CharField(
        max_length=5,
        choices=PaymentToleranceType.choices,
        default=PaymentToleranceType.FIXED,
    )
    payment_tolerance_value = money_field(default=Decimal("0.01"))
    fx_tolerance_pct = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(3)
    )
    late_days = models.PositiveSmallIntegerField(default=0)
    uninvoiced_days = models.PositiveSmallIntegerField(default=7)
    return_credit_days = models.PositiveSmallIntegerField(default=14)
    refund_days = models.PositiveSmallIntegerField(default=14)

    class Meta:
        ordering = ["company", "name"]
        constraints = [
            # Two constraints, because NULL customers never collide in one.
            models.UniqueConstraint(
                fields=["company", "customer", "product_group"],
                condition=models.Q(is_active=True, customer__isnull=False),
                name="tolerance_profile_customer_scope_unique",
            ),
            models.UniqueConstraint(
                fields=["company", "product_group"],
                condition=models.Q(is_active=True, customer__isnull=True),
                name="tolerance_profile_company_scope_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(qty_under_pct__gte=0, qty_under_pct__lte=100)
                & models.Q(qty_over_pct__gte=0)
                & models.Q(over_billing_pct__gte=0)
                & models.Q(price_pct__gte=0)
                & models.Q(price_abs__gte=0)
                & models.Q(abs_amount__gte=0)
                & models.Q(payment_tolerance_value__gte=0)
                & models.Q(fx_tolerance_pct__gte=0),
                name="tolerance_profile_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MatchGroup(TimeStampedModel):
    """One match at a control point, as a rule or a person made it.

    ``key`` names what was matched (``A:order:12``, ``D:invoice:7``); at most
    one group per key is not reversed. Control points A and C keep one group
    per order, with each line's values in ``compared["lines"]``. ``compared``
    keeps the values the rule compared at match time and ``residual`` what
    remained, so the match can be explained later even after the documents
    change.
    """

    class Kind(models.TextChoices):
        SHIPMENT = "A", "Order to shipment"
        RECEIPT = "B", "Shipment to customer receipt"
        BILLING = "C", "Order and shipment to invoice"
        CASH = "D", "Invoice to payment"
        RETURN = "F", "Return to credit note"
        PURCHASE = "P2P", "Purchase order, receipt and bill"

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        CONFIRMED = "confirmed", "Confirmed"
        REVERSED = "reversed", "Reversed"

    class Outcome(models.TextChoices):
        CLEAN = "clean", "Clean"
        IN_TOLERANCE = "in_tolerance", "In tolerance"
        EXCEPTION = "exception", "Exception"

    class Origin(models.TextChoices):
        RULE = "rule", "Matching rule"
        PERSON = "person", "Person"
        IMPORT = "import", "Import"

    # The pass inserts about three groups per order, so the table keeps only
    # the indexes some query reads (see Meta.indexes): no index on the
    # creation time, and the optional keys are indexed where they are set.
    created_at = models.DateTimeField(auto_now_add=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    kind = models.CharField(max_length=3, choices=Kind.choices)
    key = models.CharField(max_length=80)
    state = models.CharField(max_length=10, choices=State.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    origin = models.CharField(
        max_length=10, choices=Origin.choices, default=Origin.RULE
    )
    rule = models.CharField(max_length=60)
    # A hash of the rule name and the tolerance values it applied.
    rule_version = models.CharField(max_length=16)
    score = models.SmallIntegerField(default=0)
    compared = models.JSONField(default=dict)
    residual = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    unit = models.CharField(max_length=40, blank=True)
    explanation = models.TextField(blank=True)
    order = models.ForeignKey(
        SalesOrder,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="match_groups",
        db_index=False,  # match_order_kind_idx starts with it
    )
    order_line = models.ForeignKey(
        SalesOrderLine,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "key", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "key"],
                condition=~models.Q(state="reversed"),
                name="match_group_key_unique_unless_reversed",
            )
        ]
        indexes = [
            models.Index(fields=["order", "kind"], name="match_order_kind_idx"),
            # Deleting a document or a person looks its groups up by these
            # keys. Rows without the key are left out, and a lookup by a
            # value can still use the index, on PostgreSQL and SQLite.
            *(
                models.Index(
                    fields=[name],
                    condition=models.Q(**{f"{name}__isnull": False}),
                    name=f"match_{short}_idx",
                )
                for name, short in (
                    ("order_line", "line"),
                    ("invoice", "invoice"),
                    ("payment", "payment"),
                    ("purchase_order", "po"),
                    ("confirmed_by", "confirmer"),
                    ("reversed_by", "reverser"),
                )
            ),
        ]

    def __str__(self) -> str:
        return f"{self.matching_number} {self.key}"

    @property
    def matching_number(self) -> str:
        return f"M{self.pk}"


class DiscrepancyCode(models.TextChoices):
    # A: order to shipment
    NOT_SHIPPED = "NOT_SHIPPED", "Not shipped"
    SHORT_SHIP = "SHORT_SHIP", "Short shipment"
    OVER_SHIP = "OVER_SHIP", "Over shipment"
    PARTIAL_SHIP = "PARTIAL_SHIP", "Partial shipment"
    BACKORDER_OPEN = "BACKORDER_OPEN", "Backorder past its promised date"
    WRONG_ITEM = "WRONG_ITEM", "Wrong item shipped"
    LATE_SHIP = "LATE_SHIP", "Late shipment"
    LATE_DELIVERY = "LATE_DELIVERY", "Late delivery"
    # B: shipment to customer receipt
    NOT_RECEIVED = "NOT_RECEIVED", "Not received"
    DAMAGED = "DAMAGED", "Damaged on delivery"
    # C: order and shipment to invoice
    INVOICE_QTY_MISMATCH = "INVOICE_QTY_MISMATCH", "Invoiced quantity mismatch"
    PRICE_MISMATCH = "PRICE_MISMATCH", "Price mismatch"
    TAX_MISMATCH = "TAX_MISMATCH", "Tax mismatch"
    FREIGHT_MISMATCH = "FREIGHT_MISMATCH", "Freight mismatch"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE", "Duplicate invoice"
    UNINVOICED_DELIVERY = "UNINVOICED_DELIVERY", "Shipped, not invoiced"
    # D: invoice to payment
    MISSING_PAYMENT = "MISSING_PAYMENT", "Missing payment"
    SHORT_PAYMENT = "SHORT_PAYMENT", "Short payment"
    OVER_PAYMENT = "OVER_PAYMENT", "Overpayment"
    UNAPPLIED_PAYMENT = "UNAPPLIED_PAYMENT", "Unapplied payment"
    PAYMENT_NO_ORDER = "PAYMENT_NO_ORDER", "Payment on a cancelled order"
    FX_DIFFERENCE = "FX_DIFFERENCE", "Exchange difference"
    ROUNDING = "ROUNDING", "Rounding difference"
    # F: returns
    RETURN_NOT_CREDITED = "RETURN_NOT_CREDITED", "Return not credited"
    CREDIT_NOT_REFUNDED = "CREDIT_NOT_REFUNDED", "Credit note not refunded"
    # Purchase side: three-way match
    RECEIPT_SHORT = "RECEIPT_SHORT", "Receipt short"
    RECEIPT_REJECTED = "RECEIPT_REJECTED", "Goods rejected on receipt"
    BILL_BEFORE_RECEIPT = "BILL_BEFORE_RECEIPT", "Bill before receipt"
    BILL_QTY_OVER_RECEIVED = "BILL_QTY_OVER_RECEIVED", "Billed more than received"
    BILL_PRICE_VARIANCE = "BILL_PRICE_VARIANCE", "Bill price variance"
    BILL_NO_PO = "BILL_NO_PO", "Bill without purchase order"


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
    # The sales rep decided that the invoiced price is right, so no price
    # changes. Cases resolved so before this code existed keep ``price_fix``.
    PRICE_KEPT = "price_kept", "Invoiced price kept"
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
    control_point = models.CharField(
        max_length=3, choices=MatchGroup.Kind.choices, blank=True
    )
    # Empty for findings about a payment or a purchase with no sales order.
    order = models.ForeignKey(
        SalesOrder,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="discrepancies",
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    vendor_bill = models.ForeignKey(
        VendorBill, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
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
        return f"{self.code} on {self.subject_label}"

    @property
    def subject_label(self) -> str:
        """Name the document the case is about: an order, bill or payment."""
        for document in (self.order, self.vendor_bill, self.purchase_order):
            if document is not None:
                return str(document)
        return str(self.payment) if self.payment is not None else f"case {self.pk}"

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


class LineCancellation(models.Model):
    """Units of an order line a person cancelled, so they are no longer to ship.

    The line's ``qty_cancelled`` is the sum of its rows that are not
    reversed, derived by ``services.refresh_order``. Undoing a cancellation
    (reopening its case) sets ``reversed_at`` and keeps the row.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    order_line = models.ForeignKey(
        SalesOrderLine, on_delete=models.PROTECT, related_name="cancellations"
    )
    qty = quantity_field()
    # The case whose decision cancelled the units.
    case = models.ForeignKey(
        Discrepancy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cancellations",
    )
    reason = models.TextField()
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField()
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["order_line", "cancelled_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(qty__gt=0), name="line_cancellation_qty_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.qty} cancelled on order line {self.order_line_id}"


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


class ReplacementOffer(models.Model):
    """The units of a goods case a sales rep offers to ship again (a reship).

    It belongs to a ``portal.ResolutionProposal`` with the resolution code
    ``reship``, which the customer accepts or rejects. On acceptance the
    draft replacement shipment is created and named in ``shipment``.
    """

    proposal = models.OneToOneField(
        "portal.ResolutionProposal",
        on_delete=models.CASCADE,
        related_name="replacement",
    )
    # The shipment line the case reported damaged or missing units on.
    shipment_line = models.ForeignKey(
        ShipmentLine, on_delete=models.PROTECT, related_name="+"
    )
    qty = quantity_field()
    shipment = models.OneToOneField(
        Shipment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacement_offer",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(qty__gt=0), name="replacement_offer_qty_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Replacement of {self.qty} on proposal {self.proposal_id}"
