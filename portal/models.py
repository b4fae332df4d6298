"""Records that the customer portal and the work screens keep beside the documents.

The documents themselves (shipments, invoices, cases) live in
``reconciliation``; this app adds what those models have no place for: the
quantities a warehouse worker picked, a customer's receipt confirmation and
problem reports with evidence files, and the resolution a sales rep proposes
to the customer with the customer's decision on it.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from reconciliation.models import (
    Discrepancy,
    Invoice,
    SalesOrder,
    Shipment,
    ShipmentLine,
    money_field,
    quantity_field,
)


class PickedQuantity(models.Model):
    """What a warehouse worker picked for one shipment line, before it shipped."""

    shipment_line = models.OneToOneField(
        ShipmentLine, on_delete=models.CASCADE, related_name="pick"
    )
    qty_picked = quantity_field()
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    picked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(qty_picked__gte=0),
                name="picked_quantity_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.shipment_line_id}: picked {self.qty_picked}"


class ReceiptConfirmation(models.Model):
    """A customer's statement that a shipment arrived complete."""

    shipment = models.OneToOneField(
        Shipment, on_delete=models.CASCADE, related_name="receipt_confirmation"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Receipt of {self.shipment_id}"


class ProblemReport(models.Model):
    """A problem a customer reported on an order, and the case it opened."""

    class Kind(models.TextChoices):
        MISSING = "missing", "Goods missing"
        DAMAGED = "damaged", "Goods damaged"
        WRONG_PRICE = "wrong_price", "Wrong price on the invoice"
        DUPLICATE_INVOICE = "duplicate_invoice", "Invoiced twice"

    order = models.ForeignKey(
        SalesOrder, on_delete=models.CASCADE, related_name="problem_reports"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    shipment_line = models.ForeignKey(
        ShipmentLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(
        max_digits=16, decimal_places=4, null=True, blank=True
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.TextField()
    # Set when the customer answered that this report's units come on top
    # of an open report of the same problem on the same shipment line, so
    # the case's quantity rose by ``quantity`` instead of staying as it was.
    more_units = models.BooleanField(default=False)
    case = models.ForeignKey(
        Discrepancy, on_delete=models.PROTECT, related_name="problem_reports"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.order_id}"


class Evidence(models.Model):
    """A file a customer attached to a problem report."""

    report = models.ForeignKey(
        ProblemReport, on_delete=models.CASCADE, related_name="evidence"
    )
    # Stored as portal/evidence/<report id>/<SHA-256>, see
    # services.evidence_storage_name; ``name`` keeps the uploader's file name.
    file = models.FileField(upload_to="portal/evidence/%Y/%m/", max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ResolutionProposal(models.Model):
    """A resolution offered to the customer on a case, and their decision.

    A credit note proposal points at a draft credit note. It waits for a
    manager's approval first when its amount is above the sales rep's limit.
    """

    class State(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"
        AWAITING_CUSTOMER = "awaiting_customer", "Waiting for the customer"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    case = models.ForeignKey(
        Discrepancy, on_delete=models.CASCADE, related_name="proposals"
    )
    resolution_code = models.CharField(max_length=20)
    credit_note = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = money_field(default=Decimal(0))
    currency = models.CharField(max_length=3)
    # Written for the customer; the case's own notes stay internal.
    message = models.TextField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    # The time the proposal reached the customer, at once or on a manager's
    # approval. It stays empty for one that never did, so a withdrawn
    # proposal with a time is one the customer saw.
    offered_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    customer_reason = models.TextField(blank=True)
    # The customer's "more units" report that withdrew this offer, because
    # it raised the case's quantity after the offer was made (see
    # services._withdraw_offer_for_report). Empty for other withdrawals.
    withdrawn_by_report = models.ForeignKey(
        ProblemReport,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(
                    state__in=["awaiting_approval", "awaiting_customer"]
                ),
                name="proposal_one_open_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resolution_code} on case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.state in (
            self.State.AWAITING_APPROVAL,
            self.State.AWAITING_CUSTOMER,
        )
