"""The purchase side: three-way match of purchase order, goods receipt and bill.

Per purchase order line, with quantities summed over every receipt and bill
row that refers to it:

- a posted bill line with no purchase order line is ``BILL_NO_PO``;
- a bill price off the order price beyond the profile is ``BILL_PRICE_VARIANCE``;
- policy "received": billed within received less rejected is fine; billed with
  nothing received yet (and within ordered) is ``BILL_BEFORE_RECEIPT`` (hold);
  anything else is ``BILL_QTY_OVER_RECEIVED``. Policy "ordered": billed within
  ordered is fine, else ``BILL_QTY_OVER_RECEIVED``;
- received less rejected below ordered after the promised date is
  ``RECEIPT_SHORT``; any rejected quantity is ``RECEIPT_REJECTED``.

Duplicate bills are found on (commercial partner, supplier reference), the
reference trimmed and case-folded. A reference reused in another year is a
possible duplicate that a person keeps by giving an override reason. As on
the sales side, the duplicate is the finding: its lines are left out of the
checks above, so its quantities do not count twice and its prices are not
compared again.

A bill price off the order price also makes the order line's three-way
match an exception: ``compared["price_variances"]`` lists each such bill
line with both prices, its quantity and the amount over the order price.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from reconciliation.checks import CheckContext, Finding, MatchRecord, Results
from reconciliation.duplicates import normalize_reference
from reconciliation.models import (
    Company,
    GoodsReceiptLine,
    MatchGroup,
    PurchaseOrderLine,
    VendorBill,
    VendorBillLine,
)
from reconciliation.money import format_price, format_quantity, quantize_money
from reconciliation.taxonomy import RULES
from reconciliation.tolerances import Tolerance

ZERO = Decimal(0)
Outcome = MatchGroup.Outcome


@dataclass
class PurchaseDocuments:
    lines: dict[int, PurchaseOrderLine] = field(default_factory=dict)
    receipt_lines: list[GoodsReceiptLine] = field(default_factory=list)
    bills: dict[int, VendorBill] = field(default_factory=dict)
    bill_lines: list[VendorBillLine] = field(default_factory=list)


def load_purchases(company: Company) -> PurchaseDocuments:
    documents = PurchaseDocuments()
    lines = PurchaseOrderLine.objects.filter(order__company=company)
    for line in lines.select_related("order", "order__vendor", "product"):
        documents.lines[line.pk] = line
    receipts = GoodsReceiptLine.objects.filter(receipt__company=company)
    documents.receipt_lines = list(receipts.select_related("receipt").order_by("pk"))
    bills = VendorBill.objects.filter(company=company, state=VendorBill.State.POSTED)
    for bill in bills.select_related("vendor", "currency").order_by("bill_date", "pk"):
        documents.bills[bill.pk] = bill
    bill_lines = VendorBillLine.objects.filter(bill__in=list(documents.bills))
    documents.bill_lines = list(bill_lines.order_by("pk"))
    return documents


def check_purchases(company: Company, context: CheckContext) -> Results:
    documents = load_purchases(company)
    results = Results()
    duplicates = find_duplicate_bills(documents.bills.values())
    counted = PurchaseDocuments(
        lines=documents.lines,
        receipt_lines=documents.receipt_lines,
        bills=documents.bills,
        bill_lines=[
            line for line in documents.bill_lines if line.bill_id not in duplicates
        ],
    )
    variances = _check_bill_lines(counted, context, results)
    _check_order_lines(counted, context, results, variances)
    _report_duplicate_bills(duplicates, results)
    return results


def _tolerance(context: CheckContext, line: PurchaseOrderLine) -> Tolerance:
    vendor = line.order.vendor
    return context.book.for_scope(
        customer_id=vendor.commercial_partner_id, group=line.product.group
    )


def _check_bill_lines(
    documents: PurchaseDocuments, context: CheckContext, results: Results
) -> dict[int, list[dict[str, str]]]:
    """Report bill lines with no order line or an off price.

    Return the price variances by purchase order line, for its match.
    """
    variances: dict[int, list[dict[str, str]]] = defaultdict(list)
    for bill_line in documents.bill_lines:
        bill = documents.bills[bill_line.bill_id]
        line = documents.lines.get(bill_line.order_line_id or 0)
        if line is None:
            rule = RULES["BILL_NO_PO"]
            results.findings.append(
                Finding(
                    rule=rule,
                    order_id=None,
                    fingerprint=f"{rule.code}:bill_line:{bill_line.pk}",
                    explanation=(
                        f"Bill {bill.number} from {bill.vendor.name} has a line of "
                        f"{bill_line.qty.normalize():f} x "
                        f"{format_price(bill_line.unit_price, minor_units=2)} "
                        f"{bill.currency_id} that no purchase order line covers."
                    ),
                    expected=None,
                    actual=bill_line.qty * bill_line.unit_price,
                    difference=bill_line.qty * bill_line.unit_price,
                    unit=bill.currency_id,
                    vendor_bill_id=bill.pk,
                )
            )
            continue
        tolerance = _tolerance(context, line)
        if tolerance.price_matches(
            expected=line.unit_price, actual=bill_line.unit_price
        ):
            continue
        rule = RULES["BILL_PRICE_VARIANCE"]
        minor = bill.currency.minor_units
        variances[line.pk].append(
            {
                "bill": bill.number,
                "ordered_price": str(line.unit_price),
                "billed_price": str(bill_line.unit_price),
                "qty": str(bill_line.qty),
                "amount": str(
                    quantize_money(
                        (bill_line.unit_price - line.unit_price) * bill_line.qty,
                        minor_units=minor,
                    )
                ),
                "currency": bill.currency_id,
            }
        )
        results.findings.append(
            Finding(
                rule=rule,
                order_id=None,
                fingerprint=f"{rule.code}:bill_line:{bill_line.pk}",
                explanation=(
                    f"Bill {bill.number} charges "
                    f"{format_price(bill_line.unit_price, minor_units=minor)} "
                    f"{bill.currency_id} per unit for {line.order.number} line "
                    f"{line.line_no}, but the purchase order price is "
                    f"{format_price(line.unit_price, minor_units=minor)}."
                ),
                expected=line.unit_price,
                actual=bill_line.unit_price,
                difference=bill_line.unit_price - line.unit_price,
                unit=bill.currency_id,
                purchase_order_id=line.order_id,
                vendor_bill_id=bill.pk,
            )
        )
    return variances


def _check_order_lines(
    documents: PurchaseDocuments,
    context: CheckContext,
    results: Results,
    variances: dict[int, list[dict[str, str]]],
) -> None:
    received: dict[int, Decimal] = defaultdict(Decimal)
    rejected: dict[int, Decimal] = defaultdict(Decimal)
    for receipt_line in documents.receipt_lines:
        received[receipt_line.order_line_id] += receipt_line.qty_received
        rejected[receipt_line.order_line_id] += receipt_line.qty_rejected
    billed: dict[int, Decimal] = defaultdict(Decimal)
    last_bill: dict[int, int] = {}
    for bill_line in documents.bill_lines:
        if bill_line.order_line_id is not None:
            billed[bill_line.order_line_id] += bill_line.qty
            last_bill[bill_line.order_line_id] = bill_line.bill_id

    for line in documents.lines.values():
        tolerance = _tolerance(context, line)
        accepted = received[line.pk] - rejected[line.pk]
        codes = three_way_codes(line, accepted, received[line.pk], billed[line.pk])
        past_promise = context.as_of > line.order.promised_date + timedelta(
            days=tolerance.late_days
        )
        if past_promise and accepted < line.qty_ordered:
            codes.append("RECEIPT_SHORT")
        if rejected[line.pk] > 0:
            codes.append("RECEIPT_REJECTED")
        for code in codes:
            results.findings.append(
                _line_finding(
                    code,
                    line,
                    received[line.pk],
                    rejected[line.pk],
                    billed[line.pk],
                    last_bill.get(line.pk),
                )
            )
        compared: dict[str, object] = {
            "policy": line.purchase_policy,
            "ordered": str(line.qty_ordered),
            "received": str(received[line.pk]),
            "rejected": str(rejected[line.pk]),
            "billed": str(billed[line.pk]),
            "tolerance": tolerance.name,
        }
        residual, unit = billed[line.pk] - accepted, line.product.uom
        prices = variances.get(line.pk, [])
        if prices:
            # Added only for such a line, so a line billed at the order price
            # keeps its stored values.
            compared["price_variances"] = prices
            if residual == 0:
                # The quantities agree, so the money the prices are over is
                # what is left to explain.
                residual = sum((Decimal(price["amount"]) for price in prices), ZERO)
                unit = prices[0]["currency"]
        exception = bool(codes) or bool(prices)
        results.matches.append(
            MatchRecord(
                kind=MatchGroup.Kind.PURCHASE,
                key=f"P2P:line:{line.pk}",
                rule="purchase.three_way@1",
                rule_version=tolerance.version,
                outcome=Outcome.EXCEPTION if exception else Outcome.CLEAN,
                compared=compared,
                residual=residual,
                unit=unit,
                proposed=exception,
                purchase_order_id=line.order_id,
            )
        )


def three_way_codes(
    line: PurchaseOrderLine, accepted: Decimal, received: Decimal, billed: Decimal
) -> list[str]:
    """Return the quantity codes of a purchase order line's three-way match.

    ``billed`` is the line's total over every posted bill, ``accepted`` the
    received quantity less the rejected one.
    """
    if billed <= 0:
        return []
    if line.purchase_policy == PurchaseOrderLine.Policy.ORDERED:
        return [] if billed <= line.qty_ordered else ["BILL_QTY_OVER_RECEIVED"]
    if billed <= accepted:
        return []
    if received <= 0 and billed <= line.qty_ordered:
        return ["BILL_BEFORE_RECEIPT"]
    return ["BILL_QTY_OVER_RECEIVED"]


def _line_finding(
    code: str,
    line: PurchaseOrderLine,
    received: Decimal,
    rejected: Decimal,
    billed: Decimal,
    bill_id: int | None,
) -> Finding:
    uom = line.product.uom
    label = f"purchase order {line.order.number} line {line.line_no}"
    accepted = received - rejected
    ordered = format_quantity(line.qty_ordered, uom)
    if code == "RECEIPT_SHORT":
        text = (
            f"Only {format_quantity(accepted, uom)} of {ordered} received for {label}."
        )
        expected, actual = line.qty_ordered, accepted
    elif code == "RECEIPT_REJECTED":
        text = f"{format_quantity(rejected, uom)} rejected on receipt for {label}."
        expected, actual = ZERO, rejected
    elif code == "BILL_BEFORE_RECEIPT":
        text = (
            f"{format_quantity(billed, uom)} billed for {label} before anything was "
            "received: hold the bill until the goods arrive."
        )
        expected, actual = ZERO, billed
    else:
        basis = (
            "ordered"
            if line.purchase_policy == PurchaseOrderLine.Policy.ORDERED
            else "received and accepted"
        )
        limit = line.qty_ordered if basis == "ordered" else accepted
        text = (
            f"{format_quantity(billed, uom)} billed for {label}, but only "
            f"{format_quantity(limit, uom)} {basis}."
        )
        expected, actual = limit, billed
    rule = RULES[code]
    return Finding(
        rule=rule,
        order_id=None,
        fingerprint=f"{code}:po_line:{line.pk}",
        explanation=text,
        expected=expected,
        actual=actual,
        difference=actual - expected,
        unit=uom,
        purchase_order_id=line.order_id,
        vendor_bill_id=bill_id if code.startswith("BILL") else None,
    )


def find_duplicate_bills(
    bills: Iterable[VendorBill],
) -> dict[int, tuple[VendorBill, list[VendorBill]]]:
    """Map each duplicate bill's id to the bill and the earlier bills it repeats.

    ``bills`` are posted bills with their vendors, in (bill date, id) order.
    A bill repeats an earlier one with the same commercial partner and
    supplier reference (``normalize_reference``), unless a person kept it
    with an override reason. A kept bill still counts as earlier for later
    bills.
    """
    seen: dict[tuple[int, str], list[VendorBill]] = defaultdict(list)
    duplicates: dict[int, tuple[VendorBill, list[VendorBill]]] = {}
    for bill in bills:
        reference = normalize_reference(bill.supplier_ref)
        if not reference:
            continue
        key = (bill.vendor.commercial_partner_id, reference)
        earlier = list(seen[key])
        seen[key].append(bill)
        if earlier and not bill.duplicate_override_reason:
            duplicates[bill.pk] = (bill, earlier)
    return duplicates


def _report_duplicate_bills(
    duplicates: dict[int, tuple[VendorBill, list[VendorBill]]], results: Results
) -> None:
    """Flag bills whose (commercial partner, reference) an earlier bill has."""
    rule = RULES["DUPLICATE_INVOICE"]
    for bill, earlier in duplicates.values():
        names = ", ".join(
            f"{other.number} of {other.bill_date.isoformat()}" for other in earlier
        )
        other_year = all(
            other.bill_date.year != bill.bill_date.year for other in earlier
        )
        text = (
            f"Bill {bill.number} from {bill.vendor.name} has supplier reference "
            f"{bill.supplier_ref!r}, which bill {names} already has."
        )
        if other_year:
            text += (
                " It was used in another year, so this may be a reused number: "
                "keep the bill with an override reason if it is."
            )
        results.findings.append(
            Finding(
                rule=rule,
                order_id=None,
                fingerprint=f"{rule.code}:bill:{bill.pk}",
                explanation=text,
                expected=None,
                actual=None,
                difference=None,
                unit=bill.currency_id,
                purchase_order_id=bill.purchase_order_id,
                vendor_bill_id=bill.pk,
            )
        )
