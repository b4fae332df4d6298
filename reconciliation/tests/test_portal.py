"""The customer portal: what carla (customer of the order's company) sees and does.

bruno is a customer of another company; sally the sales rep, wanda the
warehouse worker, fiona the finance clerk and olga (HR) are staff. Internal
values (case explanations, notes, the sales rep, match explanations, other
customers' orders) are asserted absent from every portal page.
"""

import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import Evidence, ProblemReport, ReceiptConfirmation
from reconciliation import credit_proposals
from reconciliation.matching import run_matching
from reconciliation.models import Discrepancy, Invoice, Shipment
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

State = Discrepancy.State
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
INTERNAL_NOTE = "Customer is on credit watch"


def close_file(response) -> None:
    """Close the served file without ending the request, which closes the DB."""
    for closer in response._resource_closers:
        closer()


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def other_customer(other_party):
    return make_person("bruno", Role.CUSTOMER, customer=other_party)


@pytest.fixture
def stranger(db):
    return make_person("olga", Role.HR)


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, carrier="DHL", tracking_no="JD0146")
    return order


@pytest.fixture
def invoice(order):
    return create_invoice(order=order)


@pytest.fixture
def short_payment(order, invoice, sales_rep):
    create_payment(invoice=invoice, amount="279.97")
    case = make_case(order, invoice=invoice)
    case.resolution_note = INTERNAL_NOTE
    case.save()
    credit_proposals.propose_credit_note(
        actor=sales_rep,
        case_id=case.pk,
        amount=Decimal("83.63"),
        message="We credit the short payment.",
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def foreign_order(other_party):
    return create_order(company=other_party.company, customer=other_party)


def test_home_lists_only_the_customers_company_orders(customer, order, foreign_order):
    page = signed_in(customer).get("/reconciliation/portal/")

    assert [o.number for o in page.context["orders"]] == [order.number]
    assert foreign_order.number not in page.content.decode()


def test_order_page_lists_an_offer_not_reported(
    customer, other_customer, order, short_payment
):
    # The customer reported nothing; the offer came from the sales rep.
    url = f"/reconciliation/portal/orders/{order.number}/"
    page = signed_in(customer).get(url)

    assert page.context["cases"] == [(short_payment, "A resolution is proposed to you")]
    assert f"/reconciliation/portal/cases/{short_payment.pk}/" in page.content.decode()
    assert signed_in(other_customer).get(url).status_code == 404


def test_order_page_shows_tracking_and_posted_documents_only(
    customer, order, short_payment, sales_rep
):
    page = signed_in(customer).get(f"/reconciliation/portal/orders/{order.number}/")
    html = page.content.decode()

    assert page.status_code == 200
    assert "JD0146" in html
    assert [i.number for i in page.context["invoices"]] == [
        short_payment.invoice.number
    ]
    # The draft credit note, the case, its notes and the rep stay internal.
    for hidden in (
        "CN-",
        short_payment.explanation,
        INTERNAL_NOTE,
        sales_rep.display_name,
        "payment.short@1",
        "Why: what the matching compared",
    ):
        assert hidden not in html


def test_accepting_checks_order(
    customer, short_payment, django_capture_on_commit_callbacks
):
    order = short_payment.order
    assert order.match_fingerprint == ""
    (proposal,) = short_payment.proposals.all()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        signed_in(customer).post(
            f"/reconciliation/portal/proposals/{proposal.pk}/accept/"
        )

    order.refresh_from_db()
    assert len(callbacks) == 1
    assert order.match_fingerprint != ""


def test_statement_runs_a_balance_in_decimal(customer, short_payment):
    page = signed_in(customer).get("/reconciliation/portal/statement/")

    (statement,) = page.context["statements"]
    assert statement.currency == "USD"
    assert [
        (line.label, line.debit, line.credit, line.balance) for line in statement.lines
    ] == [
        ("Invoice", Decimal("363.6000"), Decimal(0), Decimal("363.6000")),
        ("Payment", Decimal(0), Decimal("279.9700"), Decimal("83.6300")),
    ]
    assert "83.63 USD" in page.content.decode()


@pytest.mark.parametrize(
    ("paid", "label", "debit", "credit"),
    [
        ("362.00", "Written off", "0", "1.60"),
        ("364.00", "Overpayment kept", "0.40", "0"),
    ],
)
def test_statement_counts_write_offs(
    customer, order, invoice, settings, paid, label, debit, credit
):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "2.00"
    create_payment(invoice=invoice, amount=paid)
    run_matching(company=order.company, as_of=timezone.localdate())

    page = signed_in(customer).get("/reconciliation/portal/statement/")

    (statement,) = page.context["statements"]
    assert [line.label for line in statement.lines] == ["Invoice", "Payment", label]
    last = statement.lines[-1]
    assert last.document == invoice.number
    assert last.debit == Decimal(debit)
    assert last.credit == Decimal(credit)
    assert statement.balance == Decimal(0)


def test_customer_accepts_the_credit_note_and_the_case_is_resolved(
    customer, short_payment, sales_rep
):
    client = signed_in(customer)
    case_page = client.get(f"/reconciliation/portal/cases/{short_payment.pk}/")
    html = case_page.content.decode()
    (proposal,) = case_page.context["proposals"]
    assert "We credit the short payment." in html
    assert INTERNAL_NOTE not in html
    assert short_payment.explanation not in html

    client.post(f"/reconciliation/portal/proposals/{proposal.pk}/accept/")

    short_payment.refresh_from_db()
    credit_note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert credit_note.state == Invoice.State.POSTED
    assert (
        short_payment.state,
        short_payment.resolution_code,
        short_payment.resolved_by,
    ) == (State.RESOLVED, "credit_note", sales_rep)
    accepted = AuditEvent.objects.get(action="proposal.accepted")
    assert (accepted.actor, accepted.source) == (customer, AuditEvent.Source.SCREEN)
    statement = client.get("/reconciliation/portal/statement/").context["statements"]
    assert statement[0].balance == Decimal("0.0000")


def test_rejecting_needs_a_reason_and_returns_the_case_to_the_rep(
    customer, short_payment
):
    client = signed_in(customer)
    proposal = short_payment.proposals.get()

    response = client.post(
        f"/reconciliation/portal/proposals/{proposal.pk}/reject/",
        {"reason": ""},
        follow=True,
    )
    assert messages_of(response) == [
        "Say why you reject the proposal, so we can do better."
    ]

    client.post(
        f"/reconciliation/portal/proposals/{proposal.pk}/reject/",
        {"reason": "The fee was the bank's"},
    )
    short_payment.refresh_from_db()
    proposal.refresh_from_db()
    assert (short_payment.state, proposal.state) == (State.IN_PROGRESS, "rejected")
    assert proposal.credit_note.state == Invoice.State.CANCELLED


def test_rejection_reason_loses_control_characters(customer, short_payment):
    proposal = short_payment.proposals.get()

    response = signed_in(customer).post(
        f"/reconciliation/portal/proposals/{proposal.pk}/reject/",
        {"reason": "The fee was\x00 the bank's\u200b"},
    )

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.customer_reason == "The fee was the bank's"
    short_payment.refresh_from_db()
    assert short_payment.state == State.IN_PROGRESS


def test_rejection_reason_is_measured_after_cleaning(customer, short_payment):
    proposal = short_payment.proposals.get()
    url = f"/reconciliation/portal/proposals/{proposal.pk}/reject/"
    client = signed_in(customer)

    too_long = client.post(url, {"reason": "x" * 2001}, follow=True)

    assert messages_of(too_long) == [
        "Your reason is 2,001 characters long: shorten it to at most 2,000, and "
        "attach details to a problem report if you need more room."
    ]
    proposal.refresh_from_db()
    assert proposal.state == "awaiting_customer"

    # Invisible characters are removed before the reason is measured.
    client.post(url, {"reason": "\u200b" * 50 + "y" * 2000})

    proposal.refresh_from_db()
    assert proposal.state == "rejected"
    assert proposal.customer_reason == "y" * 2000


def test_customer_confirms_receipt(customer, order):
    shipment = order.shipments.get()

    signed_in(customer).post(f"/reconciliation/portal/shipments/{shipment.pk}/confirm/")

    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.DELIVERED
    assert shipment.lines.get().qty_received == Decimal("10")
    assert ReceiptConfirmation.objects.get().confirmed_by == customer


def test_customer_reports_missing_goods_with_a_photo(
    customer, order, media_root, warehouse, other_customer, sales_rep
):
    shipment_line = order.shipments.get().lines.get()
    photo = SimpleUploadedFile("box.png", PNG_BYTES, content_type="image/png")

    response = signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "missing",
            "line": shipment_line.pk,
            "quantity": "2",
            "message": "Two boxes never came",
            "evidence": photo,
        },
        follow=True,
    )

    assert messages_of(response) == ["Thank you: we have your report and will reply."]
    report = ProblemReport.objects.get()
    case = report.case
    assert (case.code, case.owner_role, case.fingerprint) == (
        "NOT_RECEIVED",
        Role.WAREHOUSE,
        f"NOT_RECEIVED:shipment_line:{shipment_line.pk}",
    )
    shipment_line.refresh_from_db()
    assert shipment_line.qty_received == Decimal("8")
    evidence = Evidence.objects.get()
    assert (evidence.name, evidence.content_type, evidence.size) == (
        "box.png",
        "image/png",
        len(PNG_BYTES),
    )
    url = f"/reconciliation/evidence/{evidence.pk}/"
    served = signed_in(customer).get(url)
    assert b"".join(served.streaming_content) == PNG_BYTES
    close_file(served)
    staff = signed_in(warehouse).get(url)
    assert staff.status_code == 200
    close_file(staff)
    assert signed_in(other_customer).get(url).status_code == 404


def test_long_evidence_name_stored_under_ids(customer, order, media_root):
    # Phones name photos like this; the old storage name put the whole file
    # name after a hash prefix, over the column's 100 characters.
    name = "IMG_20261204_" + "delivery-at-dock-7-crushed-boxes-" * 3 + "final.png"
    shipment_line = order.shipments.get().lines.get()

    response = signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "damaged",
            "line": shipment_line.pk,
            "quantity": "1",
            "message": "Crushed boxes",
            "evidence": SimpleUploadedFile(name, PNG_BYTES, "image/png"),
        },
    )

    assert response.status_code == 302
    evidence = Evidence.objects.get()
    digest = hashlib.sha256(PNG_BYTES).hexdigest()
    assert evidence.file.name == f"portal/evidence/{evidence.report_id}/{digest}"
    assert evidence.name == name
    served = signed_in(customer).get(f"/reconciliation/evidence/{evidence.pk}/")
    assert served["Content-Disposition"] == f'attachment; filename="{name}"'
    close_file(served)


def test_problem_message_loses_control_characters(customer, order):
    shipment_line = order.shipments.get().lines.get()

    response = signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "missing",
            "line": shipment_line.pk,
            "quantity": "1",
            "message": "Box\x00 missing\r\nat the dock",
        },
    )

    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert report.message == "Box missing\nat the dock"
    assert report.case.explanation.endswith(": Box missing\nat the dock")


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (
            "0.00001",
            "Quantity '0.00001' has 5 decimal places; the limit is 4, so enter a "
            "multiple of 0.0001.",
        ),
        ("1,5", "Quantity '1,5' uses a decimal comma: write it with a point, as 1.5."),
        (
            "1,000",
            "Quantity '1,000' is ambiguous, because a comma can separate thousands "
            "or decimals: write 1000 or 1.000.",
        ),
    ],
    ids=["finer-than-stored", "decimal-comma", "ambiguous-comma"],
)
def test_problem_quantity_too_fine_rejected(customer, order, quantity, message):
    shipment_line = order.shipments.get().lines.get()

    response = signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "missing",
            "line": shipment_line.pk,
            "quantity": quantity,
            "message": "One screw short",
        },
    )

    assert response.status_code == 422
    assert messages_of(response) == [message]
    assert not ProblemReport.objects.exists()
    assert not Discrepancy.objects.exists()


def test_evidence_that_is_not_a_photo_pdf_or_text_writes_nothing(
    customer, order, media_root
):
    shipment_line = order.shipments.get().lines.get()
    archive = SimpleUploadedFile("box.png", b"PK\x05\x06" + bytes(18))

    response = signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "damaged",
            "line": shipment_line.pk,
            "quantity": "1",
            "message": "Crushed",
            "evidence": archive,
        },
        follow=True,
    )

    (message,) = messages_of(response)
    assert message.startswith("box.png")
    assert not ProblemReport.objects.exists()
    assert not Discrepancy.objects.exists()
    assert list(media_root.rglob("*.png")) == []


def test_evidence_above_the_size_limit_is_refused(
    customer, order, media_root, settings
):
    settings.PORTAL_MAX_EVIDENCE_BYTES = 10
    invoice = create_invoice(order=order)

    response = signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "wrong_price",
            "invoice": invoice.pk,
            "message": "Price should be 30",
            "evidence": SimpleUploadedFile("quote.png", PNG_BYTES),
        },
        follow=True,
    )

    assert messages_of(response) == [
        f"quote.png is {len(PNG_BYTES)} bytes; the limit is 10 bytes. Choose a "
        "smaller file (for a photo, save it at a lower resolution) and upload it "
        "again."
    ]
    assert not ProblemReport.objects.exists()


def test_wrong_price_report_opens_a_price_case_for_the_sales_rep(
    customer, order, sales_rep
):
    invoice = create_invoice(order=order)

    signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {"kind": "wrong_price", "invoice": invoice.pk, "message": "Quoted 30.00"},
    )

    case = Discrepancy.objects.get()
    assert (case.code, case.owner_role, case.invoice) == (
        "PRICE_MISMATCH",
        Role.SALES_REP,
        invoice,
    )
    assert (
        signed_in(sales_rep).get(f"/reconciliation/work/cases/{case.pk}/").status_code
        == 200
    )


def test_customer_of_another_company_gets_404_everywhere(
    other_customer, order, short_payment
):
    client = signed_in(other_customer)
    shipment = order.shipments.get()
    proposal = short_payment.proposals.get()

    for url in (
        f"/reconciliation/portal/orders/{order.number}/",
        f"/reconciliation/portal/orders/{order.number}/problem/",
        f"/reconciliation/portal/cases/{short_payment.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/reconciliation/portal/shipments/{shipment.pk}/confirm/"
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/reconciliation/portal/proposals/{proposal.pk}/accept/"
        ).status_code
        == 404
    )
    proposal.refresh_from_db()
    assert proposal.state == "awaiting_customer"
    page = client.get("/reconciliation/portal/statement/")
    assert page.context["statements"] == []


@pytest.mark.parametrize(
    "person", ["warehouse", "sales_rep", "clerk", "manager", "stranger"]
)
def test_staff_do_not_use_the_portal(person, request, order):
    client = signed_in(request.getfixturevalue(person))

    assert client.get("/reconciliation/portal/").status_code == 403
    assert (
        client.get(f"/reconciliation/portal/orders/{order.number}/").status_code == 403
    )


def test_anonymous_visitors_are_sent_to_sign_in(order):
    response = Client().get("/reconciliation/portal/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_case_the_customer_never_heard_of_is_404(customer, order, invoice):
    internal = make_case(order, invoice=invoice)

    response = signed_in(customer).get(f"/reconciliation/portal/cases/{internal.pk}/")

    assert response.status_code == 404
