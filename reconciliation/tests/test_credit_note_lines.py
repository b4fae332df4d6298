"""Credit notes a sales rep proposes get lines that say what they credit.

Named people: sally (sales rep on the order), carla (customer of the order's
company). Order lines: 1 is 10 Chai at 36.36, 2 is 4 Chang at 41.815.
"""

from decimal import Decimal

import pytest

from core.models import AuditEvent
from core.testing import signed_in
from portal.models import ResolutionProposal
from portal.selectors import statement_of_account
from portal.services import accept_proposal
from reconciliation.credit_notes import plan_credit_lines
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Invoice
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36"), ("4", "41.815")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    return order


@pytest.fixture
def invoice(order):
    return create_invoice(order=order)


def case_on_line(order, invoice, code, line_no):
    return make_case(
        order, code=code, invoice=invoice, order_line=order.lines.get(line_no=line_no)
    )


def planned(case, invoice, amount):
    return [
        (line.product.sku, line.qty, line.unit_price, line.subtotal, line.description)
        for line in plan_credit_lines(
            case=case, invoice=invoice, amount=Decimal(amount)
        )
    ]


def sku(order, line_no):
    return order.lines.get(line_no=line_no).product.sku


def test_damaged_goods_credit_whole_units(order, invoice):
    case = case_on_line(order, invoice, "DAMAGED", 2)
    assert planned(case, invoice, "83.63") == [
        (
            sku(order, 2),
            Decimal(2),
            Decimal("41.8150"),
            Decimal("83.63"),
            f"2 units of {order.lines.get(line_no=2).product.name} from invoice "
            f"{invoice.number}",
        )
    ]


def test_price_case_credits_difference_per_unit(order, invoice):
    case = case_on_line(order, invoice, "PRICE_MISMATCH", 1)
    name = order.lines.get(line_no=1).product.name
    assert planned(case, invoice, "13.60") == [
        (
            sku(order, 1),
            Decimal(10),
            Decimal("1.3600"),
            Decimal("13.60"),
            f"Price difference of 1.36 per unit on 10 units of {name}, invoice "
            f"{invoice.number}",
        )
    ]


def test_uneven_amount_credits_one_line_of_money(order, invoice):
    case = case_on_line(order, invoice, "DAMAGED", 2)
    name = order.lines.get(line_no=2).product.name
    assert planned(case, invoice, "50.00") == [
        (
            sku(order, 2),
            Decimal(1),
            Decimal("50.00"),
            Decimal("50.00"),
            f"Damaged on delivery: credit on {name} of invoice {invoice.number}",
        )
    ]


def test_case_without_line_spreads_over_invoice(order, invoice):
    # 363.60 and 167.26 billed: 100.00 splits as 68.49 and the rest, 31.51.
    case = make_case(order, invoice=invoice)
    lines = planned(case, invoice, "100.00")
    assert [(line[0], line[1], line[3]) for line in lines] == [
        (sku(order, 1), Decimal(1), Decimal("68.49")),
        (sku(order, 2), Decimal(1), Decimal("31.51")),
    ]
    assert lines[0][4].startswith("Share of the 100.00 USD credit on ")


def test_header_only_invoice_gives_no_lines(order):
    header_only = Invoice.objects.create(
        company=order.company,
        number="INV-H",
        customer=order.customer,
        order=order,
        currency_id="USD",
        invoice_date=order.order_date,
        due_date=order.promised_date,
        amount_total=Decimal("100.00"),
        amount_residual=Decimal("100.00"),
    )
    case = make_case(order, invoice=header_only)
    assert planned(case, header_only, "10.00") == []


def test_proposal_creates_lines_and_audits_them(order, invoice, sales_rep):
    case = case_on_line(order, invoice, "DAMAGED", 2)
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )
    credit_note = proposal.credit_note
    assert list(
        credit_note.lines.values_list("qty", "unit_price", "subtotal", "order_line")
    ) == [
        (
            Decimal(2),
            Decimal("41.8150"),
            Decimal("83.63"),
            order.lines.get(line_no=2).pk,
        )
    ]
    event = AuditEvent.objects.get(action="credit_note.proposed")
    assert event.after["lines"] == [
        {
            "product": sku(order, 2),
            "description": credit_note.lines.get().description,
            "qty": "2.0000",
            "unit_price": "41.8150",
            "subtotal": "83.6300",
            "amount_only": False,
        }
    ]


def test_money_credit_audits_its_lines_as_amounts(short_payment_case, sales_rep):
    proposal = propose_credit_note(
        actor=sales_rep,
        case_id=short_payment_case.pk,
        amount=Decimal("40.00"),
        message="Sorry",
    )

    event = AuditEvent.objects.get(action="credit_note.proposed")
    stored = list(proposal.credit_note.lines.values_list("amount_only", flat=True))
    assert stored and all(stored)
    assert [line["amount_only"] for line in event.after["lines"]] == stored


def test_accepted_credit_keeps_its_amount_and_quantities(
    order, invoice, sales_rep, customer
):
    case = case_on_line(order, invoice, "DAMAGED", 2)
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)

    credit_note = Invoice.objects.get(
        origin_invoice=invoice, kind=Invoice.Kind.CREDIT_NOTE
    )
    assert credit_note.state == Invoice.State.POSTED
    assert credit_note.amount_total == Decimal("83.63")
    # The line credits 2 units of order line 2 and names it, so the line's
    # net invoiced quantity is 4 less the 2 credited.
    assert order.lines.get(line_no=2).qty_invoiced == Decimal(2)


@pytest.fixture
def accepted_credit(order, invoice, sales_rep, customer):
    case = case_on_line(order, invoice, "DAMAGED", 2)
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    return Invoice.objects.get(origin_invoice=invoice, kind=Invoice.Kind.CREDIT_NOTE)


def test_statement_lists_what_was_credited(accepted_credit, customer):
    (statement,) = statement_of_account(customer)
    credit_row = next(
        line for line in statement.lines if line.document == accepted_credit.number
    )
    assert credit_row.credit == Decimal("83.63")
    assert [(line.qty, line.subtotal) for line in credit_row.credited] == [
        (Decimal(2), Decimal("83.63"))
    ]
    page = signed_in(customer).get("/reconciliation/portal/statement/")
    text = page.content.decode()
    assert "2 × 41.815" in text
    assert "83.6300" not in text


def test_portal_order_shows_credit_lines(accepted_credit, order, customer):
    page = signed_in(customer).get(f"/reconciliation/portal/orders/{order.number}/")
    text = page.content.decode()
    assert 'data-testid="credited-line"' in text
    assert f"{accepted_credit.lines.get().description}: 2 × 41.815" in text


def test_sales_page_shows_money_rounded(order, invoice, sales_rep):
    case = make_case(order, invoice=invoice)
    propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )
    page = signed_in(sales_rep).get(f"/reconciliation/work/cases/{case.pk}/")
    text = page.content.decode()
    assert "Expected 363.60 · actual 279.97 · difference -83.63 USD" in text
    # The proposal waits for the customer, so no second one is offered.
    assert 'data-testid="credit-note-form"' not in text
    assert 'data-testid="withdraw-form"' in text
    assert 'data-testid="credited-line"' in text
    assert "83.6300" not in text
    assert ResolutionProposal.objects.get(case=case).amount == Decimal("83.63")


def test_portal_case_shows_offered_lines(order, invoice, sales_rep, customer):
    case = case_on_line(order, invoice, "DAMAGED", 2)
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )
    credit_line = Invoice.objects.get(pk=proposal.credit_note.pk).lines.get()
    page = signed_in(customer).get(f"/reconciliation/portal/cases/{case.pk}/")
    text = page.content.decode()
    assert f"{credit_line.description}: 2 × 41.815 = 83.63" in text
    assert f"Credit note {credit_line.invoice.number}: 83.63 USD" in text


def test_one_line_invoice_credits_its_product(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    case = make_case(order, invoice=invoice)
    name = order.lines.get().product.name
    assert planned(case, invoice, "83.63") == [
        (
            sku(order, 1),
            Decimal(1),
            Decimal("83.63"),
            Decimal("83.63"),
            f"Short payment: credit on {name} of invoice {invoice.number}",
        )
    ]


@pytest.fixture
def spread_credit(order, invoice, sales_rep):
    """A credit of 83.63 on a case with no invoice line: money, not units."""
    case = make_case(order, invoice=invoice)
    return propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )


def test_money_credit_is_stored_as_amount_only(spread_credit):
    lines = list(spread_credit.credit_note.lines.order_by("pk"))
    # 363.60 and 167.26 billed: 83.63 splits as 57.28 and the rest, 26.35.
    assert [(line.qty, line.subtotal, line.amount_only) for line in lines] == [
        (Decimal(1), Decimal("57.28"), True),
        (Decimal(1), Decimal("26.35"), True),
    ]


def test_whole_unit_credit_is_not_amount_only(order, invoice, sales_rep):
    case = case_on_line(order, invoice, "DAMAGED", 2)
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )
    assert proposal.credit_note.lines.get().amount_only is False


def test_customer_carla_reads_money_credit_as_amount(
    spread_credit, order, invoice, customer
):
    # The shares are money: carla must not read "1 x 57.28" as a price.
    name = order.lines.get(line_no=1).product.name
    sentence = (
        f"Share of the 83.63 USD credit on {name}, invoice {invoice.number}: 57.28 USD"
    )
    client = signed_in(customer)
    case_page = client.get(
        f"/reconciliation/portal/cases/{spread_credit.case_id}/"
    ).content.decode()
    assert sentence in case_page
    assert "1 × " not in case_page

    accept_proposal(customer=customer, proposal_id=spread_credit.pk)
    for url in (
        "/reconciliation/portal/statement/",
        f"/reconciliation/portal/orders/{order.number}/",
    ):
        text = client.get(url).content.decode()
        assert 'data-testid="credited-line"' in text, url
        assert (
            f"Share of the 83.63 USD credit on {name}, invoice {invoice.number}<"
        ) in text, url
        assert "1 × " not in text, url


def test_sales_rep_sally_reads_money_credit_as_amount(spread_credit, order, sales_rep):
    text = (
        signed_in(sales_rep)
        .get(f"/reconciliation/work/cases/{spread_credit.case_id}/")
        .content.decode()
    )
    assert ": 57.28 USD</li>" in text
    assert "1 × " not in text


def test_migration_marks_earlier_money_credits(spread_credit, order, invoice):
    from django.apps import apps

    from reconciliation.models import InvoiceLine

    migration = __import__(
        "reconciliation.migrations.0016_invoiceline_amount_only",
        fromlist=["mark_amount_only"],
    )
    spread_credit.credit_note.lines.update(amount_only=False)
    unit_line = InvoiceLine.objects.create(
        invoice=spread_credit.credit_note,
        product=order.lines.get(line_no=2).product,
        description=f"1 unit of Chang from invoice {invoice.number}",
        qty=Decimal(1),
        unit_price=Decimal("41.815"),
        subtotal=Decimal("41.815"),
    )
    migration.mark_amount_only(apps, None)
    flags = dict(spread_credit.credit_note.lines.values_list("pk", "amount_only"))
    assert flags.pop(unit_line.pk) is False
    assert set(flags.values()) == {True}
