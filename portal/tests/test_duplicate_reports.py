"""The same problem report sent twice in a few minutes is stored once.

A double click or a retried request sends the same report again. It must not
add the quantity to the case twice or notify the handlers twice. The race
tests start their writers together on a barrier, each on its own database
connection: on PostgreSQL the order's row lock makes the later writers wait
for the first commit and then find its report.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.test import Client
from django.utils import timezone

from library.tests.conftest import PDF_BYTES, PNG_BYTES
from notifications.models import Notification
from portal.models import Evidence, ProblemReport
from portal.services import (
    DUPLICATE_REPORT_WINDOW,
    ProblemInput,
    check_evidence,
    report_problem,
)
from reconciliation.models import Discrepancy, Invoice, ShipmentLine
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)
from social.tests.test_duplicate_posts import run_together

Kind = ProblemReport.Kind


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-DUP-1")
    return order


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def line_of(order) -> ShipmentLine:
    return ShipmentLine.objects.get(shipment__order=order)


def report(
    customer,
    order,
    *,
    kind: str = Kind.DAMAGED,
    qty: str | None = "2",
    message: str = "Crushed boxes",
    invoice: Invoice | None = None,
    files: list[tuple[str, bytes]] | None = None,
) -> ProblemReport:
    uploads: list[UploadedFile[bytes]] = [
        SimpleUploadedFile(name, content) for name, content in files or []
    ]
    return report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=kind,
            message=message,
            shipment_line=None if invoice else line_of(order),
            quantity=Decimal(qty) if qty else None,
            invoice=invoice,
        ),
        evidence=check_evidence(uploads),
    )


def damaged_total(order) -> Decimal | None:
    return Discrepancy.objects.get(order=order, code="DAMAGED").actual_value


def report_notices() -> int:
    return Notification.objects.filter(kind=Notification.Kind.PROBLEM_REPORTED).count()


@pytest.mark.django_db
def test_second_report_returns_first(customer, order, sales_rep):
    first = report(customer, order)
    notices = report_notices()
    again = report(customer, order)

    assert again.pk == first.pk
    assert ProblemReport.objects.count() == 1
    assert damaged_total(order) == Decimal(2)
    assert line_of(order).qty_damaged == Decimal(2)
    assert notices > 0
    assert report_notices() == notices


@pytest.mark.django_db
def test_missing_report_twice_counts_once(customer, order):
    report(customer, order, kind=Kind.MISSING, qty="1")
    report(customer, order, kind=Kind.MISSING, qty="1")

    case = Discrepancy.objects.get(order=order, code="NOT_RECEIVED")
    assert case.actual_value == Decimal(9)
    assert ProblemReport.objects.count() == 1


@pytest.mark.django_db
def test_invoice_report_twice_is_one(customer, order):
    invoice = create_invoice(order=order, number="INV-DUP-1")

    first = report(customer, order, kind=Kind.WRONG_PRICE, qty=None, invoice=invoice)
    again = report(customer, order, kind=Kind.WRONG_PRICE, qty=None, invoice=invoice)

    assert again.pk == first.pk
    assert ProblemReport.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [{"qty": "3"}, {"message": "Crushed boxes, wet"}, {"kind": Kind.MISSING}],
    ids=["quantity", "message", "kind"],
)
def test_different_report_is_new(customer, order, changes):
    report(customer, order)
    report(customer, order, **changes)

    assert ProblemReport.objects.count() == 2


@pytest.mark.django_db
def test_same_report_after_window_is_new(customer, order):
    first = report(customer, order)
    ProblemReport.objects.filter(pk=first.pk).update(
        reported_at=timezone.now() - DUPLICATE_REPORT_WINDOW - timedelta(seconds=1)
    )
    second = report(customer, order)

    assert second.pk != first.pk
    assert damaged_total(order) == Decimal(4)


@pytest.mark.django_db
def test_other_evidence_is_new_report(customer, order, media_root):
    first = report(customer, order, files=[("box.png", PNG_BYTES)])
    again = report(customer, order, files=[("box.png", PNG_BYTES)])
    other = report(customer, order, files=[("note.pdf", PDF_BYTES)])

    assert again.pk == first.pk
    assert other.pk != first.pk
    assert Evidence.objects.count() == 2
    assert damaged_total(order) == Decimal(4)


@pytest.mark.django_db
def test_form_sent_twice_makes_one_report(customer, order):
    client = Client()
    client.force_login(customer)
    url = f"/reconciliation/portal/orders/{order.number}/problem/"
    form = {
        "kind": Kind.DAMAGED,
        "line": str(line_of(order).pk),
        "quantity": "1",
        "message": "Torn carton",
    }

    statuses = [client.post(url, form).status_code for _ in range(2)]

    assert statuses == [302, 302]
    assert ProblemReport.objects.count() == 1
    assert damaged_total(order) == Decimal(1)


@pytest.mark.django_db(transaction=True)
def test_parallel_form_posts_make_one_report(customer, order):
    url = f"/reconciliation/portal/orders/{order.number}/problem/"
    form = {
        "kind": Kind.DAMAGED,
        "line": str(line_of(order).pk),
        "quantity": "1",
        "message": "Clicked five times",
    }

    def submit() -> int:
        client = Client()
        client.force_login(customer)
        return client.post(url, form).status_code

    statuses = run_together(5, submit)

    assert statuses == [302] * 5
    assert ProblemReport.objects.count() == 1
    assert damaged_total(order) == Decimal(1)
    assert line_of(order).qty_damaged == Decimal(1)
