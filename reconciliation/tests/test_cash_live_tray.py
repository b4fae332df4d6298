"""The tray's changes with and without htmx, and a line's amount changed in place.

Named person: fiona (finance clerk). Hanari Carnes owes invoices of
1,332.00 and 1,402.00 USD and paid 2,714.00 (``build_trial``).
"""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import Role
from conftest import make_person
from core.testing import signed_in
from reconciliation.models import Allocation
from reconciliation.tests.test_cash_tray import APPLY_URL, CASH_URL, build_trial

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# A test client's query: a value per name, or a list for a repeated name.
Query = dict[str, int | list[str]]


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def tray_of(address: str) -> list[str]:
    return parse_qs(urlsplit(address).query)["tray"]


def test_change_without_script_redirects_to_new_tray(clerk):
    payment, first, second = build_trial()

    response = signed_in(clerk).post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "change": "1",
            "tray": [f"{first.pk}:1332.00", f"{second.pk}:1382.00"],
            f"amount-{second.pk}": "1000.50",
        },
    )

    assert response.status_code == 302
    assert tray_of(response["Location"]) == [
        f"{first.pk}:1332.00",
        f"{second.pk}:1000.50",
    ]
    page = signed_in(clerk).get(response["Location"])
    assert page.context["tray_total"] == Decimal("2332.50")
    assert page.context["tray_left"] == Decimal("381.50")
    assert not Allocation.objects.exists()


def test_change_with_htmx_renders_panel_and_address(clerk):
    payment, first, _ = build_trial()

    response = signed_in(clerk).post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "change": "1",
            "tray": [f"{first.pk}:1332.00"],
            f"amount-{first.pk}": "1200",
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    assert tray_of(response["HX-Push-Url"]) == [f"{first.pk}:1200"]
    assert response.context["tray_total"] == Decimal("1200")
    html = response.content.decode()
    assert 'id="invoices-panel"' in html
    assert 'data-testid="tray-total">1,200.00 USD' in html
    assert 'data-testid="tray-left">1,514.00 USD' in html


def test_change_rejects_text_amount(clerk):
    payment, first, _ = build_trial()

    response = signed_in(clerk).post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "change": "1",
            "tray": [f"{first.pk}:1332.00"],
            f"amount-{first.pk}": "lots",
        },
        headers=HTMX,
    )

    [line] = response.context["tray_lines"]
    assert line.error == (
        f"Amount for invoice {first.number} in the tray in USD 'lots' is not a "
        "number: enter digits such as 12.5."
    )
    assert response.context["tray_ok"] is False
    assert 'value="lots"' in response.content.decode()


def test_confirm_uses_amount_typed_in_line_box(clerk):
    payment, first, _ = build_trial()

    signed_in(clerk).post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "confirm_tray": "1",
            "tray": [f"{first.pk}:1332.00"],
            f"amount-{first.pk}": "1000.00",
        },
    )

    allocation = Allocation.objects.get()
    assert allocation.amount == Decimal("1000.00")


def test_pick_and_drop_with_htmx(clerk):
    payment, first, second = build_trial()
    client = signed_in(clerk)

    query: Query = {"payment": payment.pk, "pick": [f"{first.pk}:1332.00"]}
    picked = client.get(CASH_URL, query, headers=HTMX)
    assert picked.status_code == 200
    assert tray_of(picked["HX-Push-Url"]) == [f"{first.pk}:1332.00"]
    assert picked.context["tray_left"] == Decimal("1382.00")

    added = client.post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "invoice": second.pk,
            "amount": "1382.00",
            "add": "1",
            "tray": [f"{first.pk}:1332.00"],
        },
        headers=HTMX,
    )
    assert tray_of(added["HX-Push-Url"]) == [
        f"{first.pk}:1332.00",
        f"{second.pk}:1382.00",
    ]
    assert added.context["tray_left"] == 0
    [open_line] = added.context["open_lines"]
    assert open_line.open_after == Decimal("20.00")

    query = {
        "payment": payment.pk,
        "tray": [f"{first.pk}:1332.00", f"{second.pk}:1382.00"],
        "drop": first.pk,
    }
    dropped = client.get(CASH_URL, query, headers=HTMX)
    assert tray_of(dropped["HX-Push-Url"]) == [f"{second.pk}:1382.00"]
    assert dropped.context["tray_total"] == Decimal("1382.00")


@pytest.mark.parametrize(
    "role", [Role.CUSTOMER, Role.SALES_REP, Role.WAREHOUSE, Role.MANAGER]
)
def test_only_finance_clerks_change_tray(role):
    payment, first, second = build_trial()
    customer = payment.party if role == Role.CUSTOMER else None
    client = signed_in(make_person("someone", role, customer=customer))
    tray = [f"{first.pk}:1332.00"]

    query: Query = {"payment": payment.pk, "pick": tray}
    picked = client.get(CASH_URL, query, headers=HTMX)
    changed = client.post(
        APPLY_URL,
        {"payment": payment.pk, "change": "1", "tray": tray, f"amount-{first.pk}": "1"},
        headers=HTMX,
    )
    added = client.post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "invoice": second.pk,
            "amount": "1.00",
            "add": "1",
            "tray": tray,
        },
        headers=HTMX,
    )
    surplus = client.post(
        APPLY_URL,
        {
            "payment": payment.pk,
            "confirm_tray": "1",
            "tray": tray,
            "surplus_invoice": first.pk,
            "reason_code": "rounding",
            "note": "x",
        },
    )

    assert picked.status_code == 403
    assert changed.status_code == 403
    assert added.status_code == 403
    assert surplus.status_code == 403
    assert not Allocation.objects.exists()
