"""The cash screen's customer drop-down lists names as a person reads them.

Named person: fiona (finance clerk). A bank line named no customer, so she
chooses one from the drop-down. The third user trial found it sorted by
character code: "FISSA" before "Familia", "Bólido" after "Bottom-Dollar".
Run on PostgreSQL too (``DATABASE_URL``): the order must not depend on the
database's collation.
"""

from decimal import Decimal

import pytest

from core.testing import signed_in
from reconciliation.cash_work import reading_key
from reconciliation.models import Company, Currency, Party
from reconciliation.tests.factories import PaymentFactory
from reconciliation.tests.test_cash_tray import CASH_URL

pytestmark = pytest.mark.django_db

# The names of the trial's drop-down, in the order a person reads them.
READING_ORDER = [
    "B's Beverages",
    "Berglunds snabbköp",
    "Bólido Comidas preparadas",
    "Bottom-Dollar Markets",
    "Familia Arquibaldo",
    "FISSA Fabrica Inter. Salchichas S.A.",
    "Mère Paillarde",
    "Morgenstern Gesundkost",
    "Que Delícia",
    "QUICK-Stop",
]


def test_unknown_payers_customers_sort_as_read(clerk):
    company = Company.objects.create(
        name="Trial company", base_currency=Currency.objects.get(code="USD")
    )
    for number, name in enumerate(reversed(READING_ORDER)):
        Party.objects.create(
            company=company, code=f"C{number:02d}", name=name, currency_id="USD"
        )
    PaymentFactory.create(
        company=company,
        party=None,
        number="BS-20261206-1",
        amount=Decimal("4330.40"),
        reference="Save-a-lot Markets, order 11064",
    )

    page = signed_in(clerk).get(CASH_URL)

    [(_payment, customers)] = page.context["unassigned"]
    assert [party.name for party in customers] == READING_ORDER
    html = page.content.decode()
    shown = [name.replace("'", "&#x27;") for name in READING_ORDER]
    positions = [html.index(f"{name} (") for name in shown]
    assert positions == sorted(positions)


def test_reading_key_folds_case_and_accents():
    assert reading_key("Bólido") < reading_key("Bottom-Dollar")
    assert reading_key("Familia") < reading_key("FISSA")
    assert reading_key("Mère") < reading_key("Morgenstern")
    # Names that fold alike keep one order, by their own text.
    assert sorted(["ab", "AB", "Ab"], key=reading_key) == ["AB", "Ab", "ab"]
