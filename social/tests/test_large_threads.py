"""Large threads and group mentions stay paged, bounded and explicit.

A thread of 5,000 comments (1,000 top-level comments with four replies
each) is read by page, by permalink and over the API with a query ceiling.
Group names such as ``@all-employees`` are rejected with a message instead
of silently notifying nobody, whatever the size of the group.
"""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import LearnerGroup, Role, User
from conftest import make_person
from notifications.models import Notification
from social.models import Comment, Mention, Post
from social.services import post_comment, publish_post

pytestmark = pytest.mark.django_db

TOP_LEVEL = 1_000
REPLIES_EACH = 4
TOTAL = TOP_LEVEL * (1 + REPLIES_EACH)
PAGE_SIZE = 50
LAST_PAGE = TOTAL // PAGE_SIZE


def bulk_people(prefix: str, count: int, *, group: str = "sales") -> list[User]:
    learner_group = LearnerGroup.objects.get(slug=group)
    User.objects.bulk_create(
        [
            User(
                username=f"{prefix}{index}",
                first_name=prefix.capitalize(),
                last_name=str(index),
                role=Role.SALES_REP,
                learner_group=learner_group,
                password="!",
            )
            for index in range(count)
        ]
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("pk"))


@pytest.fixture
def big_thread(open_post, outsider, settings) -> list[Comment]:
    """Return the thread's comments in the order they were written."""
    settings.SOCIAL_COMMENTS_PAGE_SIZE = PAGE_SIZE
    Comment.objects.bulk_create(
        [
            Comment(
                post=open_post,
                author=outsider,
                author_name="Otto Tester",
                body=f"top {index}",
                body_html=f"<p>top {index}</p>",
            )
            for index in range(TOP_LEVEL)
        ]
    )
    tops = list(Comment.objects.filter(post=open_post).order_by("pk"))
    Comment.objects.bulk_create(
        [
            Comment(
                post=open_post,
                parent=top,
                author=outsider,
                author_name="Otto Tester",
                body=f"reply {number} to {top.body}",
                body_html=f"<p>reply {number} to {top.body}</p>",
            )
            for number in range(REPLIES_EACH)
            for top in tops
        ]
    )
    Post.objects.filter(pk=open_post.pk).update(comment_count=TOTAL)
    open_post.refresh_from_db()
    return list(Comment.objects.filter(post=open_post).order_by("pk"))


def expected_page(comments: list[Comment], comment: Comment) -> int:
    """Compute the page from the thread order, independently of the selectors."""
    order = sorted(comments, key=lambda item: (item.parent_id or item.pk, item.pk))
    return order.index(comment) // PAGE_SIZE + 1


def ids_on(response) -> list[int]:
    return [comment.pk for comment in response.context["comments"]]


def test_first_page_is_bounded(
    signed_in, outsider, open_post, big_thread, django_assert_max_num_queries
):
    client = signed_in(outsider)

    with django_assert_max_num_queries(12):
        response = client.get(f"/posts/{open_post.pk}/?page=1")

    page = response.content.decode()
    assert response.status_code == 200
    assert len(ids_on(response)) == PAGE_SIZE
    assert page.count('data-testid="comment"') == PAGE_SIZE
    assert f"/posts/{open_post.pk}/comments/?page=2" in page
    assert len(response.content) < 250_000
    first = big_thread[0]
    assert ids_on(response)[: REPLIES_EACH + 1] == [
        first.pk,
        *[c.pk for c in big_thread if c.parent_id == first.pk],
    ]


def test_last_page_has_no_load_more(
    signed_in, outsider, open_post, big_thread, django_assert_max_num_queries
):
    client = signed_in(outsider)

    with django_assert_max_num_queries(12):
        response = client.get(f"/posts/{open_post.pk}/?page={LAST_PAGE}")

    assert response.status_code == 200
    assert len(ids_on(response)) == PAGE_SIZE
    assert 'data-testid="load-more"' not in response.content.decode()
    assert ids_on(response)[-1] == big_thread[-1].pk
    beyond = client.get(f"/posts/{open_post.pk}/?page={LAST_PAGE + 1}")
    assert beyond.status_code == 404


def test_load_more_near_end_stops(signed_in, outsider, open_post, big_thread):
    client = signed_in(outsider)

    before_last = client.get(
        f"/posts/{open_post.pk}/comments/?page={LAST_PAGE - 1}"
    ).content.decode()
    last = client.get(f"/posts/{open_post.pk}/comments/?page={LAST_PAGE}")

    assert before_last.count('data-testid="load-more"') == 1
    assert f"comments/?page={LAST_PAGE}" in before_last
    assert 'data-testid="load-more"' not in last.content.decode()
    assert len(ids_on(last)) == PAGE_SIZE


def test_permalink_to_reply_4321_opens_its_page(
    signed_in, outsider, open_post, big_thread, django_assert_max_num_queries
):
    reply = big_thread[4_320]
    page = expected_page(big_thread, reply)
    client = signed_in(outsider)

    with django_assert_max_num_queries(6):
        redirect = client.get(f"/posts/{open_post.pk}/comments/{reply.pk}/")
    with django_assert_max_num_queries(12):
        response = client.get(redirect["Location"])

    assert reply.parent_id is not None
    assert redirect.status_code == 302
    assert redirect["Location"] == (
        f"/posts/{open_post.pk}/?page={page}#comment-{reply.pk}"
    )
    assert reply.pk in ids_on(response)
    assert f'id="comment-{reply.pk}"' in response.content.decode()


def test_api_pages_are_bounded(
    signed_in, outsider, open_post, big_thread, django_assert_max_num_queries
):
    reply = big_thread[4_320]
    client = signed_in(outsider)

    with django_assert_max_num_queries(8):
        place = client.get(f"/api/social/comments/{reply.pk}").json()
    with django_assert_max_num_queries(8):
        listing = client.get(
            f"/api/social/posts/{open_post.pk}/comments", {"page": place["page"]}
        ).json()
    with django_assert_max_num_queries(8):
        last = client.get(
            f"/api/social/posts/{open_post.pk}/comments", {"page": LAST_PAGE}
        ).json()

    assert place["page"] == expected_page(big_thread, reply)
    assert reply.pk in [comment["id"] for comment in listing["comments"]]
    assert listing["pages"] == LAST_PAGE
    assert listing["comment_count"] == TOTAL
    assert len(last["comments"]) == PAGE_SIZE
    assert last["comments"][-1]["id"] == big_thread[-1].pk


def test_reply_box_works_without_whole_thread(
    signed_in, outsider, open_post, big_thread, django_assert_max_num_queries
):
    reply = big_thread[4_320]
    client = signed_in(outsider)

    with django_assert_max_num_queries(25):
        response = client.post(
            f"/posts/{open_post.pk}/comments/new/",
            {"body": "Late answer", "parent": reply.pk},
        )

    new = Comment.objects.get(body="Late answer")
    assert response.status_code == 302
    assert new.parent_id == reply.parent_id
    assert response["Location"] == f"/posts/{open_post.pk}/comments/{new.pk}/"
    open_post.refresh_from_db()
    assert open_post.comment_count == TOTAL + 1


# --- Group mentions ---

GROUP_MESSAGE = (
    "@all-employees names a group, not a person, and group mentions are not "
    "supported, so nobody would be notified. Mention people by username (at "
    "most 10), or ask an executive or a learning facilitator to publish an "
    "announcement."
)


def test_all_employees_is_rejected_not_silent(sales_rep, payments_community):
    bulk_people("staff", 50)

    with pytest.raises(ValidationError) as raised:
        publish_post(
            author=sales_rep,
            community=payments_community,
            body="Hello @all-employees, read this",
        )

    assert raised.value.messages == [GROUP_MESSAGE]
    assert Post.objects.count() == 0
    assert Notification.objects.count() == 0


def test_group_mention_through_page_shows_message(
    signed_in, sales_rep, payments_community
):
    response = signed_in(sales_rep).post(
        "/communities/payments/posts/", {"body": "Hi @all-employees"}
    )

    assert response.status_code == 422
    assert GROUP_MESSAGE in response.content.decode()


@pytest.mark.parametrize("size", [999, 1_000, 1_001])
def test_learner_group_mention_rejected_at_any_size(
    sales_rep, open_post, size, django_assert_max_num_queries
):
    bulk_people("rep", size)

    with django_assert_max_num_queries(8), pytest.raises(ValidationError) as raised:
        post_comment(
            author=sales_rep, post=open_post, body="Ping @sales and @customers"
        )

    assert raised.value.messages == [
        "@customers, @sales name groups, and group mentions are not supported, so "
        "nobody would be notified. Mention people by username (at most 10), or "
        "ask an executive or a learning facilitator to publish an announcement."
    ]
    assert Comment.objects.count() == 0
    assert Notification.objects.count() == 0


def test_crm_function_mention_rejected(sales_rep, open_post):
    with pytest.raises(ValidationError) as raised:
        post_comment(author=sales_rep, post=open_post, body="@payments help")

    assert raised.value.messages[0].startswith("@payments names a group")


def test_person_named_like_group_is_mentioned(sales_rep, payments_community):
    team = make_person("team", Role.FINANCE_CLERK, group="operations")

    publish_post(author=sales_rep, community=payments_community, body="Thanks @team")

    assert list(Mention.objects.values_list("person_id", flat=True)) == [team.pk]


@pytest.mark.parametrize(("count", "accepted"), [(9, True), (10, True), (11, False)])
def test_people_cap_at_threshold(sales_rep, payments_community, count, accepted):
    people = bulk_people("peer", count)
    body = "Thanks " + " ".join(f"@{person.username}" for person in people)

    if accepted:
        publish_post(author=sales_rep, community=payments_community, body=body)
        assert Notification.objects.count() == count
    else:
        with pytest.raises(ValidationError) as raised:
            publish_post(author=sales_rep, community=payments_community, body=body)
        assert raised.value.messages == [
            "The post mentions 11 people; the limit is 10. Mention fewer people, "
            "or post in a community they belong to."
        ]
        assert Notification.objects.count() == 0
        assert Post.objects.count() == 0
