"""Missing and damaged reports never add up to more than a shipment line shipped.

Each report adds to what is already reported on the line, so a report is
checked against the shipped quantity less the missing, damaged and returned
quantities reported before it.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from portal.models import ProblemReport
from portal.services import ProblemInput, Repeat, confirm_receipt, report_problem
from reconciliation.models import (
    Discrepancy,
    ReturnAuthorization,
    ReturnLine,
    ShipmentLine,
)
from reconciliation.tests.factories import create_order, create_shipment
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

Kind = ProblemReport.Kind


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-QTY-1")
    return order


def shipment_line(order) -> ShipmentLine:
    return ShipmentLine.objects.get(shipment__order=order)


def report(
    customer,
    order,
    kind: str,
    qty: str,
    message: str = "Counted at the dock",
    repeat: str = "",
) -> ProblemReport:
    return report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=kind,
            message=message,
            shipment_line=shipment_line(order),
            quantity=Decimal(qty),
            repeat=repeat,
        ),
        evidence=[],
    )


def quantities(order) -> tuple[Decimal | None, Decimal]:
    line = shipment_line(order)
    return line.qty_received, line.qty_damaged


def test_damaged_then_missing_over_shipped_rejected(customer, order):
    report(customer, order, Kind.DAMAGED, "8")

    with pytest.raises(WorkError) as error:
        report(customer, order, Kind.MISSING, "5")

    assert str(error.value) == (
        "You reported 5 missing, but shipment SH-QTY-1, line 1 shipped 10 with "
        "0 already reported missing and 8 damaged: at most 2 can still be "
        "reported. Enter a smaller quantity, or write to us if an earlier "
        "report was wrong."
    )
    assert quantities(order) == (None, Decimal("8"))
    assert ProblemReport.objects.count() == 1


def test_missing_then_damaged_over_shipped_rejected(customer, order):
    report(customer, order, Kind.MISSING, "8")

    with pytest.raises(WorkError) as error:
        report(customer, order, Kind.DAMAGED, "5")

    assert str(error.value) == (
        "You reported 5 damaged, but shipment SH-QTY-1, line 1 shipped 10 with "
        "8 already reported missing and 0 damaged: at most 2 can still be "
        "reported. Enter a smaller quantity, or write to us if an earlier "
        "report was wrong."
    )
    assert quantities(order) == (Decimal("2"), Decimal("0"))


def test_reports_add_up_to_shipped(customer, order):
    report(customer, order, Kind.DAMAGED, "3")
    report(customer, order, Kind.MISSING, "4")
    report(customer, order, Kind.DAMAGED, "2", repeat=Repeat.MORE)
    report(customer, order, Kind.MISSING, "1", repeat=Repeat.MORE)

    assert quantities(order) == (Decimal("0"), Decimal("5"))
    with pytest.raises(WorkError, match="at most 0 can still be reported"):
        report(customer, order, Kind.MISSING, "2", "Two more short", Repeat.MORE)


def test_second_damaged_report_adds_to_first(customer, order):
    report(customer, order, Kind.DAMAGED, "2")
    report(customer, order, Kind.DAMAGED, "3", repeat=Repeat.MORE)

    assert quantities(order) == (None, Decimal("5"))
    case = Discrepancy.objects.get()
    assert case.fingerprint == f"DAMAGED:shipment_line:{shipment_line(order).pk}"


def test_damaged_after_receipt_lowers_received(customer, order):
    confirm_receipt(customer=customer, shipment=order.shipments.get())

    report(customer, order, Kind.DAMAGED, "4")

    assert quantities(order) == (Decimal("6"), Decimal("4"))


def test_stale_line_from_view_is_read_again(customer, order):
    stale = shipment_line(order)
    report(customer, order, Kind.MISSING, "7")

    with pytest.raises(WorkError, match="at most 3 can still be reported"):
        report_problem(
            customer=customer,
            order=order,
            problem=ProblemInput(
                kind=Kind.DAMAGED,
                message="Crushed",
                shipment_line=stale,
                quantity=Decimal("4"),
            ),
            evidence=[],
        )
    assert quantities(order) == (Decimal("3"), Decimal("0"))


def test_received_return_counts_as_reported(customer, order):
    line = shipment_line(order)
    authorization = ReturnAuthorization.objects.create(
        company=order.company,
        number="RMA-QTY-1",
        order=order,
        state=ReturnAuthorization.State.RECEIVED,
        received_at=date(2026, 3, 2),
    )
    ReturnLine.objects.create(
        authorization=authorization,
        order_line=line.order_line,
        qty_received=Decimal("6"),
        qty_accepted=Decimal("6"),
    )

    with pytest.raises(WorkError) as error:
        report(customer, order, Kind.MISSING, "5")

    assert str(error.value) == (
        "You reported 5 missing, but shipment SH-QTY-1, line 1 shipped 10 with "
        "0 already reported missing and 0 damaged, and 6 more are returned or "
        "reported on other shipments of this order line: at most 4 can still "
        "be reported. Enter a smaller quantity, or write to us if an earlier "
        "report was wrong."
    )
    report(customer, order, Kind.MISSING, "4")
    assert quantities(order) == (Decimal("6"), Decimal("0"))


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        ("0", "The quantity is 0: enter how many are missing, more than 0."),
        ("0.0000", "The quantity is 0: enter how many are missing, more than 0."),
        (
            "-1",
            "A quantity of -1 is negative: enter how many are missing, more than 0.",
        ),
        (
            "-2.5000",
            "A quantity of -2.5 is negative: enter how many are missing, more than 0.",
        ),
    ],
)
def test_quantity_not_above_zero_rejected(customer, order, qty, message):
    with pytest.raises(WorkError) as error:
        report(customer, order, Kind.MISSING, qty)

    assert str(error.value) == message
    assert not ProblemReport.objects.exists()


def test_quantity_finer_than_stored_rejected(customer, order):
    with pytest.raises(WorkError) as error:
        report(customer, order, Kind.MISSING, "0.00001")

    assert str(error.value) == (
        "A quantity of 0.00001 has more than 4 decimal places: enter a multiple "
        "of 0.0001."
    )
    assert not ProblemReport.objects.exists()
    assert not Discrepancy.objects.exists()


def test_missing_quantity_rejected(customer, order):
    with pytest.raises(WorkError) as error:
        report_problem(
            customer=customer,
            order=order,
            problem=ProblemInput(
                kind=Kind.DAMAGED,
                message="Crushed",
                shipment_line=shipment_line(order),
                quantity=None,
            ),
            evidence=[],
        )

    assert str(error.value) == ("The quantity is missing: enter how many are damaged.")
    assert not ProblemReport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_racing_reports_cannot_both_pass(customer_party, sales_rep, customer):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def send(kind: str) -> None:
        try:
            start.wait()
            report(customer, order, kind, "6")
        except Exception as error:  # counted by the asserts below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(kind,))
        for kind in (Kind.MISSING, Kind.DAMAGED)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert ProblemReport.objects.count() == 1
    assert len(errors) == 1, errors
    assert isinstance(errors[0], WorkError), errors
    assert quantities(order) in [
        (Decimal("4"), Decimal("0")),
        (None, Decimal("6")),
    ]
