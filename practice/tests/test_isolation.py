"""No real screen shows a sandbox's orders or cases, to anyone, the learner too.

The rule is in ``reconciliation.selectors.visible_orders`` and
``visible_cases``: companies with a practice session are excluded.
"""

import json

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role
from assist.services import ask_from_context
from conftest import make_person
from practice import services
from practice.tests.conftest import only_case, signed_in
from reconciliation.models import SalesOrder
from reconciliation.selectors import visible_cases, visible_orders

pytestmark = pytest.mark.django_db

ORDER = "PR-SO-1001"
# A link to the order; pages may echo the search words, never link the order.
ORDER_LINK = f"/reconciliation/orders/{ORDER}/"


@pytest.fixture
def session(learner):
    return services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )


@pytest.fixture
def everyone(learner, customer, sales_rep, facilitator):
    return [
        learner,
        customer,
        sales_rep,
        facilitator,
        make_person("mona", Role.MANAGER),
        make_person("wanda", Role.WAREHOUSE, group="warehouse"),
    ]


def test_selectors_leave_sandbox_rows_out(
    session, everyone, make_order, customer_party
):
    real = make_order("10248", customer_party)
    case = only_case(session, "SHORT_PAYMENT")
    # The case is assigned to the learner, the strongest claim anyone has to it.
    services.start_case(session=session, case_id=case.pk, learner=session.learner)

    for person in everyone:
        assert not visible_orders(person).filter(company=session.company).exists()
        assert not visible_cases(person).filter(pk=case.pk).exists()
    manager = everyone[4]
    assert list(visible_orders(manager).values_list("pk", flat=True)) == [real.pk]
    assert SalesOrder.objects.filter(company=session.company).count() == 1


def test_real_pages_hide_sandbox(session, everyone):
    case = only_case(session, "SHORT_PAYMENT")
    services.start_case(session=session, case_id=case.pk, learner=session.learner)

    for person in everyone:
        client = signed_in(person)
        order_page = client.get(f"/reconciliation/orders/{ORDER}/")
        assert order_page.status_code == 404, person.username
        for params in ({}, {"q": ORDER}):
            listing = client.get("/reconciliation/orders/", params)
            assert ORDER_LINK not in listing.content.decode()
        assert client.get(f"/reconciliation/cases/{case.pk}/").status_code == 404
        moved = client.post(
            f"/reconciliation/cases/{case.pk}/move/",
            {"to": "resolved", "resolution_code": "write_off", "note": "x"},
        )
        assert moved.status_code == 404
        inbox = client.get("/reconciliation/cases/", {"state": "in_progress"})
        if person.is_external:
            assert inbox.status_code == 404
        else:
            assert inbox.status_code == 200
            assert f"/reconciliation/cases/{case.pk}/" not in inbox.content.decode()
        api_list = client.get("/api/reconciliation/orders")
        assert ORDER not in json.dumps(api_list.json())
        assert client.get(f"/api/reconciliation/orders/{ORDER}").status_code == 404
        found = client.get("/search/", {"q": ORDER})
        assert ORDER_LINK not in found.content.decode()
        searched = client.get("/api/search", {"q": ORDER}).json()
        assert (searched["total"], searched["results"]) == (0, [])
    case.refresh_from_db()
    assert case.state == "in_progress"


def test_help_panel_ask_rejects_sandbox_order(session):
    with pytest.raises(ValidationError) as error:
        ask_from_context(
            asker=session.learner,
            context_key="reconciliation.order",
            title="Why is this short?",
            body="The customer paid less.",
            record_ref=ORDER,
        )

    assert error.value.messages == [
        f"Order {ORDER!r} is not among the orders you can see: ask from the "
        "order's own page."
    ]
