"""A damaged or missing goods case names its invoice and can be credited.

Carla (Alfreds Futterkiste) reports boxes of Chai damaged or missing. The
case names the posted invoice that billed those units, so sally, the sales
rep, can offer a credit note for them at the invoiced price with the
invoice's tax, which Carla accepts or rejects in the portal. On a line that
no posted invoice bills yet, the screen tells sally what to do instead. Named people:
carla (customer), sally (sales rep on the order), mona (finance manager).
"""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client

from core.models import AuditEvent
from portal.models import ProblemReport, ResolutionProposal
from portal.services import ProblemInput, accept_proposal, report_problem
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.goods_billing import BilledUnits, choose_invoice
from reconciliation.matching import match_order
from reconciliation.models import (
    Approval,
    Discrepancy,
    Invoice,
    InvoiceLine,
    SalesOrder,
    ShipmentLine,
)
from reconciliation.services import refresh_order
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

Kind = ProblemReport.Kind
Proposal = ResolutionProposal.State


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


@pytest.fixture
def order(customer_party, sales_rep) -> SalesOrder:
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-GOODS",
    )
    create_shipment(order=order, number="SH-GOODS-1")
    return order


def taxed_invoice(order: SalesOrder, number: str, *, rate: str = "20") -> Invoice:
    """Bill the shipped units with ``rate`` percent tax on the line."""
    invoice = create_invoice(order=order, number=number)
    for line in invoice.lines.all():
        line.tax_rate = Decimal(rate)
        line.tax_amount = (line.subtotal * Decimal(rate) / 100).quantize(
            Decimal("0.01")
        )
        line.save(update_fields=["tax_rate", "tax_amount"])
    refresh_order(order=order)
    invoice.refresh_from_db()
    return invoice


def report(customer, order, kind: str, qty: str) -> Discrepancy:
    problem = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=kind,
            message=f"{qty} boxes",
            shipment_line=ShipmentLine.objects.get(shipment__order=order),
            quantity=Decimal(qty),
        ),
        evidence=[],
    )
    return Discrepancy.objects.get(pk=problem.case_id)


def billed(invoice_id: int, day: int, qty: str, line: int | None = None):
    return BilledUnits(
        invoice_id=invoice_id,
        invoice_date=date(2026, 11, day),
        shipment_line_id=line,
        qty=Decimal(qty),
    )


# The rule


def test_rule_prefers_named_shipment_line():
    rows = [billed(1, 1, "6", line=70), billed(2, 2, "4", line=71)]
    assert choose_invoice(rows, shipment_line_id=71, qty=Decimal(4)) == 2


def test_rule_earliest_covering_invoice():
    rows = [billed(3, 5, "4"), billed(2, 1, "2"), billed(1, 3, "6")]
    # Invoice 2 is the earliest but bills only 2 units, and invoice 1 bills 6.
    assert choose_invoice(rows, shipment_line_id=9, qty=Decimal(3)) == 1


def test_rule_most_units_fallback():
    rows = [billed(1, 1, "4"), billed(2, 2, "6"), billed(3, 3, "6")]
    assert choose_invoice(rows, shipment_line_id=9, qty=Decimal(8)) == 2


def test_rule_adds_up_lines_of_one_invoice():
    rows = [billed(1, 1, "3"), billed(1, 1, "3"), billed(2, 2, "5")]
    assert choose_invoice(rows, shipment_line_id=9, qty=Decimal(6)) == 1


def test_rule_without_billed_units_names_no_invoice():
    assert choose_invoice([], shipment_line_id=9, qty=Decimal(1)) is None
    assert (
        choose_invoice([billed(1, 1, "0")], shipment_line_id=9, qty=Decimal(1)) is None
    )


# Opening the case


def test_damaged_report_names_the_posted_invoice(order, customer):
    invoice = taxed_invoice(order, "INV-GOODS-1")

    case = report(customer, order, Kind.DAMAGED, "2")

    assert case.invoice == invoice
    event = AuditEvent.objects.get(action="case.reported", object_id=str(case.pk))
    assert event.after["invoice"] == "INV-GOODS-1"


def test_missing_report_names_the_posted_invoice(order, customer):
    invoice = taxed_invoice(order, "INV-GOODS-1")

    case = report(customer, order, Kind.MISSING, "3")

    assert case.code == "NOT_RECEIVED"
    assert case.invoice == invoice


def test_draft_and_cancelled_invoices_do_not_count(order, customer):
    create_invoice(order=order, number="INV-DRAFT", state=Invoice.State.DRAFT)
    create_invoice(order=order, number="INV-GONE", state=Invoice.State.CANCELLED)

    case = report(customer, order, Kind.DAMAGED, "2")

    assert case.invoice is None


def test_pass_links_later_invoice(order, customer):
    case = report(customer, order, Kind.DAMAGED, "2")
    match_order(order)
    case.refresh_from_db()
    assert case.invoice is None

    invoice = taxed_invoice(order, "INV-LATER")
    match_order(order)

    linked = Discrepancy.objects.get(pk=case.pk)
    assert linked.invoice == invoice
    assert linked.code == "DAMAGED"


def test_split_billing_names_shipment_invoice(order, customer):
    # The second invoice names the shipment line it billed; the first does not.
    create_invoice(order=order, number="INV-SPLIT-1", quantities={1: "6"})
    second = create_invoice(order=order, number="INV-SPLIT-2", quantities={1: "4"})
    shipment_line = ShipmentLine.objects.get(shipment__order=order)
    InvoiceLine.objects.filter(invoice=second).update(shipment_line=shipment_line)

    case = report(customer, order, Kind.DAMAGED, "2")

    assert case.invoice == second


def test_migration_links_open_goods_cases(order, customer):
    invoice = taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")
    closed = report(customer, order, Kind.MISSING, "1")
    Discrepancy.objects.filter(pk__in=[case.pk, closed.pk]).update(invoice=None)
    Discrepancy.objects.filter(pk=closed.pk).update(state=Discrepancy.State.CLOSED)
    migration = importlib.import_module(
        "reconciliation.migrations.0017_goods_case_invoices"
    )

    migration.link_goods_cases(apps, None)

    case.refresh_from_db()
    closed.refresh_from_db()
    assert case.invoice == invoice
    assert closed.invoice is None


# The sales rep's decision


def test_decision_screen_offers_the_credit_with_tax(order, customer, sales_rep):
    taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")
    client = Client()
    client.force_login(sales_rep)

    page = client.get(f"/reconciliation/work/cases/{case.pk}/").content.decode()

    assert 'data-testid="credit-note-form"' in page
    # 2 x 36.36 = 72.72 net, 14.54 tax at 20%.
    assert 'value="87.26"' in page
    assert (
        "2 units damaged, billed on invoice INV-GOODS-1 at 36.36 USD each: "
        "72.72 plus 14.54 tax at 20%, 87.26 USD in all" in page
    )


def test_credit_for_whole_units_keeps_the_invoice_tax(order, customer, sales_rep):
    taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")

    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("87.26"), message="Sorry"
    )

    assert proposal.state == Proposal.AWAITING_CUSTOMER
    credit_note = proposal.credit_note
    assert credit_note is not None
    [line] = credit_note.lines.all()
    assert (line.qty, line.unit_price, line.subtotal) == (
        Decimal(2),
        Decimal("36.36"),
        Decimal("72.72"),
    )
    assert (line.tax_rate, line.tax_amount) == (Decimal(20), Decimal("14.54"))
    assert not line.amount_only
    event = AuditEvent.objects.get(
        action="credit_note.proposed", object_id=str(credit_note.pk)
    )
    assert event.after["case_id"] == case.pk
    assert event.after["amount"] == "87.26"


def test_credit_edited_down_splits_net_and_tax(order, customer, sales_rep):
    taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")

    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("60.00"), message="Half"
    )

    assert proposal.credit_note is not None
    [line] = proposal.credit_note.lines.all()
    assert line.amount_only
    assert (line.subtotal, line.tax_amount) == (Decimal("50.00"), Decimal("10.00"))


def test_unsplittable_amount_rejected(order, customer, sales_rep):
    taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")

    # The first amount that no net amount plus its 20% tax, rounded, gives.
    gaps = [
        cents
        for cents in range(1, 200)
        if not any(
            net + (net * Decimal(20) / 100).quantize(Decimal("0.01"))
            == Decimal(cents) / 100
            for net in (Decimal(n) / 100 for n in range(0, 200))
        )
    ]
    amount = Decimal(gaps[0]) / 100

    with pytest.raises(WorkError) as error:
        propose_credit_note(
            actor=sales_rep, case_id=case.pk, amount=amount, message="Odd"
        )

    message = str(error.value)
    assert message.startswith(f"A credit note of {amount} USD cannot be split")
    assert "20% tax of invoice INV-GOODS-1" in message
    assert "enter " in message
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()
    assert not ResolutionProposal.objects.exists()


def test_credit_above_the_damaged_units_is_refused(order, customer, sales_rep):
    taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")

    with pytest.raises(WorkError) as error:
        propose_credit_note(
            actor=sales_rep, case_id=case.pk, amount=Decimal("87.27"), message="More"
        )

    assert str(error.value) == (
        f"A credit note of 87.27 USD is more than the 87.26 USD that case "
        f"{case.pk} leaves open: credit at most 87.26 USD. If the customer is "
        "owed more, record the rest on a case of its own first."
    )
    assert not ResolutionProposal.objects.exists()


def test_credit_above_the_limit_waits_for_a_manager(
    order, customer, sales_rep, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")

    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("87.26"), message="Sorry"
    )

    assert proposal.state == Proposal.AWAITING_APPROVAL
    approval = Approval.objects.get(case=case)
    assert approval.amount == Decimal("87.26")


def test_customer_accepts_the_credit_and_the_case_resolves(order, customer, sales_rep):
    invoice = taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.MISSING, "1")
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("43.63"), message="Sorry"
    )

    accept_proposal(customer=customer, proposal_id=proposal.pk)

    case.refresh_from_db()
    invoice.refresh_from_db()
    assert proposal.credit_note is not None
    proposal.credit_note.refresh_from_db()
    assert proposal.credit_note.state == Invoice.State.POSTED
    assert proposal.credit_note.amount_total == Decimal("43.63")
    assert case.state == Discrepancy.State.RESOLVED
    assert invoice.amount_credited == Decimal("43.63")


def test_portal_case_page_shows_the_credit_with_tax(order, customer, sales_rep):
    taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("87.26"), message="Sorry"
    )
    client = Client()
    client.force_login(customer)

    page = client.get(f"/reconciliation/portal/cases/{case.pk}/").content.decode()

    assert f"/reconciliation/portal/proposals/{proposal.pk}/accept/" in page
    assert "2 units of" in page
    assert "plus 14.54 tax at 20% = 87.26 USD" in page


# A line not billed yet


def test_unbilled_line_says_what_to_do(order, customer, sales_rep):
    case = report(customer, order, Kind.DAMAGED, "2")
    client = Client()
    client.force_login(sales_rep)

    page = client.get(f"/reconciliation/work/cases/{case.pk}/").content.decode()

    assert 'data-testid="not-billed"' in page
    assert "No posted invoice bills line 1" in page
    assert 'data-testid="credit-note-form"' not in page
    with pytest.raises(WorkError) as error:
        propose_credit_note(
            actor=sales_rep, case_id=case.pk, amount=Decimal("10.00"), message="Hi"
        )
    assert str(error.value).startswith("No posted invoice bills line 1 (")
    assert "of order SO-GOODS yet, so there is nothing to credit." in str(error.value)
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()


def test_later_invoice_named_on_more_units(order, customer):
    case = report(customer, order, Kind.DAMAGED, "2")
    invoice = taxed_invoice(order, "INV-GOODS-1")

    # Carla finds one more crushed box.
    again = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=Kind.DAMAGED,
            message="One more",
            shipment_line=ShipmentLine.objects.get(shipment__order=order),
            quantity=Decimal(1),
            repeat="more",
        ),
        evidence=[],
    )

    assert again.case_id == case.pk
    case.refresh_from_db()
    assert case.invoice == invoice
    assert AuditEvent.objects.filter(
        action="case.invoice_linked", object_id=str(case.pk)
    ).exists()


def test_pass_after_acceptance_keeps_the_case_resolved(
    order, customer, sales_rep, django_capture_on_commit_callbacks
):
    """The pass rewords a reported case; that alone must not reopen it."""
    taxed_invoice(order, "INV-GOODS-1")
    case = report(customer, order, Kind.DAMAGED, "2")
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("87.26"), message="Sorry"
    )

    # The acceptance checks the order after it commits: the first pass that
    # sees the case since Carla reported it.
    with django_capture_on_commit_callbacks(execute=True):
        accept_proposal(customer=customer, proposal_id=proposal.pk)

    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED
    assert case.rule == "reported.damaged@1"
    assert not AuditEvent.objects.filter(
        action="discrepancy.reopened", object_id=str(case.pk)
    ).exists()
