"""Who sees which community, and what is inside it."""

import pytest
from django.db import connection

from accounts.models import Role
from answers.services import create_question
from communities.selectors import visible_communities
from conftest import make_person
from core.testing import signed_in

pytestmark = pytest.mark.django_db


def slugs(person) -> list[str]:
    return sorted(visible_communities(person).values_list("slug", flat=True))


def test_employee_sees_open_and_customer_spaces(
    outsider, payments_community, customer_community, private_community
):
    assert slugs(outsider) == ["customer-corner", "payments"]


def test_member_sees_private_space(
    facilitator, payments_community, customer_community, private_community
):
    assert slugs(facilitator) == ["customer-corner", "payments", "pricing-internal"]


def test_customer_sees_customer_spaces_only(
    customer, payments_community, customer_community, private_community
):
    assert slugs(customer) == ["customer-corner"]


def test_visible_communities_has_no_duplicates(
    outsider, sales_rep, facilitator, payments_community
):
    from communities.models import Membership

    for person in (outsider, sales_rep, facilitator):
        Membership.objects.create(community=payments_community, person=person)
    assert visible_communities(outsider).count() == 1


def test_outsider_gets_404_for_private_space_and_its_questions(
    outsider, facilitator, private_community
):
    question = create_question(
        author=facilitator,
        community=private_community,
        title="Discount floor for BONAP?",
    )
    client = signed_in(outsider)

    page = client.get("/communities/pricing-internal/")
    assert page.status_code == 404
    assert b"Pricing internal" not in page.content

    question_page = client.get(f"/questions/{question.pk}/")
    assert question_page.status_code == 404
    assert b"BONAP" not in question_page.content

    api = client.get(f"/api/answers/questions/{question.pk}")
    assert api.status_code == 404
    assert "BONAP" not in api.content.decode()


def test_member_reads_private_question(facilitator, private_community):
    question = create_question(
        author=facilitator,
        community=private_community,
        title="Discount floor for BONAP?",
    )
    response = signed_in(facilitator).get(f"/api/answers/questions/{question.pk}")
    assert response.status_code == 200
    assert response.json()["title"] == "Discount floor for BONAP?"


def test_community_page_lists_questions(sales_rep, payments_community):
    create_question(
        author=sales_rep, community=payments_community, title="Where is the remittance?"
    )
    response = signed_in(sales_rep).get("/communities/payments/")
    assert response.status_code == 200
    assert b"Where is the remittance?" in response.content


@pytest.mark.parametrize("who", ["outsider", "facilitator", "customer", "sales_rep"])
def test_kept_rule_matches_viewer_rule(
    who, request, payments_community, customer_community, private_community
):
    """The rule kept per audience compiles to what the viewer's own rule does."""
    from communities.selectors import visible_communities_sql

    person = request.getfixturevalue(who)
    own = visible_communities(person).order_by().values("id").query.sql_with_params()
    sql, params = visible_communities_sql(person)

    assert (sql, params) == (own[0], list(own[1]))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = sorted(row[0] for row in cursor.fetchall())
    assert ids == sorted(visible_communities(person).values_list("id", flat=True))


@pytest.mark.parametrize("who", ["outsider", "facilitator", "customer", "sales_rep"])
def test_visible_community_ids_match_viewer_rule(
    who, request, payments_community, customer_community, private_community
):
    from communities.selectors import visible_community_ids

    person = request.getfixturevalue(who)
    expected = sorted(visible_communities(person).values_list("id", flat=True))

    assert visible_community_ids(person) == expected


def test_community_page_lists_only_visible_questions(
    customer, customer_party, other_party, customer_community
):
    create_question(
        author=customer,
        community=customer_community,
        title="Where is the Alfreds credit note?",
        customer=customer_party,
    )
    stranger = make_person("bert", Role.CUSTOMER, customer=other_party)

    own = signed_in(customer).get("/communities/customer-corner/")
    other = signed_in(stranger).get("/communities/customer-corner/")

    assert b"Where is the Alfreds credit note?" in own.content
    assert other.status_code == 200
    assert b"Where is the Alfreds credit note?" not in other.content


def test_community_page_shows_hidden_staff_by_role(
    customer, sales_rep, customer_community
):
    create_question(
        author=sales_rep, community=customer_community, title="Any late deliveries?"
    )

    page = signed_in(customer).get("/communities/customer-corner/").content.decode()

    assert "Any late deliveries?" in page
    assert sales_rep.display_name not in page
    assert "Sales representative" in page
