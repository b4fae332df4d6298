"""The help panel and the ask confirmation for a reader who is a super-user."""

import re

import pytest

from accounts.models import Role, SuperUserAssignment
from assist.services import set_availability
from conftest import make_person
from core.testing import signed_in

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"


def panel_html(person) -> str:
    response = signed_in(person).get("/assist/panel/", {"context": SHORT_PAYMENT})
    assert response.status_code == 200
    return response.content.decode()


def listed_super_users(html: str) -> list[str]:
    items = re.findall(r'<li data-testid="super-user">(.*?)</li>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def ask(person, title: str) -> str:
    response = signed_in(person).post(
        "/assist/ask/",
        {"context": SHORT_PAYMENT, "title": title, "body": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.content.decode()
    return " ".join(response.content.decode().split())


class TestPanelForTheOnlySuperUser:
    def test_panel_says_the_reader_is_the_super_user(self, super_user):
        html = panel_html(super_user)

        assert 'data-testid="reader-is-super-user"' in html
        assert "You are this function's super-user" in html
        assert 'data-testid="availability-form"' in html

    def test_panel_says_nobody_else_is_named(self, super_user):
        html = panel_html(super_user)

        assert listed_super_users(html) == []
        assert "No other super-user is named for this function." in html
        assert "No super-users named for this function yet." not in html

    def test_ask_section_says_where_it_goes(self, super_user):
        html = " ".join(panel_html(super_user).split())

        assert (
            "You are the only super-user for payments, so your question goes "
            "to its community."
        ) in html

    def test_confirmation_does_not_claim_nobody_is_available(
        self, super_user, payments_community
    ):
        confirmation = ask(super_user, "Who signs off a write-off?")

        assert "has no active super-user" not in confirmation
        assert (
            "You are a super-user for Payments, and no other active super-user "
            "of it can read the question"
        ) in confirmation


class TestPanelForOneOfSeveralSuperUsers:
    @pytest.fixture
    def anna(self, payments):
        person = make_person("anna", Role.FINANCE_CLERK)
        SuperUserAssignment.objects.create(person=person, crm_function=payments)
        return person

    def test_others_are_listed_without_the_reader(self, super_user, anna):
        set_availability(person=anna, status="available")

        html = panel_html(super_user)

        assert "You are this function's super-user" in html
        assert listed_super_users(html) == ["Anna Tester available now"]
        assert "The other super-users, available first:" in html

    def test_confirmation_names_the_other_super_user(
        self, super_user, anna, payments_community
    ):
        confirmation = ask(super_user, "Who signs off a write-off?")

        assert "Notified: Anna Tester (a super-user for Payments)." in confirmation

    def test_panel_lists_all_for_non_super_user(self, sales_rep, super_user, anna):
        html = panel_html(sales_rep)

        assert 'data-testid="reader-is-super-user"' not in html
        assert listed_super_users(html) == ["Anna Tester", "Petra Tester"]
        assert 'data-testid="availability-form"' not in html


def test_ask_without_super_users_goes_to_community(sales_rep, payments):
    html = " ".join(panel_html(sales_rep).split())

    assert "No super-users named for this function yet." in html
    assert (
        "No super-user is named for payments yet, so your question goes to "
        "its community."
    ) in html
    assert "goes to the super-users" not in html
