"""Ids and line numbers typed into the work screens: bad text gets a message.

Each value is text that ``str.isdigit()`` accepts and ``int()`` rejects
("²"), text that ``int()`` accepts but is no plain number (the Arabic-Indic
digit one), a number beyond the database's integers, or plain letters.
"""

import pytest

from core.testing import messages_of, signed_in
from reconciliation.models import Allocation, Discrepancy

pytestmark = pytest.mark.django_db

BAD_VALUES = ["\u00b2", "\u0661", "99999999999999999999", "abc"]


def id_error(name: str, value: str, expected: str) -> str:
    return (
        f"{name}={value!r} is not {expected}: use a whole number from 1 to "
        "9223372036854775807, in the digits 0 to 9."
    )


@pytest.mark.parametrize("value", BAD_VALUES)
def test_purchase_list_bad_vendor_is_400(manager, value):
    response = signed_in(manager).get(
        "/reconciliation/work/purchasing/", {"vendor": value}
    )
    assert response.status_code == 400
    assert messages_of(response) == [id_error("vendor", value, "a vendor id")]
    assert response.context["filters"].vendor_id is None


@pytest.mark.parametrize("value", BAD_VALUES)
def test_cash_apply_bad_payment_not_found(clerk, value):
    data = {"payment": value, "invoice": "1", "amount": "1.00"}
    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/", data, follow=True
    )
    assert response.redirect_chain == [("/reconciliation/work/cash/", 302)]
    assert messages_of(response) == [
        f"Payment {value!r} was not found among the open payments: reload the "
        "cash screen and pick a payment from the list."
    ]
    assert not Allocation.objects.exists()


@pytest.mark.parametrize("value", BAD_VALUES)
def test_cash_apply_bad_invoice_not_found(clerk, value):
    data = {"payment": "7", "invoice": value, "amount": "1.00"}
    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/", data, follow=True
    )
    assert response.redirect_chain == [("/reconciliation/work/cash/?payment=7", 302)]
    assert messages_of(response) == [
        f"Invoice {value!r} was not found among the open invoices of the "
        "payment: pick an invoice from the list."
    ]
    assert not Allocation.objects.exists()


@pytest.mark.parametrize("value", [*BAD_VALUES, ""])
def test_shortage_bad_line_shows_message(shipped_order, warehouse, value):
    url = f"/reconciliation/work/orders/{shipped_order.number}/shortage/"
    response = signed_in(warehouse).post(
        url, {"line": value, "qty": "1", "note": "x"}, follow=True
    )
    # The form is shown again with what was typed.
    assert response.status_code == 422
    assert messages_of(response) == [
        f"Line {value!r} was not found on order {shipped_order.number}: pick a "
        "line from the list."
    ]
    assert not Discrepancy.objects.exists()


@pytest.mark.parametrize("value", BAD_VALUES)
def test_case_assign_bad_assignee_shows_message(short_payment_case, clerk, value):
    url = f"/reconciliation/cases/{short_payment_case.pk}/assign/"
    response = signed_in(clerk).post(url, {"assignee": value}, follow=True)
    assert messages_of(response) == [id_error("assignee", value, "a person's id")]
    short_payment_case.refresh_from_db()
    assert short_payment_case.assignee is None


def test_case_assign_unknown_person_shows_message(short_payment_case, clerk):
    url = f"/reconciliation/cases/{short_payment_case.pk}/assign/"
    response = signed_in(clerk).post(url, {"assignee": "987654"}, follow=True)
    assert messages_of(response) == [
        "No person has the id 987654: pick one from the list."
    ]
