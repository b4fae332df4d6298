"""The people directory: search by name, skill and function, paging, customers."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import selectors
from accounts.models import Role, SuperUserAssignment, User
from accounts.profiles import update_profile
from conftest import make_person

pytestmark = pytest.mark.django_db

USERNAMES = re.compile(r'data-testid="person" data-username="([^"]+)"')


def signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def listed(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/people/{query}")
    assert response.status_code == 200
    return USERNAMES.findall(response.content.decode())


def give_skills(person: User, *skills: str) -> None:
    update_profile(
        actor=person, person=person, headline="", about="", skills=list(skills)
    )


@pytest.fixture
def staff(outsider, sales_rep, super_user, facilitator, payments) -> None:
    """Otto (warehouse), Sally (sales, payments), Petra (payments super-user), Fran."""
    give_skills(outsider, "Backorders", "Returns")
    give_skills(sales_rep, "Key accounts", "SQL")
    give_skills(super_user, "Cash application", "sql")
    sales_rep.crm_functions.add(payments)


class TestSearch:
    def test_everyone_in_name_order(self, outsider, staff, customer):
        assert listed(signed_in(outsider)) == [
            "carla",
            "fran",
            "otto",
            "petra",
            "sally",
        ]

    def test_by_name_words(self, outsider, staff):
        client = signed_in(outsider)
        assert listed(client, "?q=sal") == ["sally"]
        assert listed(client, "?q=tester+pet") == ["petra"]
        assert listed(client, "?q=OTTO") == ["otto"]
        assert listed(client, "?q=nobody") == []

    def test_by_skill_in_any_spelling(self, outsider, staff):
        client = signed_in(outsider)
        assert listed(client, "?skill=sql") == ["petra", "sally"]
        assert listed(client, "?skill=%EF%BC%B3%EF%BC%B1%EF%BC%AC") == [
            "petra",
            "sally",
        ]
        assert listed(client, "?skill=Returns") == ["otto"]
        assert listed(client, "?skill=cobol") == []

    def test_by_function_workers_and_super_users(self, outsider, staff):
        client = signed_in(outsider)
        assert listed(client, "?function=payments") == ["petra", "sally"]
        assert listed(client, "?function=disputes") == []

    def test_filters_combine(self, outsider, staff):
        client = signed_in(outsider)
        assert listed(client, "?skill=sql&function=payments&q=petra") == ["petra"]

    def test_by_audience(self, outsider, staff, customer):
        client = signed_in(outsider)
        assert listed(client, "?audience=staff") == ["fran", "otto", "petra", "sally"]
        assert listed(client, "?audience=customers") == ["carla"]

    def test_customer_card_names_company(self, outsider, customer):
        html = signed_in(outsider).get("/people/?q=carla").content.decode()
        assert "Customer · Alfreds Futterkiste</p>" in html

    def test_skill_chips_link_to_search(self, outsider, staff):
        html = signed_in(outsider).get("/people/?q=petra").content.decode()
        assert '<a href="?skill=cash%20application">Cash application</a>' in html

    def test_inactive_people_not_listed(self, outsider, staff, sales_rep):
        User.objects.filter(pk=sales_rep.pk).update(is_active=False)
        assert listed(signed_in(outsider), "?skill=sql") == ["petra"]


class TestBadInput:
    def test_unknown_function(self, outsider):
        response = signed_in(outsider).get("/people/?function=sales")
        assert response.status_code == 400
        assert (
            "No CRM function has the slug &#x27;sales&#x27;: pick one from the list."
            in response.content.decode()
        )
        assert USERNAMES.findall(response.content.decode()) == []

    def test_unknown_audience(self, outsider):
        response = signed_in(outsider).get("/people/?audience=robots")
        assert response.status_code == 400
        assert (
            "The value &#x27;robots&#x27; is not a choice for Who: pick everyone, "
            "staff or customers." in response.content.decode()
        )

    def test_name_too_long(self, outsider):
        response = signed_in(outsider).get("/people/?q=" + "a" * 101)
        assert response.status_code == 400
        assert (
            "The name search is 101 characters long; the limit is 100: search "
            "for fewer words." in response.content.decode()
        )

    def test_control_characters_are_removed(self, outsider, staff):
        assert listed(signed_in(outsider), "?q=ot%01to%E2%80%8B") == ["otto"]

    def test_null_character_rejected(self, outsider):
        response = signed_in(outsider).get("/people/?skill=a%00b")
        assert response.status_code == 400
        assert (
            "The skill search contains a null character, which text cannot hold"
        ) in response.content.decode()

    def test_page_past_the_end_shows_last(self, outsider, staff, monkeypatch):
        monkeypatch.setattr(selectors, "DIRECTORY_PAGE_SIZE", 2)
        assert listed(signed_in(outsider), "?page=99") == ["petra", "sally"]
        assert listed(signed_in(outsider), "?page=abc") == ["fran", "otto"]


class TestCustomerDirectory:
    @pytest.fixture
    def shown(self, staff, super_user, sales_rep, manager_of_petra) -> None:
        User.objects.filter(pk=super_user.pk).update(
            visible_to_customers=True, headline="Payments help"
        )

    @pytest.fixture
    def manager_of_petra(self, super_user) -> User:
        boss = make_person("max", Role.MANAGER, group="operations")
        super_user.manager = boss
        super_user.save()
        return boss

    def test_only_visible_staff_and_self(self, customer, shown, other_party):
        make_person("olga", Role.CUSTOMER, customer=other_party, group="customers")
        assert listed(signed_in(customer)) == ["carla", "petra"]

    def test_search_stays_inside_visible(self, customer, shown):
        client = signed_in(customer)
        assert listed(client, "?skill=sql") == ["petra"]
        assert listed(client, "?q=sally") == []
        assert listed(client, "?function=payments") == ["petra"]

    def test_only_public_fields_in_html(self, customer, shown):
        html = signed_in(customer).get("/people/?q=petra").content.decode()
        for public in ("Petra Tester", "Payments help", "Super-user · Payments"):
            assert public in html
        for internal in ("petra@example.com", "Operations<", "Max Tester"):
            assert internal not in html
        assert 'class="muted internal"' not in html

    def test_suggestions_only_from_visible(self, customer, shown):
        html = signed_in(customer).get("/people/").content.decode()
        assert '<option value="Cash application">' in html
        assert '<option value="Key accounts">' not in html
        assert '<option value="Backorders">' not in html

    def test_customer_title_names_company(self, customer, sales_rep, outsider):
        """A customer's own title is read as their company's, not as staff."""
        User.objects.filter(pk=customer.pk).update(title="Sales Representative")
        User.objects.filter(pk=sales_rep.pk).update(title="Key account lead")
        company = customer.customer.name
        html = signed_in(outsider).get("/people/").content.decode()

        assert f"Customer · Sales Representative at {company}" in html
        assert "Key account lead · Sales representative" in html
        profile = signed_in(outsider).get(f"/people/{customer.username}/")
        assert f"Customer · Sales Representative at {company}" in (
            profile.content.decode()
        )

    def test_employee_sees_learner_group(self, outsider, shown):
        html = signed_in(outsider).get("/people/?q=petra").content.decode()
        assert '<p class="muted internal">Operations</p>' in html


def directory_queries(client: Client, page_size: int, monkeypatch) -> int:
    monkeypatch.setattr(selectors, "DIRECTORY_PAGE_SIZE", page_size)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/people/")
    assert response.status_code == 200
    assert len(USERNAMES.findall(response.content.decode())) == page_size
    return len(captured)


def test_query_count_constant_over_page_size(outsider, payments, monkeypatch):
    for number in range(12):
        person = make_person(f"user{number:02}", Role.SALES_REP, group="sales")
        give_skills(person, "Payments", f"Skill {number}")
        person.crm_functions.add(payments)
        SuperUserAssignment.objects.create(person=person, crm_function=payments)
    client = signed_in(outsider)
    client.get("/people/")  # the session is read and cached on the first request

    small = directory_queries(client, 2, monkeypatch)
    large = directory_queries(client, 12, monkeypatch)

    assert small == large
    # Session, viewer, unread count; then the count, the page, its prefetched
    # functions, skills and super-users, the function list and the suggestions.
    assert large == 10
