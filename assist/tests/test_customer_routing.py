"""A customer's question from a portal screen reaches the people who serve them."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import CrmFunction, Role, SuperUserAssignment
from answers.models import Question
from answers.selectors import visible_questions
from assist.services import (
    ask_and_route,
    escalate_unanswered_questions,
    set_availability,
)
from communities.models import Membership
from conftest import make_person
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def routed_to(question: Question) -> list[str]:
    rows = Notification.objects.filter(
        subject_key=f"question:{question.pk}", kind="question_routed"
    ).order_by("recipient__username")
    return [row.recipient.username for row in rows]


def super_user_for(username: str, slug: str):
    person = make_person(username, Role.FINANCE_CLERK, group="operations")
    function = CrmFunction.objects.get(slug=slug)
    SuperUserAssignment.objects.create(person=person, crm_function=function)
    person.crm_functions.add(function)
    return person


@pytest.fixture
def account_rep(customer_party):
    rep = make_person("rita", Role.SALES_REP, group="sales")
    customer_party.sales_rep = rep
    customer_party.save(update_fields=["sales_rep"])
    return rep


@pytest.fixture
def bystanders(db):
    """Staff who serve neither this customer nor the screen's function."""
    return [
        make_person("walt", Role.WAREHOUSE, group="warehouse"),
        super_user_for("ines", "invoicing"),
    ]


def test_order_question_reaches_reps_and_super_user(
    customer, customer_community, account_rep, sales_rep, make_order, bystanders
):
    make_order("10651", customer.customer, sales_rep=sales_rep)
    janet = super_user_for("janet", "order_entry")

    outcome = ask_and_route(
        asker=customer,
        context_key="portal.order",
        title="When will the missing tofu arrive?",
        body="",
        record_ref="10651",
    )

    assert outcome.question.community == customer_community
    assert routed_to(outcome.question) == ["janet", "rita", "sally"]
    assert [r.person for r in outcome.notified] == [sales_rep, account_rep, janet]
    assert [r.reason for r in outcome.notified] == [
        "the sales representative for 10651",
        "your account's sales representative",
        "a super-user for Order entry",
    ]


def test_statement_question_reaches_payments(
    customer, customer_community, account_rep, super_user, bystanders
):
    outcome = ask_and_route(
        asker=customer,
        context_key="portal.statement",
        title="Why is my balance 12.00?",
        body="",
    )

    assert routed_to(outcome.question) == ["petra", "rita"]


def test_parent_account_rep_is_notified(
    customer, customer_community, customer_party, company
):
    from reconciliation.models import Party

    parent_rep = make_person("pablo", Role.SALES_REP, group="sales")
    parent = Party.objects.create(
        company=company,
        code="PARNT",
        name="Parent Holding",
        currency_id="USD",
        sales_rep=parent_rep,
    )
    customer_party.parent = parent
    customer_party.save(update_fields=["parent"])

    outcome = ask_and_route(
        asker=customer, context_key="portal", title="Who is my contact?", body=""
    )

    assert routed_to(outcome.question) == ["pablo"]


def test_customer_question_visible_to_staff_and_own_company(
    customer, customer_community, account_rep, other_party
):
    stranger = make_person("bea", Role.CUSTOMER, customer=other_party)
    colleague = make_person("carl", Role.CUSTOMER, customer=customer.customer)

    question = ask_and_route(
        asker=customer, context_key="portal.statement", title="Balance?", body=""
    ).question

    assert visible_questions(account_rep).filter(pk=question.pk).exists()
    assert visible_questions(colleague).filter(pk=question.pk).exists()
    assert not visible_questions(stranger).filter(pk=question.pk).exists()


def test_inactive_rep_is_not_notified(customer, customer_community, account_rep):
    account_rep.is_active = False
    account_rep.save(update_fields=["is_active"])

    outcome = ask_and_route(
        asker=customer, context_key="portal.problem", title="Broken jars", body=""
    )

    assert outcome.notified == []
    assert routed_to(outcome.question) == []


def ask_in_panel(person, data) -> str:
    client = Client()
    client.force_login(person)
    response = client.post("/assist/ask/", data, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.content
    return response.content.decode()


def test_customer_confirmation_names_visible_staff(
    customer, customer_community, account_rep, super_user
):
    account_rep.visible_to_customers = True
    account_rep.save(update_fields=["visible_to_customers"])

    html = ask_in_panel(customer, {"context": "portal.statement", "title": "Why?"})

    assert (
        "Posted to Customer corner. Notified: Rita Tester (your account&#x27;s "
        "sales representative), and 1 more colleague: a super-user for Payments. "
        "If nobody answers within 2 hours, more of our colleagues are asked."
    ) in html
    assert "Petra" not in html
    assert "have been notified" not in html


def test_customer_confirmation_counts_unnamed_staff(
    customer, customer_community, account_rep, super_user
):
    html = ask_in_panel(customer, {"context": "portal.statement", "title": "Why?"})

    assert (
        "Posted to Customer corner. Notified 2 colleagues: your account&#x27;s "
        "sales representative and a super-user for Payments."
    ) in html
    assert "Rita" not in html
    assert "Petra" not in html


def test_customer_confirmation_when_nobody_notified(customer, customer_community):
    html = ask_in_panel(customer, {"context": "portal", "title": "Hello?"})

    assert (
        "Posted to Customer corner. Nobody could be notified directly, because "
        "no sales representative or super-user is recorded for your account. "
        "If nobody answers within 2 hours, more of our colleagues are asked."
    ) in html


def test_staff_confirmation_names_super_users(
    sales_rep, super_user, payments_community
):
    # With nobody available now the confirmation says so, as
    # test_routing_availability.py shows.
    set_availability(person=super_user, status="available")
    html = ask_in_panel(
        sales_rep,
        {"context": "reconciliation.order.short_payment", "title": "Write off?"},
    )

    assert (
        "Posted to Payments. Notified: Petra Tester (a super-user for Payments). "
        "If nobody answers within 2 hours, colleagues in Payments are asked."
    ) in html


def test_staff_confirmation_without_super_users(sales_rep, payments_community):
    html = ask_in_panel(
        sales_rep,
        {"context": "reconciliation.order.short_payment", "title": "Write off?"},
    )

    assert "Nobody could be notified directly, because Payments has no active " in html
    assert "super-users have been notified" not in html


def test_repeated_question_names_earlier_recipients(
    customer, customer_community, account_rep
):
    first = ask_and_route(
        asker=customer, context_key="portal.statement", title="Balance?", body=""
    )
    second = ask_and_route(
        asker=customer, context_key="portal.statement", title="Balance?", body=""
    )

    assert second.question == first.question
    assert second.repeated is True
    assert [r.person for r in second.notified] == [account_rep]
    assert Notification.objects.filter(recipient=account_rep).count() == 1


def test_customer_question_escalates_to_function_community(
    customer, customer_community, payments_community, payments, super_user
):
    clerk = make_person("pat", Role.FINANCE_CLERK, group="operations")
    clerk.crm_functions.add(payments)
    Membership.objects.create(community=payments_community, person=clerk)
    Membership.objects.create(community=payments_community, person=super_user)
    Membership.objects.create(community=customer_community, person=customer)
    question = ask_and_route(
        asker=customer, context_key="portal.statement", title="Balance?", body=""
    ).question
    Question.objects.filter(pk=question.pk).update(
        created_at=timezone.now() - timedelta(minutes=121)
    )

    assert escalate_unanswered_questions() == [question.pk]

    told = Notification.objects.filter(subject_key=f"question-escalated:{question.pk}")
    assert [note.recipient.username for note in told] == ["pat"]
