"""The community page shows each post's reaction bar in a fixed number of queries."""

import pytest

from communities.tests.conftest import signed_in
from social.services import publish_post, set_reaction
from social.services.shares import share_post

pytestmark = pytest.mark.django_db

DESK = "/communities/payments-desk/"


@pytest.mark.parametrize("post_count", [1, 25])
def test_bar_queries_constant(
    desk, owner, sales_rep, post_count, django_assert_num_queries
):
    for index in range(post_count):
        post = publish_post(author=owner, community=desk, body=f"Tip {index} #cash")
        set_reaction(person=sales_rep, post=post, kind="like", active=True)
    client = signed_in(sales_rep)
    client.get(DESK)

    # session, person, community, then the page (pins, posts, request,
    # membership, members, member count, questions, follow state, unread
    # notifications) and the bar's own marks (reactions, bookmark, helpful
    # in one query); the reaction counts are on the post rows
    with django_assert_num_queries(14):
        response = client.get(DESK)

    page = response.content.decode()
    assert page.count('data-testid="post-bar"') == post_count
    assert page.count('data-testid="reaction-like"') == post_count
    assert page.count('aria-pressed="true" data-testid="reaction-like"') == post_count


@pytest.mark.parametrize("share_count", [1, 10])
def test_quotes_cost_one_more_query(
    desk, owner, sales_rep, share_count, django_assert_num_queries
):
    original = publish_post(author=owner, community=desk, body="Original tip")
    for index in range(share_count):
        share_post(
            actor=sales_rep, original=original, community=desk, comment=f"{index}"
        )
    client = signed_in(sales_rep)
    client.get(DESK)

    with django_assert_num_queries(15):
        response = client.get(DESK)

    assert response.content.decode().count('data-testid="quote"') == share_count


def test_bar_shows_counts_to_another_reader(desk, owner, sales_rep, moderator):
    post = publish_post(author=owner, community=desk, body="Counted")
    set_reaction(person=sales_rep, post=post, kind="thanks", active=True)
    set_reaction(person=owner, post=post, kind="thanks", active=True)

    page = signed_in(moderator).get(DESK).content.decode()

    assert (
        'aria-pressed="false" data-testid="reaction-thanks">Thanks '
        '<span class="count">2</span>'
    ) in page
