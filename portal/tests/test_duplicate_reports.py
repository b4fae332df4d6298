"""The same problem report sent twice in a few minutes is stored once.

A double click or a retried request sends the same report again. It must not
add the quantity to the case twice or notify the handlers twice. A repeat of
the same problem while its case is open, answered as the same units, adds
its new evidence and description to the open report instead. The race
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

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of
from library.tests.conftest import PDF_BYTES, PNG_BYTES
from notifications.models import Notification
from portal.models import Evidence, ProblemReport
from portal.services import (
    DUPLICATE_REPORT_WINDOW,
    ProblemInput,
    Repeat,
    check_evidence,
    report_problem,
)
from reconciliation.models import Discrepancy, Invoice, ShipmentLine
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.work import WorkError
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
    repeat: str = "",
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
            repeat=repeat,
        ),
        evidence=check_evidence(uploads),
    )


def damaged_total(order) -> Decimal | None:
    return Discrepancy.objects.get(order=order, code="DAMAGED").actual_value


def report_notices() -> int:
    """Count the notices of new reports; an addition to a report has its own."""
    rows = Notification.objects.filter(kind=Notification.Kind.PROBLEM_REPORTED)
    return rows.exclude(subject_key__contains=":added:").count()


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
    [{"qty": "3", "repeat": Repeat.MORE}, {"kind": Kind.MISSING}],
    ids=["more_units", "kind"],
)
def test_different_report_is_new(customer, order, changes):
    report(customer, order)
    report(customer, order, **changes)

    assert ProblemReport.objects.count() == 2


@pytest.mark.django_db
def test_carla_new_description_joins_open_report(customer, order):
    first = report(customer, order)
    notices = report_notices()

    again = report(customer, order, message="Crushed boxes, wet", repeat=Repeat.SAME)

    assert again.pk == first.pk
    assert ProblemReport.objects.count() == 1
    today = timezone.localdate().isoformat()
    assert again.message == f"Crushed boxes\n\nAdded on {today}: Crushed boxes, wet"
    assert damaged_total(order) == Decimal(2)
    assert line_of(order).qty_damaged == Decimal(2)
    assert report_notices() == notices
    event = AuditEvent.objects.get(action="problem.evidence_added")
    assert event.object_id == str(first.pk)
    assert event.reason == "Crushed boxes, wet"


@pytest.mark.django_db
def test_carla_same_description_again_adds_nothing(customer, order):
    first = report(customer, order)
    report(customer, order, message="Crushed boxes, wet", repeat=Repeat.SAME)
    make_old(first)

    for text in ("Crushed boxes", "Crushed boxes, wet"):
        again = report(customer, order, message=text, repeat=Repeat.SAME)
        assert again.pk == first.pk

    first.refresh_from_db()
    assert first.message.count("Crushed boxes, wet") == 1
    assert AuditEvent.objects.filter(action="problem.evidence_added").count() == 1


def make_old(first: ProblemReport) -> None:
    ProblemReport.objects.filter(pk=first.pk).update(
        reported_at=timezone.now() - DUPLICATE_REPORT_WINDOW - timedelta(seconds=1)
    )


@pytest.mark.django_db
def test_same_report_after_window_while_open_is_kept(customer, order):
    first = report(customer, order)
    make_old(first)

    again = report(customer, order, repeat=Repeat.SAME)

    assert again.pk == first.pk
    assert damaged_total(order) == Decimal(2)
    assert not AuditEvent.objects.filter(action="problem.evidence_added").exists()


@pytest.mark.django_db
def test_same_report_after_case_closed_is_new(customer, order):
    first = report(customer, order)
    make_old(first)
    Discrepancy.objects.filter(pk=first.case_id).update(
        state=Discrepancy.State.RESOLVED
    )

    second = report(customer, order)

    assert second.pk != first.pk
    assert damaged_total(order) == Decimal(4)


@pytest.mark.django_db
def test_other_customer_report_is_new(customer, order, customer_party):
    other = make_person(
        "oskar", Role.CUSTOMER, customer=customer_party, group="customers"
    )
    first = report(customer, order)

    second = report(other, order, repeat=Repeat.MORE)

    assert second.pk != first.pk
    assert second.case_id == first.case_id
    assert damaged_total(order) == Decimal(4)


@pytest.mark.django_db
def test_carla_other_evidence_joins_open_report(customer, order, media_root):
    first = report(customer, order, files=[("box.png", PNG_BYTES)])
    notices = report_notices()
    again = report(customer, order, files=[("box.png", PNG_BYTES)])
    other = report(customer, order, files=[("note.pdf", PDF_BYTES)], repeat=Repeat.SAME)

    assert again.pk == first.pk
    assert other.pk == first.pk
    assert ProblemReport.objects.count() == 1
    assert [item.name for item in first.evidence.all()] == ["box.png", "note.pdf"]
    assert damaged_total(order) == Decimal(2)
    assert report_notices() == notices
    event = AuditEvent.objects.get(action="problem.evidence_added")
    assert event.after["evidence"] == [first.evidence.get(name="note.pdf").sha256]


@pytest.mark.django_db
def test_known_file_is_not_stored_twice(customer, order, media_root):
    first = report(customer, order, files=[("box.png", PNG_BYTES)])
    make_old(first)

    report(
        customer,
        order,
        files=[("box-copy.png", PNG_BYTES), ("note.pdf", PDF_BYTES)],
        repeat=Repeat.SAME,
    )

    assert [item.name for item in first.evidence.all()] == ["box.png", "note.pdf"]
    assert (
        len(list((media_root / "portal" / "evidence" / str(first.pk)).iterdir())) == 2
    )


@pytest.mark.django_db
def test_evidence_past_report_bound_is_rejected(
    customer, order, media_root, monkeypatch
):
    monkeypatch.setattr("portal.services.MAX_REPORT_EVIDENCE_FILES", 1)
    first = report(customer, order, files=[("box.png", PNG_BYTES)])

    with pytest.raises(WorkError) as error:
        report(customer, order, files=[("note.pdf", PDF_BYTES)], repeat=Repeat.SAME)

    reported_on = f"{timezone.localtime(first.reported_at):%Y-%m-%d}"
    assert str(error.value) == (
        f"With these files your open report of {reported_on} on case "
        f"{first.case_id} would have 2 files, and a report keeps at most 1: "
        "nothing was added. Write to us on the case instead."
    )
    assert first.evidence.count() == 1
    assert (
        len(list((media_root / "portal" / "evidence" / str(first.pk)).iterdir())) == 1
    )


@pytest.mark.django_db
def test_form_with_new_file_says_added(customer, order, media_root):
    client = Client()
    client.force_login(customer)
    url = f"/reconciliation/portal/orders/{order.number}/problem/"

    def send(
        name: str, content: bytes, message: str = "Torn carton", repeat: str = ""
    ) -> list[str]:
        form = {
            "kind": Kind.DAMAGED,
            "line": str(line_of(order).pk),
            "quantity": "1",
            "message": message,
            "evidence": SimpleUploadedFile(name, content),
            "repeat": repeat,
        }
        return messages_of(client.post(url, form, follow=True))

    first = send("box.png", PNG_BYTES)
    again = send("box.png", PNG_BYTES)
    added = send("note.pdf", PDF_BYTES, repeat=Repeat.SAME)
    with_text = send(
        "label.png", PNG_BYTES + b"label", "Label torn too", repeat=Repeat.SAME
    )

    report_row = ProblemReport.objects.get()
    reported_on = f"{timezone.localtime(report_row.reported_at):%Y-%m-%d}"
    assert first == ["Thank you: we have your report and will reply."]
    assert again == [
        f"We already have this report on order {order.number}, sent on "
        f"{reported_on} (case {report_row.case_id}), so nothing was added."
    ]
    assert added == [
        f"You reported this problem on order {order.number} on {reported_on}, "
        f"and that report (case {report_row.case_id}) is still open, so we added "
        "your new file to it instead of opening a second case."
    ]
    assert with_text == [
        f"You reported this problem on order {order.number} on {reported_on}, "
        f"and that report (case {report_row.case_id}) is still open, so we added "
        "your new file and description to it instead of opening a second case."
    ]
    assert report_row.evidence.count() == 3
    assert damaged_total(order) == Decimal(1)


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


@pytest.mark.django_db
def test_invoice_repeat_joins_open_report(customer, order):
    invoice = create_invoice(order=order, number="INV-DUP-2")
    first = report(customer, order, kind=Kind.WRONG_PRICE, qty=None, invoice=invoice)
    make_old(first)

    again = report(
        customer,
        order,
        kind=Kind.WRONG_PRICE,
        qty=None,
        invoice=invoice,
        message="The list price is 32.00",
    )

    assert again.pk == first.pk
    assert ProblemReport.objects.count() == 1
    assert again.message.endswith(": The list price is 32.00")


@pytest.mark.django_db(transaction=True)
def test_parallel_files_join_one_report(customer, order, media_root):
    url = f"/reconciliation/portal/orders/{order.number}/problem/"
    report(customer, order, qty="1", message="Photos from the dock")
    numbers = iter(range(5))

    def submit() -> int:
        number = next(numbers)
        client = Client()
        client.force_login(customer)
        form = {
            "kind": Kind.DAMAGED,
            "line": str(line_of(order).pk),
            "quantity": "1",
            "message": "Photos from the dock",
            "evidence": SimpleUploadedFile(
                f"note{number}.txt", f"box {number}".encode()
            ),
            "repeat": Repeat.SAME,
        }
        return client.post(url, form).status_code

    statuses = run_together(5, submit)

    assert statuses == [302] * 5
    assert ProblemReport.objects.count() == 1
    assert Evidence.objects.count() == 5
    assert damaged_total(order) == Decimal(1)


@pytest.mark.django_db
def test_added_file_notifies_case_handlers(customer, order, outsider, media_root):
    first = report(customer, order, files=[("box.png", PNG_BYTES)])

    report(customer, order, files=[("note.pdf", PDF_BYTES)], repeat=Repeat.SAME)

    added = Notification.objects.filter(subject_key__contains=":added:")
    assert list(added.values_list("recipient__username", "message")) == [
        (
            "otto",
            f"Carla Tester added 1 file to the report on order {order.number} "
            f"(Goods damaged): case {first.case_id}.",
        )
    ]
