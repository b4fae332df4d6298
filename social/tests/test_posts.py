"""Publishing posts with hashtags, and the tag page that lists them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.testing import signed_in
from social.models import Hashtag, Post
from social.services import publish_post

pytestmark = pytest.mark.django_db


def test_post_stores_normalized_tags_with_first_spelling(sales_rep, payments_community):
    publish_post(author=sales_rep, community=payments_community, body="#ShortPay tip")
    publish_post(
        author=sales_rep, community=payments_community, body="#ＳＨＯＲＴＰＡＹ again"
    )

    tag = Hashtag.objects.get()
    assert (tag.name, tag.display_name) == ("shortpay", "ShortPay")
    assert tag.posts.count() == 2


def test_post_renders_sanitized_html(sales_rep, payments_community):
    post = publish_post(
        author=sales_rep,
        community=payments_community,
        body="**Tip**: see [x](javascript:alert(1)) #cash",
    )
    assert "<strong>Tip</strong>" in post.body_html
    assert 'href="/tags/cash/"' in post.body_html
    assert 'href="javascript' not in post.body_html


def test_empty_post_is_rejected(sales_rep, payments_community):
    with pytest.raises(ValidationError, match="The post is empty"):
        publish_post(author=sales_rep, community=payments_community, body="  \n ")
    assert Post.objects.count() == 0


def test_private_community_needs_membership(outsider, private_community):
    with pytest.raises(PermissionDenied, match="Join this community"):
        publish_post(author=outsider, community=private_community, body="hello")


def test_tag_page_lists_visible_posts(
    sales_rep, outsider, payments_community, private_community, facilitator
):
    publish_post(author=sales_rep, community=payments_community, body="open #cash")
    publish_post(author=facilitator, community=private_community, body="hidden #cash")

    response = signed_in(outsider).get("/tags/CASH/")

    assert response.status_code == 200
    bodies = [post.body for post in response.context["posts"]]
    assert bodies == ["open #cash"]


def test_member_sees_private_posts_on_tag_page(facilitator, private_community):
    publish_post(author=facilitator, community=private_community, body="hidden #cash")
    response = signed_in(facilitator).get("/tags/cash/")
    assert [post.body for post in response.context["posts"]] == ["hidden #cash"]


def test_unknown_tag_page_is_empty_not_error(sales_rep):
    response = signed_in(sales_rep).get("/tags/nothinghere/")
    assert response.status_code == 200
    assert b"No posts you can see carry this tag." in response.content


def test_post_through_community_page(sales_rep, payments_community):
    response = signed_in(sales_rep).post(
        "/communities/payments/posts/", {"body": "Use #remittance text"}
    )
    assert response.status_code == 302
    page = signed_in(sales_rep).get("/communities/payments/")
    assert b'href="/tags/remittance/"' in page.content


def test_too_many_hashtags_is_rejected(sales_rep, payments_community):
    body = " ".join(f"#tag{index}x" for index in range(31))
    with pytest.raises(ValidationError) as error:
        publish_post(author=sales_rep, community=payments_community, body=body)
    assert error.value.messages == [
        "The post has 31 different hashtags; the limit is 30. Keep the ones "
        "people will search for."
    ]
    assert Post.objects.count() == 0
    assert Hashtag.objects.count() == 0


def test_hashtags_cost_constant_queries(
    sales_rep, payments_community, django_assert_max_num_queries
):
    publish_post(author=sales_rep, community=payments_community, body="#warm")
    body = " ".join(f"#tag{index}x" for index in range(30))
    # The membership check is skipped for open spaces. Then the author's row
    # lock, the repeated-post check, post insert, tag insert, tag read, the
    # post's current tags, their insert, and the audit event.
    with django_assert_max_num_queries(11):
        publish_post(author=sales_rep, community=payments_community, body=body)
    assert Hashtag.objects.count() == 31
