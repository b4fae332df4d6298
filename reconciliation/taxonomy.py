"""The discrepancy taxonomy: every code with its rule, severity and owner role.

Control points run in the order of ``CONTROL_POINTS``, and within one the
rules run in the order they are listed here. Severity follows money at risk:
high when money leaves or stays away with nothing to show for it (missing
payment, duplicate, a bill for goods never received), medium for quantities
and prices outside tolerance, low for dates, rounding and exchange
differences. The due time of a case comes from its severity
(``RECONCILIATION_CASE_DUE_DAYS``).

``informational`` rules track a state that is normally fine (a first partial
shipment): the case is opened for the record, but the order stays clean.
``auto`` rules settle their finding themselves (a rounding write-off, an
exchange difference inside tolerance) and store the case as resolved.
"""

from dataclasses import dataclass

from accounts.models import Role
from reconciliation.models import DiscrepancyCode, MatchGroup, Severity

Code = DiscrepancyCode
Kind = MatchGroup.Kind

CONTROL_POINTS: tuple[str, ...] = (
    Kind.SHIPMENT,
    Kind.RECEIPT,
    Kind.BILLING,
    Kind.CASH,
    Kind.RETURN,
    Kind.PURCHASE,
)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    owner_role: str
    control_point: str
    informational: bool = False
    auto: bool = False

    @property
    def context_key(self) -> str:
        """Return the help context of a screen showing this code."""
        return f"reconciliation.order.{self.code.lower()}"


def _rule(
    code: str,
    name: str,
    severity: str,
    owner: str,
    point: str,
    **flags: bool,
) -> Rule:
    return Rule(code, name, severity, owner, point, **flags)


HIGH, MEDIUM, LOW = Severity.HIGH, Severity.MEDIUM, Severity.LOW
WAREHOUSE, SALES, CLERK = Role.WAREHOUSE, Role.SALES_REP, Role.FINANCE_CLERK

TAXONOMY: tuple[Rule, ...] = (
    # A: order to shipment, per order line
    _rule(Code.WRONG_ITEM, "shipment.wrong_item@1", MEDIUM, WAREHOUSE, Kind.SHIPMENT),
    _rule(Code.NOT_SHIPPED, "shipment.not_shipped@1", MEDIUM, WAREHOUSE, Kind.SHIPMENT),
    _rule(
        Code.PARTIAL_SHIP,
        "shipment.partial@1",
        LOW,
        WAREHOUSE,
        Kind.SHIPMENT,
        informational=True,
    ),
    _rule(Code.BACKORDER_OPEN, "shipment.backorder@1", MEDIUM, SALES, Kind.SHIPMENT),
    _rule(Code.SHORT_SHIP, "shipment.short@1", MEDIUM, WAREHOUSE, Kind.SHIPMENT),
    _rule(Code.OVER_SHIP, "shipment.over@1", MEDIUM, WAREHOUSE, Kind.SHIPMENT),
    _rule(Code.LATE_SHIP, "shipment.late@1", LOW, WAREHOUSE, Kind.SHIPMENT),
    _rule(Code.LATE_DELIVERY, "delivery.late@1", LOW, WAREHOUSE, Kind.SHIPMENT),
    # B: shipment to customer receipt
    _rule(Code.NOT_RECEIVED, "receipt.not_received@1", MEDIUM, WAREHOUSE, Kind.RECEIPT),
    _rule(Code.DAMAGED, "receipt.damaged@1", MEDIUM, WAREHOUSE, Kind.RECEIPT),
    # C: order and shipment to invoice
    _rule(Code.INVOICE_QTY_MISMATCH, "invoice.quantity@1", MEDIUM, CLERK, Kind.BILLING),
    _rule(Code.PRICE_MISMATCH, "invoice.price@1", MEDIUM, SALES, Kind.BILLING),
    _rule(Code.TAX_MISMATCH, "invoice.tax@1", MEDIUM, CLERK, Kind.BILLING),
    _rule(Code.FREIGHT_MISMATCH, "invoice.freight@1", MEDIUM, CLERK, Kind.BILLING),
    _rule(Code.DUPLICATE_INVOICE, "invoice.duplicate@1", HIGH, CLERK, Kind.BILLING),
    _rule(
        Code.UNINVOICED_DELIVERY, "invoice.uninvoiced@1", MEDIUM, CLERK, Kind.BILLING
    ),
    # D: invoice to payment
    _rule(Code.ROUNDING, "payment.rounding@1", LOW, CLERK, Kind.CASH, auto=True),
    _rule(Code.FX_DIFFERENCE, "payment.fx@1", LOW, CLERK, Kind.CASH),
    _rule(Code.MISSING_PAYMENT, "payment.missing@1", HIGH, CLERK, Kind.CASH),
    _rule(Code.SHORT_PAYMENT, "payment.short@1", MEDIUM, CLERK, Kind.CASH),
    _rule(Code.OVER_PAYMENT, "payment.over@1", MEDIUM, CLERK, Kind.CASH),
    _rule(Code.PAYMENT_NO_ORDER, "payment.no_order@1", HIGH, CLERK, Kind.CASH),
    _rule(Code.UNAPPLIED_PAYMENT, "payment.unapplied@1", MEDIUM, CLERK, Kind.CASH),
    # F: returns
    _rule(
        Code.RETURN_NOT_CREDITED, "return.not_credited@1", MEDIUM, CLERK, Kind.RETURN
    ),
    _rule(
        Code.CREDIT_NOT_REFUNDED, "return.not_refunded@1", MEDIUM, CLERK, Kind.RETURN
    ),
    # Purchase side: three-way match per bill line
    _rule(Code.BILL_NO_PO, "purchase.bill_no_po@1", HIGH, CLERK, Kind.PURCHASE),
    _rule(
        Code.BILL_BEFORE_RECEIPT,
        "purchase.bill_before_receipt@1",
        MEDIUM,
        CLERK,
        Kind.PURCHASE,
    ),
    _rule(
        Code.BILL_QTY_OVER_RECEIVED,
        "purchase.bill_over_received@1",
        HIGH,
        CLERK,
        Kind.PURCHASE,
    ),
    _rule(
        Code.BILL_PRICE_VARIANCE,
        "purchase.bill_price@1",
        MEDIUM,
        CLERK,
        Kind.PURCHASE,
    ),
    _rule(
        Code.RECEIPT_SHORT, "purchase.receipt_short@1", MEDIUM, WAREHOUSE, Kind.PURCHASE
    ),
    _rule(
        Code.RECEIPT_REJECTED,
        "purchase.receipt_rejected@1",
        MEDIUM,
        WAREHOUSE,
        Kind.PURCHASE,
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in TAXONOMY}
# The write-off rule when a payment residual is inside the payment tolerance
# but larger than rounding: no case, the match is in tolerance.
WRITEOFF_RULE = "payment.writeoff@1"
