"""Cash screen messages name the payment and the invoice by their numbers.

Named person: fiona (finance clerk). The invoice of 363.60 was paid 279.97
by one payment.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from core.testing import messages_of, signed_in
from reconciliation import cash_work, work
from reconciliation.models import Allocation, Payment

pytestmark = pytest.mark.django_db


def test_cash_names_spent_payment(clerk, short_payment_case):
    invoice = short_payment_case.invoice
    spent = Payment.objects.get(company=invoice.company)
    Payment.objects.filter(pk=spent.pk).update(amount_unallocated=0)

    with pytest.raises(work.WorkError) as raised:
        cash_work.apply_cash(
            actor=clerk,
            payment_id=spent.pk,
            invoice_id=invoice.pk,
            amount=Decimal("10.00"),
        )

    assert str(raised.value) == (
        f"Payment {spent.number} has nothing left to allocate: it is applied in "
        "full. Reload the screen and pick another payment."
    )
    assert Allocation.objects.filter(payment=spent).count() == 1


def test_cash_amount_errors_name_documents(clerk, short_payment_case):
    invoice = short_payment_case.invoice
    payment = Payment.objects.get(company=invoice.company)
    extra = Payment.objects.create(
        company=invoice.company,
        number="PAY-EXTRA",
        party=invoice.customer,
        amount="100.00",
        amount_unallocated="100.00",
        currency_id=invoice.currency_id,
        value_date=timezone.localdate(),
    )
    assert payment.pk != extra.pk

    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/",
        {"payment": extra.pk, "invoice": invoice.pk, "amount": "0"},
        follow=True,
    )

    assert messages_of(response) == [
        f"Amount 0.00 {invoice.currency_id} from payment PAY-EXTRA to invoice "
        f"{invoice.number} is not positive: enter more than 0."
    ]


def test_cash_amount_with_separators_says_how(clerk, short_payment_case):
    # fiona types the amount as her bank writes it: 1.234,50.
    invoice = short_payment_case.invoice
    payment = Payment.objects.get(company=invoice.company)

    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "1.234,50"},
        follow=True,
    )

    (message,) = messages_of(response)
    assert message.endswith(
        "'1.234,50' is not a number: use a point for decimals and no thousands "
        "separator, such as 1234.50."
    )


def test_rejected_amount_stays_in_its_box(clerk, short_payment_case):
    # fiona corrects what she typed instead of typing it again.
    invoice = short_payment_case.invoice
    payment = Payment.objects.create(
        company=invoice.company,
        number="PAY-EXTRA",
        party=invoice.customer,
        amount="100.00",
        amount_unallocated="100.00",
        currency_id=invoice.currency_id,
        value_date=timezone.localdate(),
    )
    allocations = Allocation.objects.count()

    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "1.234,50"},
        follow=True,
    )

    page = response.content.decode()
    assert f'value="1.234,50" aria-label="Amount for {invoice.number}"' in page, (
        "the typed amount is not in the invoice's box"
    )
    assert Allocation.objects.count() == allocations
