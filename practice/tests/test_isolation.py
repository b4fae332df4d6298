"""No real screen shows a sandbox's orders or cases, to anyone, the learner too.

The rule is in ``reconciliation.selectors.visible_orders`` and
``visible_cases``: companies with a practice session are excluded. The
other way round, the work screens opened from a session reach only that
session's sandbox: a real order or case, or another person's session, is a
404 there.
"""

import json

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role
from assist.services import ask_from_context
from conftest import make_person
from practice import services
from practice.tests.conftest import case_number, only_case, signed_in
from reconciliation.models import (
    Allocation,
    Discrepancy,
    Party,
    Payment,
    SalesOrder,
    Shipment,
)
from reconciliation.selectors import visible_cases, visible_orders
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_invoice
from reconciliation.tests.shipment_forms import with_form_token

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


# The work screens opened from a practice session.

BACKORDER = "unshipped-backorder"


def work_urls(session, order: str, number: int) -> list[tuple[str, dict[str, str]]]:
    """Return each work screen route of ``session`` with a valid POST body.

    ``number`` goes where the routes take a case's session number.
    """
    base = f"/practice/sessions/{session.pk}/work/"
    orders = f"{base}orders/{order}/"
    cases = f"{base}cases/{number}/"
    case_page = f"/practice/sessions/{session.pk}/cases/{number}/"
    return [
        (f"{orders}fulfilment/", {}),
        (
            f"{orders}shipments/",
            with_form_token({"picked_2": "24", "shipped_2": "24", "ship": "1"}),
        ),
        (f"{orders}drafts/discard/", {"shipment": "PR-SH-3001"}),
        (f"{orders}shortage/", {"line": "2", "qty": "24", "note": "None left."}),
        (cases, {}),
        (f"{cases}backorder/", {"decision": "ship_later", "reason": "Later."}),
        (f"{cases}price/", {"reason": "The price is right."}),
        (f"{cases}credit-note/", {"amount": "10.00", "message": "Sorry."}),
        (f"{base}cash/", {"payment": "1", "party": "1"}),
        (f"{base}cash/apply/", {"payment": "1", "invoice": "1", "amount": "1.00"}),
        (case_page, {}),
        (f"{case_page}move/", {"to": "in_progress", "reason": "Mine."}),
        (f"{case_page}comments/", {"body": "Looking into it."}),
        (f"{case_page}write-off/", {"reason": "Bank fee."}),
    ]


def sandbox_rows(session) -> list[object]:
    """Return what a stray request could change in the sandbox."""
    case = only_case(session, "NOT_SHIPPED")
    return [
        case.state,
        case.assignee_id,
        Discrepancy.objects.filter(company=session.company).count(),
        Shipment.objects.filter(company=session.company).count(),
        Allocation.objects.filter(payment__company=session.company).count(),
    ]


def test_session_screens_404_for_others(learner, everyone):
    session = services.start_session(learner=learner, scenario_key=BACKORDER)
    case = only_case(session, "NOT_SHIPPED")
    before = sandbox_rows(session)
    others = [person for person in everyone if person != learner]
    others.append(make_person("olga", Role.FINANCE_CLERK, group="operations"))

    for person in others:
        client = signed_in(person)
        for url, data in work_urls(session, "PR-SO-3001", case_number(session, case)):
            assert client.get(url).status_code == 404, (person.username, url)
            assert client.post(url, data).status_code == 404, (person.username, url)

    assert sandbox_rows(session) == before


def test_session_screens_404_for_real_rows(
    learner, make_order, customer_party, sales_rep
):
    session = services.start_session(learner=learner, scenario_key=BACKORDER)
    real_order = make_order("10248", customer_party, sales_rep=sales_rep)
    real_case = make_case(real_order, code="NOT_SHIPPED", owner_role=Role.SALES_REP)
    client = signed_in(learner)

    for url, data in work_urls(session, real_order.number, real_case.pk):
        if "/orders/" not in url and "/cases/" not in url:
            continue
        # A POST-only route returns 405 to a GET before it reads any row.
        if not data:
            assert client.get(url).status_code == 404, url
        assert client.post(url, data).status_code == 404, url

    real_case.refresh_from_db()
    assert (real_case.state, real_case.assignee_id) == ("open", None)
    assert not real_order.shipments.exists()


def test_session_screens_404_for_other_session(learner):
    mine = services.start_session(learner=learner, scenario_key=BACKORDER)
    other = services.start_session(learner=learner, scenario_key=BACKORDER)
    foreign = only_case(other, "NOT_SHIPPED")
    client = signed_in(learner)

    url = f"/practice/sessions/{mine.pk}/work/cases/{foreign.pk}/backorder/"
    response = client.post(url, {"decision": "ship_later", "reason": "Later."})

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.state, foreign.assignee_id) == ("open", None)


def test_session_cash_rejects_real_payment(learner, make_order, customer_party):
    session = services.start_session(learner=learner, scenario_key="unapplied-payment")
    order = make_order("10248", customer_party)
    real = Payment.objects.create(
        company=customer_party.company,
        number="REAL-PAY-1",
        party=customer_party,
        amount="50.00",
        amount_unallocated="50.00",
        currency_id=customer_party.currency_id,
        value_date="2025-03-01",
    )
    unknown = Payment.objects.create(
        company=customer_party.company,
        number="REAL-PAY-2",
        amount="50.00",
        amount_unallocated="50.00",
        currency_id=customer_party.currency_id,
        value_date="2025-03-01",
    )
    invoice = create_invoice(order=order)
    client = signed_in(learner)
    base = f"/practice/sessions/{session.pk}/work/cash/"

    applied = client.post(
        f"{base}apply/",
        {"payment": real.pk, "invoice": invoice.pk, "amount": "10.00"},
        follow=True,
    )
    assigned = client.post(
        base, {"payment": unknown.pk, "party": customer_party.pk}, follow=True
    )

    assert [str(item) for item in applied.context["messages"]] == [
        "That payment or invoice is no longer open: reload the screen."
    ]
    assert [str(item) for item in assigned.context["messages"]] == [
        "That payment already has a customer or is no longer open: reload the screen."
    ]
    assert not Allocation.objects.filter(payment=real).exists()
    unknown.refresh_from_db()
    assert unknown.party_id is None


def test_real_work_screens_hide_sandbox(session, everyone):
    sandbox = services.start_session(learner=session.learner, scenario_key=BACKORDER)
    case = only_case(sandbox, "NOT_SHIPPED")
    payment = Payment.objects.get(company=session.company, number="PR-PAY-1001")
    before = sandbox_rows(sandbox)

    for person in everyone:
        client = signed_in(person)
        for url, data in [
            ("/reconciliation/work/orders/PR-SO-3001/fulfilment/", {}),
            (
                "/reconciliation/work/orders/PR-SO-3001/shipments/",
                with_form_token({"picked_2": "24", "shipped_2": "24", "ship": "1"}),
            ),
            (
                "/reconciliation/work/orders/PR-SO-3001/shortage/",
                {"line": "2", "qty": "24", "note": "None left."},
            ),
            (f"/reconciliation/work/cases/{case.pk}/", {}),
            (
                f"/reconciliation/work/cases/{case.pk}/backorder/",
                {"decision": "ship_later", "reason": "Later."},
            ),
            (f"/reconciliation/cases/{case.pk}/", {}),
            (
                f"/reconciliation/cases/{case.pk}/move/",
                {"to": "in_progress", "reason": "Mine."},
            ),
            (f"/reconciliation/cases/{case.pk}/comments/", {"body": "Hello."}),
        ]:
            # 403 for a role the screen is not for, 404 for the right one.
            if not data:
                status = client.get(url).status_code
                assert status in (403, 404), (person.username, url)
            status = client.post(url, data).status_code
            assert status in (403, 404), (person.username, url)
        if person.role == Role.FINANCE_CLERK:
            cash = client.get("/reconciliation/work/cash/").content.decode()
            assert "PR-PAY-1001" not in cash
            client.post(
                "/reconciliation/work/cash/apply/",
                {"payment": payment.pk, "invoice": "1", "amount": "1.00"},
            )

    assert sandbox_rows(sandbox) == before
    assert Allocation.objects.filter(payment=payment).count() == 1


def test_session_cash_hides_real_invoice(learner, make_order, customer_party):
    session = services.start_session(learner=learner, scenario_key="unapplied-payment")
    payment = Payment.objects.get(company=session.company, number="PR-PAY-5001")
    alpen = Party.objects.get(company=session.company, code="ALPEN")
    real = create_invoice(order=make_order("10248", customer_party))
    client = signed_in(learner)
    base = f"/practice/sessions/{session.pk}/work/cash/"
    client.post(base, {"payment": payment.pk, "party": alpen.pk}, follow=True)

    applied = client.post(
        f"{base}apply/",
        {"payment": payment.pk, "invoice": real.pk, "amount": "1.00"},
        follow=True,
    )

    errors = [str(item) for item in applied.context["messages"]]
    assert errors == [
        "That invoice is not an open invoice of payment PR-PAY-5001's customer: "
        "reload the screen and pick one of the open invoices listed for the payment."
    ]
    assert real.number not in applied.content.decode()
    assert not Allocation.objects.filter(payment=payment).exists()


def test_session_cash_hides_real_currency(learner, make_order, customer_party):
    session = services.start_session(learner=learner, scenario_key="unapplied-payment")
    real = Payment.objects.create(
        company=customer_party.company,
        number="REAL-PAY-1",
        party=customer_party,
        amount="50.00",
        amount_unallocated="50.00",
        currency_id="USD",
        value_date="2025-03-01",
    )
    client = signed_in(learner)

    applied = client.post(
        f"/practice/sessions/{session.pk}/work/cash/apply/",
        {"payment": real.pk, "invoice": "1", "amount": "10.001"},
        follow=True,
    )

    errors = [str(item) for item in applied.context["messages"]]
    assert errors == ["That payment or invoice is no longer open: reload the screen."]
    assert "USD" not in applied.content.decode()
