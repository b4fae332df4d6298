"""The ``run_matching`` command runs the whole-company pass."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from reconciliation.models import Discrepancy
from reconciliation.tests.factories import create_order

pytestmark = pytest.mark.django_db


def test_command_checks_every_order(company, customer_party):
    orders = [
        create_order(lines=[("10", "36.36")], company=company, customer=customer_party)
        for _ in range(2)
    ]
    output = StringIO()

    call_command("run_matching", "--as-of", "2024-06-30", stdout=output)

    for order in orders:
        codes = Discrepancy.objects.filter(order=order).values_list("code", flat=True)
        assert list(codes) == ["NOT_SHIPPED"]
    assert output.getvalue() == (
        "Test Company: 2 orders checked, 0 unchanged, 2 cases opened, 0 resolved\n"
    )


@pytest.mark.parametrize("text", ["30.06.2024", "20240630", "2024-W26-7"])
def test_command_rejects_bad_date(company, text):
    with pytest.raises(CommandError) as raised:
        call_command("run_matching", "--as-of", text)

    assert str(raised.value) == (
        f"--as-of {text!r} is not a date: use YYYY-MM-DD, such as 2024-06-30."
    )
