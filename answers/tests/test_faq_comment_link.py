"""The post page links each comment to "Make FAQ entry" for FAQ curators only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from social.services import post_comment, publish_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(sales_rep, payments_community):
    return publish_post(
        author=sales_rep, community=payments_community, body="Short-pay tip."
    )


def _link(comment) -> str:
    return f'<a href="/questions/faq/new/?comment={comment.pk}"'


def test_curator_sees_link_on_comment(signed_in, post, outsider, super_user):
    comment = post_comment(author=outsider, post=post, body="Code BF.")
    html = signed_in(super_user).get(f"/posts/{post.pk}/").content.decode()
    assert _link(comment) in html


def test_non_curator_sees_no_link(signed_in, post, outsider, sales_rep):
    comment = post_comment(author=outsider, post=post, body="Code BF.")
    html = signed_in(sales_rep).get(f"/posts/{post.pk}/").content.decode()
    assert _link(comment) not in html


def test_customer_sees_no_link(signed_in, customer, sales_rep, customer_community):
    post = publish_post(author=sales_rep, community=customer_community, body="Hi")
    comment = post_comment(author=sales_rep, post=post, body="Welcome.")
    html = signed_in(customer).get(f"/posts/{post.pk}/").content.decode()
    assert "Welcome." in html
    assert _link(comment) not in html


def test_private_community_comment_has_no_link(
    signed_in, facilitator, private_community
):
    post = publish_post(author=facilitator, community=private_community, body="v7")
    comment = post_comment(author=facilitator, post=post, body="Floor 4.10.")
    html = signed_in(facilitator).get(f"/posts/{post.pk}/").content.decode()
    assert "Floor 4.10." in html
    assert _link(comment) not in html


def test_link_check_costs_one_query(signed_in, post, outsider, super_user):
    client = signed_in(super_user)
    post_comment(author=outsider, post=post, body="First.")
    with CaptureQueriesContext(connection) as one_comment:
        client.get(f"/posts/{post.pk}/")
    for number in range(5):
        post_comment(author=outsider, post=post, body=f"More {number}.")
    with CaptureQueriesContext(connection) as six_comments:
        html = client.get(f"/posts/{post.pk}/").content.decode()
    assert html.count('data-testid="make-faq-entry"') == 6
    assert len(six_comments.captured_queries) == len(one_comment.captured_queries)


@pytest.fixture
def private_post(facilitator, private_community, moderator):
    from communities.models import Membership

    Membership.objects.create(
        community=private_community, person=moderator, role=Membership.Role.MEMBER
    )
    return publish_post(author=facilitator, community=private_community, body="v7")


# Each person's view of a comment on an open and on a private community's
# post: the status of the post page and whether it links "Make FAQ entry".
# The facilitator is a member of the private community and an FAQ curator,
# and so is the moderator.
PEOPLE = ["outsider", "facilitator", "customer", "moderator"]
OPEN_POST_VIEW = {
    "outsider": (200, False),
    "facilitator": (200, True),
    "customer": (404, False),
    "moderator": (200, True),
}
PRIVATE_POST_VIEW = {
    "outsider": (404, False),
    "facilitator": (200, False),
    "customer": (404, False),
    "moderator": (200, False),
}


@pytest.mark.parametrize("person_name", PEOPLE)
def test_open_community_link_by_person(request, signed_in, post, person_name):
    person = request.getfixturevalue(person_name)
    comment = post_comment(author=post.author, post=post, body="Code BF.")
    response = signed_in(person).get(f"/posts/{post.pk}/")
    status, linked = OPEN_POST_VIEW[person_name]
    assert response.status_code == status
    assert (_link(comment) in response.content.decode()) is linked


@pytest.mark.parametrize("person_name", PEOPLE)
def test_private_community_link_by_person(
    request, signed_in, private_post, person_name
):
    person = request.getfixturevalue(person_name)
    comment = post_comment(author=private_post.author, post=private_post, body="4.1")
    response = signed_in(person).get(f"/posts/{private_post.pk}/")
    status, linked = PRIVATE_POST_VIEW[person_name]
    assert response.status_code == status
    assert (_link(comment) in response.content.decode()) is linked


def test_deleted_post_comment_has_no_link(signed_in, post, outsider, super_user):
    from social.services.posts import delete_post

    comment = post_comment(author=outsider, post=post, body="Code BF.")
    delete_post(actor=post.author, post=post)
    html = signed_in(super_user).get(f"/posts/{post.pk}/").content.decode()
    assert "Code BF." in html
    assert _link(comment) not in html
