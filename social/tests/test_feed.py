"""The home feed: its sources, its visibility, its two orders and its cursors.

Named people: ``sales_rep`` (Sally) posts in the open payments community,
``facilitator`` (Fran) owns the private pricing community, ``outsider``
(Otto) belongs to nothing, ``customer`` (Carla) is a customer account.
"""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Community, Membership
from social.feed import (
    FeedKey,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    home_feed,
    new_post_count,
)
from social.models import AnnouncementRead, Follow, Hashtag, Post
from social.services import delete_post, publish_post, set_helpful
from social.services.follows import hashtag_for_follow, set_hashtag_follow

pytestmark = pytest.mark.django_db


def feed_ids(viewer, **options) -> list[int]:
    return [post.pk for post in home_feed(viewer, cursor=None, **options).posts]


def all_pages(viewer, *, sort: str = "newest", limit: int = 2) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        page = home_feed(viewer, cursor=cursor, sort=sort, limit=limit)
        seen.extend(post.pk for post in page.posts)
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the feed never ended")


def set_time(post: Post, when: datetime.datetime) -> None:
    """Move a post in time, keeping the copied time on its tag rows in step."""
    Post.objects.filter(pk=post.pk).update(created_at=when)
    Post.hashtags.through.objects.filter(post=post).update(post_created_at=when)


def test_followed_person_appears(outsider, sales_rep, payments_community):
    post = publish_post(author=sales_rep, community=payments_community, body="tip")
    assert feed_ids(outsider) == []

    Follow.objects.create(follower=outsider, person=sales_rep)

    assert feed_ids(outsider) == [post.pk]


def test_followed_tag_appears(outsider, sales_rep, payments_community):
    tagged = publish_post(
        author=sales_rep, community=payments_community, body="Use #Remit notes"
    )
    publish_post(author=sales_rep, community=payments_community, body="untagged")
    set_hashtag_follow(
        follower=outsider, hashtag=hashtag_for_follow("remit"), active=True
    )

    assert feed_ids(outsider) == [tagged.pk]


def test_member_and_followed_community_appear(
    outsider, sales_rep, payments_community, customer_community
):
    in_payments = publish_post(
        author=sales_rep, community=payments_community, body="payments"
    )
    in_customer = publish_post(
        author=sales_rep, community=customer_community, body="customers"
    )
    Membership.objects.create(community=payments_community, person=outsider)
    assert feed_ids(outsider) == [in_payments.pk]

    Follow.objects.create(follower=outsider, community=customer_community)

    assert feed_ids(outsider) == [in_customer.pk, in_payments.pk]


def test_post_from_two_sources_shows_once(outsider, sales_rep, payments_community):
    post = publish_post(
        author=sales_rep, community=payments_community, body="#remit twice"
    )
    Follow.objects.create(follower=outsider, person=sales_rep)
    Follow.objects.create(follower=outsider, community=payments_community)
    Follow.objects.create(follower=outsider, hashtag=Hashtag.objects.get())

    assert feed_ids(outsider) == [post.pk]


def test_private_posts_of_followed_person_hidden(
    outsider, facilitator, private_community, payments_community
):
    """C13 and C15: following a person grants no access to their private spaces."""
    publish_post(author=facilitator, community=private_community, body="#price v7")
    shown = publish_post(author=facilitator, community=payments_community, body="hi")
    Follow.objects.create(follower=outsider, person=facilitator)
    set_hashtag_follow(
        follower=outsider, hashtag=hashtag_for_follow("price"), active=True
    )

    assert feed_ids(outsider) == [shown.pk]


def test_community_follow_after_leaving_reads_nothing(
    sales_rep, facilitator, private_community
):
    Membership.objects.create(community=private_community, person=sales_rep)
    post = publish_post(author=facilitator, community=private_community, body="x")
    Follow.objects.create(follower=sales_rep, community=private_community)
    assert feed_ids(sales_rep) == [post.pk]

    Membership.objects.filter(community=private_community, person=sales_rep).delete()

    assert feed_ids(sales_rep) == []


def test_customer_sees_only_customer_spaces(
    customer, sales_rep, payments_community, customer_community
):
    Follow.objects.create(follower=customer, person=sales_rep)
    publish_post(author=sales_rep, community=payments_community, body="internal")
    shown = publish_post(author=sales_rep, community=customer_community, body="hi")

    assert feed_ids(customer) == [shown.pk]


def test_deleted_posts_left_out(outsider, sales_rep, payments_community):
    kept = publish_post(author=sales_rep, community=payments_community, body="a")
    gone = publish_post(author=sales_rep, community=payments_community, body="#b")
    delete_post(actor=sales_rep, post=gone)
    Follow.objects.create(follower=outsider, person=sales_rep)

    assert feed_ids(outsider) == [kept.pk]


def test_announcements_reach_everyone_who_may_see_them(
    outsider, customer, facilitator, payments_community, private_community
):
    shown = publish_post(
        author=facilitator,
        community=payments_community,
        body="Quarter close moves to Friday.",
        kind=Post.Kind.ANNOUNCEMENT,
        title="Quarter close",
    )
    publish_post(
        author=facilitator,
        community=private_community,
        body="Price rise in March.",
        kind=Post.Kind.ANNOUNCEMENT,
        title="Prices",
    )

    page = home_feed(outsider, cursor=None)
    assert [post.pk for post in page.pinned] == [shown.pk]
    assert page.posts == []
    assert feed_ids(customer) == []
    assert home_feed(customer, cursor=None).pinned == []


def test_read_announcement_leaves_the_top(outsider, facilitator, payments_community):
    announcement = publish_post(
        author=facilitator,
        community=payments_community,
        body="Read me.",
        kind=Post.Kind.ANNOUNCEMENT,
        title="Welcome",
    )
    AnnouncementRead.objects.create(person=outsider, post=announcement)

    page = home_feed(outsider, cursor=None)

    assert page.pinned == []
    assert [post.pk for post in page.posts] == [announcement.pk]


def test_old_unread_announcement_not_pinned(outsider, facilitator, payments_community):
    announcement = publish_post(
        author=facilitator,
        community=payments_community,
        body="Old news.",
        kind=Post.Kind.ANNOUNCEMENT,
        title="Old",
    )
    set_time(announcement, timezone.now() - datetime.timedelta(days=31))

    page = home_feed(outsider, cursor=None)

    assert page.pinned == []
    assert [post.pk for post in page.posts] == [announcement.pk]


# Bodies differ across calls, because publishing the same body again within
# SOCIAL_DUPLICATE_POST_SECONDS returns the earlier post.
_post_numbers = itertools.count()


def make_posts(author, community, count: int) -> list[Post]:
    return [
        publish_post(
            author=author, community=community, body=f"post {next(_post_numbers)}"
        )
        for _ in range(count)
    ]


def test_pages_neither_skip_nor_repeat_on_tied_times(
    outsider, sales_rep, payments_community
):
    posts = make_posts(sales_rep, payments_community, 7)
    tie = timezone.now() - datetime.timedelta(hours=1)
    for post in posts:
        set_time(post, tie)
    Follow.objects.create(follower=outsider, person=sales_rep)

    assert all_pages(outsider, limit=2) == sorted(
        (post.pk for post in posts), reverse=True
    )


def test_new_posts_between_pages_do_not_shift_pages(
    outsider, sales_rep, payments_community
):
    posts = make_posts(sales_rep, payments_community, 4)
    Follow.objects.create(follower=outsider, person=sales_rep)
    first = home_feed(outsider, cursor=None, limit=2)

    make_posts(sales_rep, payments_community, 3)
    second = home_feed(outsider, cursor=first.next_cursor, limit=2)

    assert [post.pk for post in first.posts] == [posts[3].pk, posts[2].pk]
    assert [post.pk for post in second.posts] == [posts[1].pk, posts[0].pk]
    assert second.next_cursor is None


def test_helpful_order_and_its_cursor(outsider, sales_rep, payments_community):
    posts = make_posts(sales_rep, payments_community, 5)
    counts = [3, 0, 3, 1, 0]
    for post, count in zip(posts, counts, strict=True):
        Post.objects.filter(pk=post.pk).update(helpful_count=count)
    Follow.objects.create(follower=outsider, community=payments_community)

    expected = [posts[2].pk, posts[0].pk, posts[3].pk, posts[4].pk, posts[1].pk]
    assert all_pages(outsider, sort="helpful", limit=2) == expected


def test_tag_pages_follow_time_order(outsider, sales_rep, payments_community):
    posts = [
        publish_post(author=sales_rep, community=payments_community, body=f"#t {n}")
        for n in range(5)
    ]
    base = timezone.now() - datetime.timedelta(days=1)
    # Give the posts times in an order unlike their ids.
    for offset, post in zip([3, 1, 4, 0, 2], posts, strict=True):
        set_time(post, base + datetime.timedelta(minutes=offset))
    Follow.objects.create(follower=outsider, hashtag=Hashtag.objects.get(name="t"))

    expected = [posts[2].pk, posts[0].pk, posts[4].pk, posts[1].pk, posts[3].pk]
    assert all_pages(outsider, limit=2) == expected


def test_many_sources_of_one_kind_are_read(outsider, sales_rep, payments_community):
    communities = [
        Community.objects.create(slug=f"c{n}", name=f"Community {n}") for n in range(60)
    ]
    posts = [
        publish_post(author=sales_rep, community=community, body="x")
        for community in communities[:3]
    ]
    for community in communities:
        Membership.objects.create(community=community, person=outsider)

    assert feed_ids(outsider) == [post.pk for post in reversed(posts)]


def test_query_count_constant_across_page_sizes(
    outsider, sales_rep, facilitator, payments_community
):
    make_posts(sales_rep, payments_community, 12)
    publish_post(author=sales_rep, community=payments_community, body="#remit tagged")
    publish_post(
        author=facilitator,
        community=payments_community,
        body="Notice.",
        kind=Post.Kind.ANNOUNCEMENT,
        title="Notice",
    )
    Follow.objects.create(follower=outsider, person=sales_rep)
    Follow.objects.create(follower=outsider, hashtag=Hashtag.objects.get())

    counts = []
    for limit in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            page = home_feed(outsider, cursor=None, limit=limit)
        assert len(page.posts) == limit
        counts.append(len(queries))

    # Three statements: the sources with the pinned announcements, the
    # candidates, and the posts through the post rule with the reader's marks.
    assert counts == [3, 3]


def test_cursor_round_trip_and_rejections(outsider):
    key = FeedKey(timezone.now(), 42, 3)
    assert decode_cursor(encode_cursor("helpful", key), sort="helpful") == key

    with pytest.raises(InvalidCursor, match="is not valid"):
        home_feed(outsider, cursor="not-a-cursor")
    with pytest.raises(InvalidCursor, match="belongs to the 'helpful' order"):
        home_feed(outsider, cursor=encode_cursor("helpful", key), sort="newest")
    with pytest.raises(ValueError, match="Unknown feed order 'best'"):
        home_feed(outsider, cursor=None, sort="best")
    with pytest.raises(ValueError, match=r"A feed page holds 1 to 100 posts, not 0\."):
        home_feed(outsider, cursor=None, limit=0)


def test_new_post_count_follows_the_rule(
    outsider, sales_rep, facilitator, payments_community, private_community
):
    Follow.objects.create(follower=outsider, person=sales_rep)
    Follow.objects.create(follower=outsider, person=facilitator)
    make_posts(sales_rep, payments_community, 1)
    top = home_feed(outsider, cursor=None).top
    assert top is not None
    assert new_post_count(outsider, top) == 0

    make_posts(sales_rep, payments_community, 2)
    publish_post(author=facilitator, community=private_community, body="secret")

    assert new_post_count(outsider, top) == 2


def test_new_post_count_stops_at_cap(outsider, sales_rep, payments_community):
    Follow.objects.create(follower=outsider, person=sales_rep)
    top = home_feed(outsider, cursor=None).top
    assert top is not None
    posts = Post.objects.bulk_create(
        Post(
            community=payments_community,
            author=sales_rep,
            author_name="Sally",
            body="bulk",
            body_html="<p>bulk</p>",
        )
        for _ in range(120)
    )

    assert len(posts) == 120
    assert new_post_count(outsider, top) == 100


def test_tag_rows_copy_time_and_helpful_count(outsider, sales_rep, payments_community):
    post = publish_post(author=sales_rep, community=payments_community, body="#t")
    row = Post.hashtags.through.objects.get(post=post)
    assert row.post_created_at == post.created_at
    assert row.post_helpful_count == 0

    set_helpful(person=outsider, post=post, active=True)

    row.refresh_from_db()
    assert row.post_helpful_count == 1


def test_helpful_order_through_tags(outsider, sales_rep, payments_community):
    posts = [
        publish_post(author=sales_rep, community=payments_community, body=f"#t {n}")
        for n in range(4)
    ]
    for post, count in zip(posts, [1, 0, 2, 1], strict=True):
        Post.objects.filter(pk=post.pk).update(helpful_count=count)
    Follow.objects.create(follower=outsider, hashtag=Hashtag.objects.get(name="t"))

    expected = [posts[2].pk, posts[3].pk, posts[0].pk, posts[1].pk]
    assert all_pages(outsider, sort="helpful", limit=1) == expected


def test_kept_terms_follow_the_rule(
    outsider, sales_rep, payments_community, customer_party
):
    """A person who becomes a customer stops seeing internal posts at once.

    The first read keeps its compiled terms; the rule compiles differently
    for a customer, so the second read cannot reuse them.
    """
    from accounts.models import Role

    post = publish_post(author=sales_rep, community=payments_community, body="tip")
    Follow.objects.create(follower=outsider, person=sales_rep)
    assert feed_ids(outsider) == [post.pk]

    outsider.role = Role.CUSTOMER
    outsider.customer = customer_party
    outsider.save()

    assert feed_ids(outsider) == []


def test_kept_terms_are_per_reader(outsider, facilitator, private_community):
    """Two readers of the same source get terms built for each one's rule."""
    secret = publish_post(author=facilitator, community=private_community, body="v7")
    Follow.objects.create(follower=outsider, person=facilitator)
    # The owner reads first, so terms for the owner's rule are kept.
    assert feed_ids(facilitator) == [secret.pk]

    assert feed_ids(outsider) == []


def test_kept_rule_membership_change(outsider, facilitator, private_community):
    """The kept community rule reads memberships when it runs, not when kept."""
    secret = publish_post(author=facilitator, community=private_community, body="v8")
    Follow.objects.create(follower=outsider, person=facilitator)
    assert feed_ids(outsider) == []

    membership = Membership.objects.create(community=private_community, person=outsider)
    assert feed_ids(outsider) == [secret.pk]

    membership.delete()
    assert feed_ids(outsider) == []


def test_kept_rule_privacy_change(outsider, sales_rep, payments_community):
    post = publish_post(author=sales_rep, community=payments_community, body="#tip")
    Follow.objects.create(follower=outsider, community=payments_community)
    Follow.objects.create(follower=outsider, person=sales_rep)
    Follow.objects.create(follower=outsider, hashtag=hashtag_for_follow("tip"))
    assert feed_ids(outsider) == [post.pk]

    Community.objects.filter(pk=payments_community.pk).update(
        visibility=Community.Visibility.PRIVATE
    )

    assert feed_ids(outsider) == []
    assert (
        new_post_count(outsider, encode_cursor("newest", FeedKey(post.created_at, 0)))
        == 0
    )


def test_more_sources_than_sqlite_compound_limit(
    outsider, sales_rep, payments_community
):
    """SQLite takes at most 500 terms in one UNION, and a term is one source."""
    from accounts.models import Role, User

    authors = User.objects.bulk_create(
        User(username=f"author{n}", role=Role.SALES_REP) for n in range(520)
    )
    Follow.objects.bulk_create(
        Follow(follower=outsider, person=author) for author in authors
    )
    last = authors[-1]
    post = publish_post(author=last, community=payments_community, body="late")

    assert feed_ids(outsider) == [post.pk]


def test_feed_posts_are_whole_instances(outsider, sales_rep, payments_community):
    """The feed builds its posts without ``Model.__init__``, with every field."""
    tagged = publish_post(
        author=sales_rep, community=payments_community, body="Read #remit notes"
    )
    Follow.objects.create(follower=outsider, person=sales_rep)

    (post,) = home_feed(outsider, cursor=None).posts

    expected = Post.objects.select_related("community").get(pk=tagged.pk)
    for model_field in Post._meta.concrete_fields:
        name = model_field.attname
        assert getattr(post, name) == getattr(expected, name), name
    for model_field in Community._meta.concrete_fields:
        name = model_field.attname
        assert getattr(post.community, name) == getattr(expected.community, name)
    assert post._state.adding is False
    assert post._state.db == expected._state.db
    assert post.get_deferred_fields() == set()
    with CaptureQueriesContext(connection) as queries:
        assert post.community.slug == payments_community.slug
    assert len(queries) == 0


def test_feed_posts_init_with_receiver(outsider, sales_rep, payments_community):
    """A post_init receiver runs for each feed post, as for an ORM read."""
    from django.db.models.signals import post_init

    post = publish_post(author=sales_rep, community=payments_community, body="tip")
    Follow.objects.create(follower=outsider, person=sales_rep)
    seen: list[int] = []

    def record(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(record, sender=Post)
    try:
        page = home_feed(outsider, cursor=None)
    finally:
        post_init.disconnect(record, sender=Post)

    assert [feed_post.pk for feed_post in page.posts] == [post.pk]
    assert seen == [post.pk]
    assert page.posts[0].community == payments_community
