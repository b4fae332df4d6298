"""Customer accounts read staff names on posts only of staff visible to customers.

The people: ``customer`` (Carla Tester, a customer account),
``sales_rep`` (Sally Tester, hidden from customers, the default),
``facilitator`` (Fran Tester, who chose to be visible to customers) and
``outsider`` (Otto Tester, an employee reader). Carla reads Sally as
"Sales representative" on every social surface, and reads Fran and herself
by name; Otto reads every name. The rule is ``accounts.authors``.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from library.tests.conftest import PDF_BYTES
from notifications.models import Notification
from social.models import Follow, Post
from social.services import post_comment, publish_post
from social.services.attachments import check_attachments
from social.services.shares import share_post

pytestmark = pytest.mark.django_db

ROLE = "Sales representative"
SALLY = "Sally Tester"
FRAN = "Fran Tester"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def fran(facilitator):
    facilitator.visible_to_customers = True
    facilitator.save(update_fields=["visible_to_customers"])
    return facilitator


@pytest.fixture
def sally_post(sales_rep, customer_community):
    return publish_post(
        author=sales_rep,
        community=customer_community,
        body="Credit notes go out on Mondays #credit",
        attachments=check_attachments(
            [SimpleUploadedFile("credit note.pdf", PDF_BYTES)]
        ),
    )


@pytest.fixture
def fran_blog(fran, customer_community):
    return publish_post(
        author=fran,
        community=customer_community,
        body="What to send with a claim.",
        kind=Post.Kind.BLOG,
        title="Claims",
    )


@pytest.fixture
def fran_post(fran, customer_community):
    return publish_post(
        author=fran, community=customer_community, body="Welcome #credit"
    )


@pytest.fixture
def sally_blog(sales_rep, customer_community):
    return publish_post(
        author=sales_rep,
        community=customer_community,
        body="How we handle short payments.",
        kind=Post.Kind.BLOG,
        title="Short payments",
    )


@pytest.fixture
def following(customer, outsider, customer_community):
    for reader in (customer, outsider):
        Follow.objects.create(follower=reader, community=customer_community)


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    text: str = response.content.decode()
    return text


@pytest.mark.parametrize(
    "path",
    ["/", "/communities/customer-corner/", "/tags/credit/", "/posts/blogs/"],
)
def test_post_cards_name_hidden_staff_by_role(
    signed_in,
    customer,
    outsider,
    sally_post,
    sally_blog,
    fran_post,
    fran_blog,
    following,
    path,
):
    text = page(signed_in(customer), path)
    employee_text = page(signed_in(outsider), path)

    assert SALLY not in text
    assert ROLE in text
    assert FRAN in text
    assert SALLY in employee_text
    assert ROLE not in employee_text


def test_cached_card_read_by_employee_then_customer(
    signed_in, customer, outsider, sally_post, following
):
    assert SALLY in page(signed_in(outsider), "/")
    customer_page = page(signed_in(customer), "/")

    assert SALLY not in customer_page
    assert f'id="post-{sally_post.pk}"' in customer_page
    assert ROLE in customer_page


def test_cached_card_read_by_customer_then_employee(
    signed_in, customer, outsider, sally_post, following
):
    assert SALLY not in page(signed_in(customer), "/")
    employee_page = page(signed_in(outsider), "/")

    assert SALLY in employee_page
    assert ROLE not in employee_page


def test_comments_name_hidden_staff_by_role(
    signed_in, customer, sales_rep, fran, fran_post
):
    staff_comment = post_comment(author=sales_rep, post=fran_post, body="Noted.")
    post_comment(
        author=customer, post=fran_post, body="Thank you!", parent=staff_comment
    )

    text = page(signed_in(customer), f"/posts/{fran_post.pk}/")
    more = page(signed_in(customer), f"/posts/{fran_post.pk}/comments/")

    assert SALLY not in text
    assert "Reply to <a" in text
    assert text.count(ROLE) == 2
    assert FRAN in text
    assert SALLY not in more
    assert more.count(ROLE) == 2


def test_post_page_title_names_hidden_staff_by_role(signed_in, customer, sally_post):
    text = page(signed_in(customer), f"/posts/{sally_post.pk}/")

    assert SALLY not in text
    assert f"Post by {ROLE}" in text


def test_share_pages_name_hidden_staff_by_role(
    signed_in, customer, customer_community, sally_post
):
    form = page(signed_in(customer), f"/posts/{sally_post.pk}/share/")
    share = share_post(
        actor=customer, original=sally_post, community=customer_community
    )
    card = page(signed_in(customer), f"/posts/{share.pk}/")

    assert SALLY not in form
    assert f"{ROLE} in Customer corner" in form
    assert SALLY not in card
    assert f"{ROLE} in <a" in card


def test_file_lists_name_hidden_staff_by_role(signed_in, customer, sally_post):
    files = page(signed_in(customer), "/communities/customer-corner/files/")
    community = page(signed_in(customer), "/communities/customer-corner/")

    assert "credit note.pdf" in files
    assert SALLY not in files
    assert ROLE in files
    assert "credit note.pdf" in community
    assert SALLY not in community


def test_api_names_hidden_staff_by_role(
    signed_in, customer, outsider, sales_rep, customer_community, sally_post, following
):
    comment = post_comment(author=sales_rep, post=sally_post, body="Ask me.")
    share = share_post(
        actor=customer, original=sally_post, community=customer_community
    )
    client = signed_in(customer)

    feed = client.get("/api/social/feed").json()
    post = client.get(f"/api/social/posts/{sally_post.pk}").json()
    shared = client.get(f"/api/social/posts/{share.pk}").json()
    comments = client.get(f"/api/social/posts/{sally_post.pk}/comments").json()
    one = client.get(f"/api/social/comments/{comment.pk}").json()
    quote = client.get(f"/api/social/posts/{sally_post.pk}/quote").json()

    assert SALLY not in str([feed, post, shared, comments, one, quote])
    by_id = {item["id"]: item for item in feed["posts"]}
    assert by_id[sally_post.pk]["author"] == ROLE
    assert by_id[share.pk]["shared_from"]["author"] == ROLE
    assert post["author"] == ROLE
    assert comments["comments"][0]["author"] == ROLE
    assert one["author"] == ROLE
    assert quote["author"] == ROLE
    colleague = signed_in(outsider)
    employee_feed = colleague.get("/api/social/feed").json()
    thread = colleague.get(f"/api/social/posts/{sally_post.pk}/comments").json()
    assert {item["author"] for item in employee_feed["posts"]} == {
        SALLY,
        "Carla Tester",
    }
    assert thread["comments"][0]["author"] == SALLY


def test_notifications_name_hidden_staff_by_role(
    customer, outsider, sales_rep, customer_community
):
    own = publish_post(author=customer, community=customer_community, body="Help?")
    post_comment(author=sales_rep, post=own, body="On it, @carla and @otto.")
    publish_post(
        author=sales_rep, community=customer_community, body="Hello @carla @otto"
    )

    received = Notification.objects.filter(recipient=customer).order_by("pk")
    colleague = Notification.objects.filter(recipient=outsider).order_by("pk")

    assert [item.message for item in received] == [
        f"{ROLE} mentioned you in a comment in Customer corner.",
        f"{ROLE} mentioned you in a post in Customer corner.",
    ]
    assert {item.actor_name for item in received} == {ROLE}
    assert [item.message for item in colleague] == [
        f"{SALLY} mentioned you in a comment in Customer corner.",
        f"{SALLY} mentioned you in a post in Customer corner.",
    ]
    assert {item.actor_name for item in colleague} == {SALLY}


def test_comment_notification_names_hidden_staff_by_role(
    customer, sales_rep, customer_community
):
    own = publish_post(author=customer, community=customer_community, body="Help?")
    post_comment(author=sales_rep, post=own, body="On it.")

    [received] = Notification.objects.filter(recipient=customer)

    assert received.message == f"{ROLE} commented on your post."
    assert received.actor_name == ROLE


def test_reply_and_share_notices_use_role(
    customer, fran, sales_rep, customer_community, fran_post
):
    mine = post_comment(author=customer, post=fran_post, body="Anyone?")
    post_comment(author=sales_rep, post=fran_post, body="Yes.", parent=mine)
    share_post(
        actor=sales_rep,
        original=fran_post,
        community=customer_community,
        comment="See this, @carla",
    )

    messages = {
        item.kind: item.message
        for item in Notification.objects.filter(recipient=customer)
    }
    [to_fran] = Notification.objects.filter(
        recipient=fran, kind=Notification.Kind.COMMENT_POSTED, actor_name=SALLY
    )

    assert messages == {
        Notification.Kind.REPLY_POSTED: f"{ROLE} replied to your comment.",
        Notification.Kind.MENTIONED: (
            f"{ROLE} mentioned you in a post in Customer corner."
        ),
    }
    assert to_fran.message == f"{SALLY} commented on your post."


def test_customer_reads_visible_staff_and_hidden_staff(
    customer, fran, sales_rep, customer_community
):
    own = publish_post(author=customer, community=customer_community, body="Help?")
    post_comment(author=fran, post=own, body="Here, @carla.")
    post_comment(author=sales_rep, post=own, body="And here, @carla.")

    received = Notification.objects.filter(recipient=customer).order_by("pk")

    assert [item.message for item in received] == [
        f"{FRAN} mentioned you in a comment in Customer corner.",
        f"{ROLE} mentioned you in a comment in Customer corner.",
    ]
    assert [item.actor_name for item in received] == [FRAN, ROLE]


@pytest.mark.parametrize("count", [2, 20])
def test_customer_feed_queries_are_constant(
    signed_in, customer, sales_rep, customer_community, count, django_assert_num_queries
):
    for number in range(count):
        publish_post(
            author=sales_rep, community=customer_community, body=f"#t {number}"
        )
    Follow.objects.create(follower=customer, community=customer_community)
    client = signed_in(customer)

    # One more than before posts followed the rule (7 and 7): the query that
    # finds the authors a customer reads by role. An employee runs none. The
    # page runs one more, for the post box's communities.
    with django_assert_num_queries(9):
        home = client.get("/").content.decode()
    with django_assert_num_queries(8):
        feed = client.get("/api/social/feed", {"limit": 50}).json()

    assert home.count(ROLE) == count
    assert {post["author"] for post in feed["posts"]} == {ROLE}
