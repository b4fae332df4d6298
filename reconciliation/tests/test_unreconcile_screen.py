"""Unreconcile from the order page: the link, the confirmation page, the POST.

A refused POST shows its message and leaves the allocations and the match as
they were.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of
from practice.models import SandboxSession
from reconciliation.matches import unreconcile
from reconciliation.matching import run_matching
from reconciliation.models import Allocation, MatchGroup
from reconciliation.tests.factories import (
    CompanyFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def signed_in(person, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(person)
    return client


def cash_match(company=None):
    order = create_order(lines=[("1", "42.42")], company=company)
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    payment = create_payment(invoice=invoice, amount="42.41")
    run_matching(company=order.company, as_of=AS_OF)
    group = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")
    return order, invoice, payment, group


def url(group) -> str:
    return f"/reconciliation/matches/{group.pk}/unreconcile/"


def unchanged(group, invoice) -> tuple[str, int, int]:
    group.refresh_from_db()
    return (
        group.state,
        Allocation.objects.filter(invoice=invoice).count(),
        AuditEvent.objects.filter(action="match.reversed").count(),
    )


# The link on the order page


@pytest.mark.parametrize("role", [Role.FINANCE_CLERK, Role.MANAGER])
def test_order_page_links_to_unreconcile(role):
    order, invoice, _, group = cash_match()
    response = signed_in(make_person("pat", role)).get(
        f"/reconciliation/orders/{order.number}/"
    )
    page = response.content.decode()
    assert f'href="{url(group)}"' in page
    assert f'data-testid="unreconcile-M{group.pk}"' in page
    assert f'data-testid="unreconcile-invoice-{invoice.number}"' in page


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.SALES_REP])
def test_order_page_hides_link_from_others(role):
    order, _, _, group = cash_match()
    response = signed_in(make_person("pat", role)).get(
        f"/reconciliation/orders/{order.number}/"
    )
    assert response.status_code == 200
    assert url(group) not in response.content.decode()


def test_order_page_hides_link_of_shipment_match(clerk):
    order, _, _, _ = cash_match()
    shipped = MatchGroup.objects.get(key=f"A:order:{order.pk}")
    response = signed_in(clerk).get(f"/reconciliation/orders/{order.number}/")
    assert url(shipped) not in response.content.decode()


# The confirmation page


def test_confirmation_lists_allocations(clerk):
    _, invoice, payment, group = cash_match()
    response = signed_in(clerk).get(url(group))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Unreconcile match M{group.pk}" in page
    assert payment.number in page
    assert "42.41 USD" in page
    assert "0.01 USD" in page
    assert 'name="reason"' in page
    assert "csrfmiddlewaretoken" in page
    assert unchanged(group, invoice)[0] == MatchGroup.State.CONFIRMED


def test_confirmation_of_shipment_match_has_no_form(clerk):
    order, _, _, _ = cash_match()
    shipped = MatchGroup.objects.get(key=f"A:order:{order.pk}")
    response = signed_in(clerk).get(url(shipped))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Only a cash match (invoice to payment) can be unreconciled." in page
    assert 'name="reason"' not in page


# The POST


def test_clerk_unreconciles_with_message(clerk):
    order, invoice, payment, group = cash_match()
    client = signed_in(clerk, csrf=True)
    client.get(url(group))
    token = client.cookies["csrftoken"].value

    response = client.post(
        url(group),
        {"reason": "Paid by the wrong customer", "csrfmiddlewaretoken": token},
        follow=True,
    )

    assert response.redirect_chain == [(f"/reconciliation/orders/{order.number}/", 302)]
    assert messages_of(response) == [
        f"Unreconciled match M{group.pk}. Restored: invoice {invoice.number} is "
        f"open 42.42 USD, payment {payment.number} has 42.41 USD unallocated."
    ]
    group.refresh_from_db()
    assert group.state == MatchGroup.State.REVERSED
    assert group.reversal_reason == "Paid by the wrong customer"
    assert group.reversed_by == clerk
    page = response.content.decode()
    # The reversed match leaves the page, so no link to it is left.
    assert url(group) not in page
    assert f"Reversal of payment {payment.number}" in page


def test_post_without_csrf_token_is_rejected(clerk):
    _, invoice, _, group = cash_match()
    before = unchanged(group, invoice)

    response = signed_in(clerk, csrf=True).post(url(group), {"reason": "Wrong"})

    assert response.status_code == 403
    assert unchanged(group, invoice) == before


@pytest.mark.parametrize("reason", ["", "   ", "\x00\u200b"])
def test_missing_reason_shows_message(clerk, reason):
    _, invoice, _, group = cash_match()
    before = unchanged(group, invoice)

    response = signed_in(clerk).post(url(group), {"reason": reason})

    assert response.status_code == 400
    assert messages_of(response) == [
        f"The reason is missing: say why match M{group.pk} should be "
        "unreconciled. It is kept on the match and in the audit trail."
    ]
    assert 'name="reason"' in response.content.decode()
    assert unchanged(group, invoice) == before


def test_too_long_reason_shows_message(clerk):
    _, invoice, _, group = cash_match()
    before = unchanged(group, invoice)

    response = signed_in(clerk).post(url(group), {"reason": "x" * 501})

    assert response.status_code == 400
    assert messages_of(response) == [
        "The reason has 501 characters, more than the 500 allowed: shorten it."
    ]
    assert unchanged(group, invoice) == before


def test_already_reversed_shows_message(clerk, manager):
    _, invoice, _, group = cash_match()
    unreconcile(group_id=group.pk, actor=manager, reason="Wrong customer")
    before = unchanged(group, invoice)

    response = signed_in(clerk).post(url(group), {"reason": "Again"})

    assert response.status_code == 400
    assert messages_of(response) == [f"Match M{group.pk} is already reversed."]
    page = response.content.decode()
    assert "This match was unreconciled by Mona Tester" in page
    assert "Wrong customer" in page
    assert 'name="reason"' not in page
    assert unchanged(group, invoice) == before


def test_shipment_match_post_shows_message(clerk):
    order, _invoice, _, _ = cash_match()
    shipped = MatchGroup.objects.get(key=f"A:order:{order.pk}")

    response = signed_in(clerk).post(url(shipped), {"reason": "No"})

    assert response.status_code == 400
    assert messages_of(response) == [
        f"Match M{shipped.pk} is a Order to shipment match, which follows the "
        "documents: change the documents instead."
    ]
    shipped.refresh_from_db()
    assert shipped.state != MatchGroup.State.REVERSED


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.SALES_REP])
def test_other_roles_get_403(role):
    _, invoice, _, group = cash_match()
    client = signed_in(make_person("pat", role))
    before = unchanged(group, invoice)

    page = client.get(url(group))
    post = client.post(url(group), {"reason": "Wrong customer"})

    message = (
        f"pat may not unreconcile match M{group.pk}: it is work for a finance "
        "clerk or a manager."
    )
    assert page.status_code == 403
    assert message in page.content.decode()
    assert post.status_code == 403
    assert message in post.content.decode()
    assert unchanged(group, invoice) == before


def test_customer_gets_404(customer):
    _, invoice, _, group = cash_match()
    client = signed_in(customer)
    before = unchanged(group, invoice)

    assert client.get(url(group)).status_code == 404
    assert client.post(url(group), {"reason": "Not mine"}).status_code == 404
    assert unchanged(group, invoice) == before


def test_unknown_match_is_404(clerk):
    response = signed_in(clerk).get("/reconciliation/matches/999999/unreconcile/")
    assert response.status_code == 404


def test_anonymous_is_sent_to_sign_in():
    _, invoice, _, group = cash_match()
    before = unchanged(group, invoice)
    response = Client().post(url(group), {"reason": "Wrong"})
    assert response.status_code == 302
    assert unchanged(group, invoice) == before


def sandbox_match(learner):
    company = CompanyFactory.create(is_sandbox=True)
    session = SandboxSession.objects.create(
        learner=learner,
        scenario_key="short-payment-write-off",
        scenario_version=1,
        company=company,
        started_at=timezone.now(),
    )
    return session, *cash_match(company=company)


def test_sandbox_match_is_404_for_other_employees(clerk):
    learner = make_person("lena", Role.WAREHOUSE)
    _, _, invoice, _, group = sandbox_match(learner)
    before = unchanged(group, invoice)

    client = signed_in(clerk)
    assert client.get(url(group)).status_code == 404
    assert client.post(url(group), {"reason": "Cleanup"}).status_code == 404
    assert unchanged(group, invoice) == before


def test_learner_unreconciles_sandbox_match():
    learner = make_person("lena", Role.WAREHOUSE)
    session, _, invoice, _, group = sandbox_match(learner)

    response = signed_in(learner).post(url(group), {"reason": "Practice"})

    assert response.status_code == 302
    assert response["Location"] == f"/practice/sessions/{session.pk}/"
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("42.42")


def test_finished_sandbox_shows_message():
    learner = make_person("lena", Role.WAREHOUSE)
    session, _, invoice, _, group = sandbox_match(learner)
    session.status = SandboxSession.Status.FINISHED
    session.save(update_fields=["status"])
    client = signed_in(learner)
    before = unchanged(group, invoice)

    page = client.get(url(group))
    post = client.post(url(group), {"reason": "Practice"})

    message = (
        f"Practice session {session.pk} is finished, so match M{group.pk} cannot "
        "be unreconciled: start a new session to practise again."
    )
    for response in (page, post):
        assert response.status_code == 400
        assert messages_of(response) == [message]
        assert 'name="reason"' not in response.content.decode()
    assert unchanged(group, invoice) == before
