"""Write-off, credit and cash services fed ids they must reject.

Each service takes raw ids from a form: a payment, an invoice, a customer,
a case, an approval or a proposal. Each test passes the id of another
company's record, of a record that is gone or closed, or of a record of
the wrong kind. It checks that the service raises with a clear message,
and that no row was added or changed, audit events included.
The views that post to these services are fed the same ids.

Named people: fiona (finance clerk), sally (sales rep on the orders), mona
and max (managers), carla (customer of the home company), otto (customer
of the other company), lena (a clerk who practises in a sandbox).
"""

from decimal import Decimal

import pytest
from django.apps import apps

from accounts.models import Role
from conftest import make_person
from core.testing import signed_in
from portal.models import ResolutionProposal
from portal.services import accept_proposal, reject_proposal
from practice import services as practice
from reconciliation import approvals, cases
from reconciliation.approval_decisions import decide_approval
from reconciliation.cases import CaseError
from reconciliation.cash_work import apply_cash, assign_payer
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import (
    Approval,
    Company,
    Discrepancy,
    Invoice,
    Party,
    Payment,
    SalesOrder,
)
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    PartyFactory,
    PaymentFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
    currency,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

GONE = 987_654
# The cash screen's message for a payment or invoice it does not list. It
# names no id, because the id may be of a record the clerk may not see.
NOT_OPEN = "That payment or invoice is no longer open: reload the screen."


def invoice_not_open(payment) -> str:
    """The message for an invoice the payment's screen does not list.

    It names the payment, which the clerk sees, and not the invoice.
    """
    return (
        f"That invoice is not an open invoice of payment {payment.number}'s "
        "customer: reload the screen and pick one of the open invoices listed "
        "for the payment."
    )


WATCHED_APPS = {"core", "notifications", "portal", "practice", "reconciliation"}
# Rows compared field by field, so a changed amount or state shows too.
COMPARED_MODELS = (Invoice, Payment, Discrepancy, Approval, ResolutionProposal)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


def snapshot() -> dict[str, object]:
    """Return the row count of every watched model and the compared rows."""
    state: dict[str, object] = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in WATCHED_APPS
    }
    for model in COMPARED_MODELS:
        state[f"{model._meta.label} rows"] = list(
            model._default_manager.order_by("pk").values()
        )
    return state


@pytest.fixture
def unchanged():
    """Check after the test that nothing was written since the test called it."""
    snapshots: list[dict[str, object]] = []

    def take() -> None:
        snapshots.append(snapshot())

    yield take
    assert snapshots, "the test never took its snapshot"
    after = snapshot()
    for key, before in snapshots[0].items():
        assert after[key] == before, key


@pytest.fixture
def home_invoice(short_payment_case):
    return short_payment_case.invoice


@pytest.fixture
def home_payment(customer_party):
    """Return an open payment of 50.00 from the home company's customer."""
    return PaymentFactory.create(
        company=customer_party.company,
        party=customer_party,
        amount=Decimal("50.00"),
        reference="no reference",
    )


@pytest.fixture
def other_company(db):
    return Company.objects.create(name="Other company", base_currency=currency("USD"))


@pytest.fixture
def other_customer(other_company):
    return PartyFactory.create(company=other_company, name="Other customer")


@pytest.fixture
def other_case(other_customer, sales_rep):
    """Return a short-payment case of the other company, as the home one."""
    order = create_order(
        lines=[("10", "36.36")],
        company=other_customer.company,
        customer=other_customer,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="279.97")
    return make_case(order, invoice=invoice)


@pytest.fixture
def other_payment(other_customer):
    return PaymentFactory.create(
        company=other_customer.company,
        party=other_customer,
        amount=Decimal("50.00"),
        reference="no reference",
    )


@pytest.fixture
def other_proposal(other_case, sales_rep):
    return propose_credit_note(
        actor=sales_rep,
        case_id=other_case.pk,
        amount=Decimal("20.00"),
        message="A credit for the short delivery.",
    )


@pytest.fixture
def sandbox(db):
    learner = make_person("lena", Role.FINANCE_CLERK, group="operations")
    return practice.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Cash: payment and invoice


def test_cash_invoice_of_other_company(clerk, home_payment, other_case, unchanged):
    unchanged()
    with pytest.raises(WorkError) as error:
        apply_cash(
            actor=clerk,
            payment_id=home_payment.pk,
            invoice_id=other_case.invoice_id,
            amount=Decimal("10.00"),
        )
    assert str(error.value) == invoice_not_open(home_payment)
    assert other_case.invoice.number not in str(error.value)


def test_cash_payment_outside_company(
    clerk, customer_party, other_payment, home_invoice, unchanged
):
    unchanged()
    with pytest.raises(WorkError) as error:
        apply_cash(
            actor=clerk,
            payment_id=other_payment.pk,
            invoice_id=home_invoice.pk,
            amount=Decimal("10.00"),
            company=customer_party.company,
        )
    assert str(error.value) == NOT_OPEN


def test_cash_sandbox_ids_rejected(clerk, home_payment, sandbox, unchanged):
    sandbox_invoice = Invoice.objects.filter(company=sandbox.company).first()
    assert sandbox_invoice is not None
    unchanged()
    with pytest.raises(WorkError) as error:
        apply_cash(
            actor=clerk,
            payment_id=home_payment.pk,
            invoice_id=sandbox_invoice.pk,
            amount=Decimal("10.00"),
        )
    assert str(error.value) == invoice_not_open(home_payment)


@pytest.mark.parametrize("which", ["payment", "invoice"])
def test_cash_gone_ids(clerk, home_payment, home_invoice, which, unchanged):
    unchanged()
    payment_id = GONE if which == "payment" else home_payment.pk
    invoice_id = GONE if which == "invoice" else home_invoice.pk
    with pytest.raises(WorkError) as error:
        apply_cash(
            actor=clerk,
            payment_id=payment_id,
            invoice_id=invoice_id,
            amount=Decimal("10.00"),
        )
    expected = NOT_OPEN if which == "payment" else invoice_not_open(home_payment)
    assert str(error.value) == expected


def test_cash_allocated_payment(clerk, home_invoice, unchanged):
    spent = Payment.objects.get(company=home_invoice.company)
    assert spent.amount_unallocated == 0
    unchanged()
    with pytest.raises(WorkError) as error:
        apply_cash(
            actor=clerk,
            payment_id=spent.pk,
            invoice_id=home_invoice.pk,
            amount=Decimal("10.00"),
        )
    assert str(error.value) == (
        f"Payment {spent.number} has nothing left to allocate: it is applied "
        "in full. Reload the screen and pick another payment."
    )


@pytest.mark.parametrize("kind", ["paid", "cancelled", "credit note"])
def test_cash_invoice_not_open(clerk, home_payment, home_invoice, kind, unchanged):
    invoice = create_invoice(order=home_invoice.order, number="INV-CLOSED")
    if kind == "paid":
        create_payment(invoice=invoice, amount=str(invoice.amount_total))
    elif kind == "cancelled":
        Invoice.objects.filter(pk=invoice.pk).update(state=Invoice.State.CANCELLED)
    else:
        Invoice.objects.filter(pk=invoice.pk).update(kind=Invoice.Kind.CREDIT_NOTE)
    unchanged()
    with pytest.raises(WorkError) as error:
        apply_cash(
            actor=clerk,
            payment_id=home_payment.pk,
            invoice_id=invoice.pk,
            amount=Decimal("10.00"),
        )
    assert str(error.value) == (
        f"Invoice INV-CLOSED is not an open invoice of payment "
        f"{home_payment.number}'s customer in USD: pick one of the open invoices "
        "listed for the payment."
    )


def test_cash_view_other_company(clerk, home_payment, other_case, unchanged):
    unchanged()
    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/",
        {
            "payment": home_payment.pk,
            "invoice": other_case.invoice_id,
            "amount": "10.00",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert shown_messages(response) == [invoice_not_open(home_payment)]


# Cash: the payer of a payment


@pytest.fixture
def anonymous_payment(customer_party):
    return PaymentFactory.create(
        company=customer_party.company,
        party=None,
        amount=Decimal("50.00"),
        reference="unknown",
    )


def test_payer_of_other_company(clerk, anonymous_payment, other_customer, unchanged):
    unchanged()
    with pytest.raises(WorkError) as error:
        assign_payer(
            actor=clerk, payment_id=anonymous_payment.pk, party_id=other_customer.pk
        )
    assert str(error.value) == (
        f"Customer {other_customer.pk} was not found among the customers of the "
        f"company of payment "
        f"{anonymous_payment.number}: choose one from the list."
    )


@pytest.mark.parametrize("which", ["other company", "gone", "assigned"])
def test_payer_payment_rejected(
    clerk, customer_party, anonymous_payment, home_payment, which, unchanged
):
    other = PaymentFactory.create(
        company=Company.objects.create(
            name="Third company", base_currency=customer_party.company.base_currency
        ),
        party=None,
    )
    payment_id = {
        "other company": other.pk,
        "gone": GONE,
        "assigned": home_payment.pk,
    }[which]
    unchanged()
    with pytest.raises(WorkError) as error:
        assign_payer(
            actor=clerk,
            payment_id=payment_id,
            party_id=customer_party.pk,
            company=customer_party.company,
        )
    if which == "assigned":
        expected = (
            f"Payment {home_payment.number} already belongs to "
            f"{home_payment.party.name}: allocate it under Unallocated payments "
            "instead."
        )
    else:
        expected = (
            "That payment already has a customer or is no longer open: reload "
            "the screen."
        )
    assert str(error.value) == expected


def test_payer_view_other_company(clerk, anonymous_payment, other_customer, unchanged):
    unchanged()
    response = signed_in(clerk).post(
        "/reconciliation/work/cash/",
        {"payment": anonymous_payment.pk, "party": other_customer.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert shown_messages(response) == [
        f"Customer {other_customer.pk} was not found among the customers of the "
        f"company of payment "
        f"{anonymous_payment.number}: choose one from the list."
    ]


# Write-off requests


def test_write_off_gone_case(clerk, unchanged):
    unchanged()
    with pytest.raises(CaseError) as error:
        approvals.request_write_off(case_id=GONE, actor=clerk, reason="Too small.")
    assert str(error.value) == (
        f"Case {GONE} was not found: it may have been deleted. Reload the case list."
    )


def test_write_off_resolved_case(clerk, short_payment_case, unchanged):
    Discrepancy.objects.filter(pk=short_payment_case.pk).update(
        state=Discrepancy.State.RESOLVED
    )
    unchanged()
    with pytest.raises(CaseError) as error:
        approvals.request_write_off(
            case_id=short_payment_case.pk, actor=clerk, reason="Too small."
        )
    assert str(error.value) == (
        f"Case {short_payment_case.pk} is resolved: reopen it before requesting "
        "a write-off."
    )


def quantity_case(order, invoice) -> Discrepancy:
    """Return a short-shipment case whose difference is 200 units, not money."""
    case = make_case(
        order,
        code="SHORT_SHIP",
        owner_role=Role.FINANCE_CLERK,
        invoice=invoice,
        difference="-200",
    )
    Discrepancy.objects.filter(pk=case.pk).update(unit="unit")
    case.refresh_from_db()
    return case


def test_write_off_quantity_case(clerk, short_payment_case, unchanged):
    case = quantity_case(short_payment_case.order, short_payment_case.invoice)
    unchanged()
    with pytest.raises(CaseError) as error:
        approvals.request_write_off(case_id=case.pk, actor=clerk, reason="Lost.")
    assert str(error.value) == (
        f"Case {case.pk} measures its difference in unit, not in money, so there "
        "is no money to write off: propose a credit note or resolve the case "
        "with another code."
    )


def test_write_off_payment_case(clerk, home_payment, unchanged):
    case = Discrepancy.objects.create(
        company=home_payment.company,
        payment=home_payment,
        code="UNAPPLIED_PAYMENT",
        severity="medium",
        owner_role=Role.FINANCE_CLERK,
        difference=Decimal("50.00"),
        unit="USD",
        explanation="Payment has 50.00 that no rule could match.",
        rule="payment.unapplied@1",
        fingerprint="UNAPPLIED_PAYMENT:payment:test",
    )
    unchanged()
    with pytest.raises(CaseError) as error:
        approvals.request_write_off(case_id=case.pk, actor=clerk, reason="Keep it.")
    assert str(error.value) == (
        f"Case {case.pk} has no money difference on an invoice to write off."
    )


def test_write_off_view_sandbox_case(clerk, sandbox, unchanged):
    case = Discrepancy.objects.filter(company=sandbox.company).first()
    assert case is not None
    unchanged()
    response = signed_in(clerk).post(
        f"/reconciliation/cases/{case.pk}/write-off/", {"reason": "Too small."}
    )
    assert response.status_code == 404


# Resolving with the write-off code


def test_resolve_gone_case(clerk, unchanged):
    unchanged()
    with pytest.raises(CaseError, match=f"^Case {GONE} was not found"):
        cases.resolve_case(
            case_id=GONE, actor=clerk, resolution_code="write_off", note="Small."
        )


def test_resolve_quantity_case_books_no_money(clerk, short_payment_case, unchanged):
    case = quantity_case(short_payment_case.order, short_payment_case.invoice)
    Discrepancy.objects.filter(pk=case.pk).update(state=Discrepancy.State.IN_PROGRESS)
    unchanged()
    with pytest.raises(CaseError) as error:
        cases.resolve_case(
            case_id=case.pk, actor=clerk, resolution_code="write_off", note="Lost."
        )
    assert str(error.value) == (
        f"Case {case.pk} measures its difference in unit, not in money, so there "
        "is no money to write off: propose a credit note or resolve the case "
        "with another code."
    )


# Credit notes


def test_credit_gone_case(sales_rep, unchanged):
    unchanged()
    with pytest.raises(CaseError) as error:
        propose_credit_note(
            actor=sales_rep, case_id=GONE, amount=Decimal("10.00"), message="Sorry."
        )
    assert str(error.value) == (
        f"Case {GONE} was not found: it may have been deleted. Reload the case list."
    )


def test_credit_closed_case(sales_rep, short_payment_case, unchanged):
    Discrepancy.objects.filter(pk=short_payment_case.pk).update(
        state=Discrepancy.State.CLOSED
    )
    unchanged()
    with pytest.raises(WorkError) as error:
        propose_credit_note(
            actor=sales_rep,
            case_id=short_payment_case.pk,
            amount=Decimal("10.00"),
            message="Sorry.",
        )
    assert str(error.value) == (
        f"Case {short_payment_case.pk} is closed: reopen it first."
    )


@pytest.mark.parametrize(
    ("kind", "state", "shown"),
    [
        (Invoice.Kind.CREDIT_NOTE, Invoice.State.POSTED, "a credit note"),
        (Invoice.Kind.INVOICE, Invoice.State.CANCELLED, "cancelled"),
        (Invoice.Kind.INVOICE, Invoice.State.DRAFT, "a draft"),
    ],
)
def test_credit_on_wrong_invoice(
    sales_rep, short_payment_case, kind, state, shown, unchanged
):
    invoice = short_payment_case.invoice
    Invoice.objects.filter(pk=invoice.pk).update(kind=kind, state=state)
    unchanged()
    with pytest.raises(WorkError) as error:
        propose_credit_note(
            actor=sales_rep,
            case_id=short_payment_case.pk,
            amount=Decimal("10.00"),
            message="Sorry.",
        )
    assert str(error.value) == (
        f"Invoice {invoice.number} of case {short_payment_case.pk} is {shown}: "
        "only a posted invoice or debit note can be credited."
    )


def test_credit_view_sandbox_case(sales_rep, sandbox, unchanged):
    case = Discrepancy.objects.filter(company=sandbox.company).first()
    assert case is not None
    unchanged()
    response = signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{case.pk}/credit-note/",
        {"amount": "10.00", "message": "Sorry."},
    )
    assert response.status_code == 404


# Approvals


def test_approval_gone(manager, unchanged):
    unchanged()
    with pytest.raises(CaseError) as error:
        decide_approval(approval_id=GONE, approver=manager, approve=True, reason="")
    assert str(error.value) == (
        f"Approval {GONE} was not found: it may have been withdrawn. Reload the "
        "approvals."
    )


def test_approval_view_sandbox(manager, sandbox, unchanged):
    learner = sandbox.learner
    case = Discrepancy.objects.filter(company=sandbox.company).first()
    assert case is not None
    approval = Approval.objects.create(
        case=case,
        action="write_off",
        amount=Decimal("80.00"),
        currency_id="USD",
        requested_by=learner,
        request_reason="Practice.",
    )
    unchanged()
    for url in (
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        f"/reconciliation/approvals/{approval.pk}/decide/",
    ):
        response = signed_in(manager).post(url, {"decision": "approve"})
        assert response.status_code == 404, url


# Proposals decided by a customer


@pytest.fixture
def carla(customer):
    return customer


@pytest.mark.parametrize("decide", ["accept", "reject"])
def test_proposal_of_other_customer(carla, other_proposal, decide, unchanged):
    unchanged()
    with pytest.raises(WorkError) as error:
        if decide == "accept":
            accept_proposal(customer=carla, proposal_id=other_proposal.pk)
        else:
            reject_proposal(customer=carla, proposal_id=other_proposal.pk, reason="No.")
    assert str(error.value) == (
        f"Proposal {other_proposal.pk} was not found among your cases: open it "
        "from your case list."
    )


def test_proposal_gone(carla, unchanged):
    unchanged()
    with pytest.raises(WorkError) as error:
        accept_proposal(customer=carla, proposal_id=GONE)
    assert str(error.value) == (
        f"Proposal {GONE} was not found among your cases: open it from your case list."
    )


def test_proposal_view_other_customer(carla, other_proposal, unchanged):
    unchanged()
    response = signed_in(carla).post(
        f"/reconciliation/portal/proposals/{other_proposal.pk}/accept/"
    )
    assert response.status_code == 404


def test_other_customer_accepts_own(other_proposal, other_customer):
    # The rule that rejects carla still lets the proposal's own customer in.
    otto = make_person("otto", Role.CUSTOMER, customer=other_customer)
    accept_proposal(customer=otto, proposal_id=other_proposal.pk)
    other_proposal.refresh_from_db()
    assert other_proposal.state == ResolutionProposal.State.ACCEPTED
    assert SalesOrder.objects.filter(customer=other_customer).exists()
    assert Party.objects.filter(pk=other_customer.pk).exists()
