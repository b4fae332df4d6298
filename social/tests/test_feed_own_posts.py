"""A reader's own posts reach their home feed wherever they wrote them."""

import pytest

from social.feed import home_feed
from social.services.posts import publish_post

pytestmark = pytest.mark.django_db


def test_own_post_in_an_unjoined_community_is_in_the_feed(
    sales_rep, payments_community
):
    post = publish_post(
        author=sales_rep, community=payments_community, body="Noted for myself."
    )
    page = home_feed(sales_rep, cursor=None, sort="newest", limit=10)
    assert [item.pk for item in page.posts] == [post.pk]


def test_others_in_an_unjoined_community_stay_out(
    sales_rep, outsider, payments_community
):
    publish_post(author=outsider, community=payments_community, body="Not followed.")
    page = home_feed(sales_rep, cursor=None, sort="newest", limit=10)
    assert page.posts == []
