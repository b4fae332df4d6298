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
