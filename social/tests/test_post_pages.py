"""The post permalink page, its thread pages and its htmx endpoints.

Each surface is tried by named people: an outsider (an employee in no
community), a customer account, a member and a moderator of the private
pricing community, and the post's author.
"""

import pytest
from django.test import override_settings

from accounts.models import Role
from conftest import make_person
from social.models import Bookmark, Comment, HelpfulMark, Reaction
from social.services import post_comment, set_reaction

pytestmark = pytest.mark.django_db


def hidden_routes(post, comment) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("get", f"/posts/{post.pk}/", {}),
        ("get", f"/posts/{post.pk}/comments/?page=1", {}),
        ("get", f"/posts/{post.pk}/comments/{comment.pk}/", {}),
        ("get", f"/posts/{post.pk}/edit/", {}),
        ("get", f"/posts/{post.pk}/history/", {}),
        ("post", f"/posts/{post.pk}/delete/", {}),
        ("post", f"/posts/{post.pk}/comments/new/", {"body": "hi"}),
        ("post", f"/posts/{post.pk}/reactions/", {"kind": "like", "active": "1"}),
        ("post", f"/posts/{post.pk}/bookmark/", {"active": "1"}),
        ("post", f"/posts/{post.pk}/helpful/", {"active": "1"}),
        ("get", f"/posts/comments/{comment.pk}/edit/", {}),
        ("post", f"/posts/comments/{comment.pk}/delete/", {}),
    ]


def test_outsider_gets_404_on_every_private_route(
    signed_in, outsider, facilitator, private_post
):
    comment = post_comment(author=facilitator, post=private_post, body="secret note")
    client = signed_in(outsider)

    for method, url, data in hidden_routes(private_post, comment):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, url
        assert b"Price list" not in response.content, url
        assert b"secret note" not in response.content, url

    assert Reaction.objects.count() == 0
    assert Bookmark.objects.count() == 0
    assert Comment.objects.count() == 1


def test_customer_gets_404_outside_customer_spaces(
    signed_in, customer, sales_rep, open_post, private_post
):
    comment = post_comment(author=sales_rep, post=open_post, body="internal")
    client = signed_in(customer)
    for method, url, data in hidden_routes(open_post, comment):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, url


def test_customer_reads_and_reacts_in_customer_space(
    signed_in, customer, customer_post
):
    client = signed_in(customer)
    assert client.get(f"/posts/{customer_post.pk}/").status_code == 200

    response = client.post(
        f"/posts/{customer_post.pk}/comments/new/", {"body": "Thanks!"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/posts/{customer_post.pk}/reactions/",
        {"kind": "thanks", "active": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Reaction.objects.filter(person=customer).count() == 1


def test_neighbouring_ids_answer_like_missing(signed_in, outsider, private_post):
    client = signed_in(outsider)
    hidden = client.get(f"/posts/{private_post.pk}/")
    missing = client.get(f"/posts/{private_post.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404


def test_member_sees_and_comments_in_private_post(signed_in, member, private_post):
    client = signed_in(member)
    page = client.get(f"/posts/{private_post.pk}/")
    assert page.status_code == 200
    assert b"Price list v7" in page.content

    response = client.post(
        f"/posts/{private_post.pk}/comments/new/", {"body": "Noted **v7**"}
    )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/posts/{private_post.pk}/comments/{comment.pk}/"


def test_member_cannot_delete_others_post(signed_in, member, private_post):
    response = signed_in(member).post(f"/posts/{private_post.pk}/delete/")
    assert response.status_code == 403
    private_post.refresh_from_db()
    assert not private_post.is_deleted


def test_moderator_deletes_post_leaving_tombstone(
    signed_in, moderator, member, private_post
):
    post_comment(author=member, post=private_post, body="a reply that stays")
    client = signed_in(moderator)

    response = client.post(f"/posts/{private_post.pk}/delete/")
    assert response.status_code == 302
    page = client.get(f"/posts/{private_post.pk}/")
    assert b"This post was deleted." in page.content
    assert b"Price list v7" not in page.content
    assert b"a reply that stays" in page.content
    history = client.get(f"/posts/{private_post.pk}/history/")
    assert b"Price list v7" in history.content


def test_member_cannot_read_others_history(signed_in, member, private_post):
    response = signed_in(member).get(f"/posts/{private_post.pk}/history/")
    assert response.status_code == 403


def test_author_edits_post_through_page(signed_in, facilitator, private_post):
    client = signed_in(facilitator)
    form = client.get(f"/posts/{private_post.pk}/edit/")
    assert b"Price list v7" in form.content

    response = client.post(f"/posts/{private_post.pk}/edit/", {"body": "Price list v8"})
    assert response.status_code == 302
    page = client.get(f"/posts/{private_post.pk}/")
    assert b"Price list v8" in page.content
    assert b"edited" in page.content


def test_other_person_cannot_edit_post(signed_in, moderator, private_post):
    response = signed_in(moderator).post(
        f"/posts/{private_post.pk}/edit/", {"body": "changed"}
    )
    assert response.status_code == 403


def test_empty_comment_shows_message(signed_in, outsider, open_post):
    response = signed_in(outsider).post(
        f"/posts/{open_post.pk}/comments/new/", {"body": "\u200b"}
    )
    assert response.status_code == 422
    assert b"The comment is empty: write at least one word." in response.content


def test_reaction_endpoint_returns_bar_partial(signed_in, outsider, open_post):
    client = signed_in(outsider)
    response = client.post(
        f"/posts/{open_post.pk}/reactions/",
        {"kind": "like", "active": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(
        f'<div class="actions reaction-bar" id="post-bar-{open_post.pk}"'
    )
    assert 'data-testid="reaction-like">Like <span class="count">1</span>' in html
    assert 'name="active" value="0"' in html


def test_reaction_endpoint_without_htmx_redirects(signed_in, outsider, open_post):
    response = signed_in(outsider).post(
        f"/posts/{open_post.pk}/reactions/", {"kind": "like", "active": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/posts/{open_post.pk}/"


def test_bad_reaction_kind_gets_422(signed_in, outsider, open_post):
    response = signed_in(outsider).post(
        f"/posts/{open_post.pk}/reactions/",
        {"kind": "angry", "active": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert b"Choose a reaction and whether to add it." in response.content
    assert Reaction.objects.count() == 0


def test_own_post_helpful_gets_message(signed_in, sales_rep, open_post):
    response = signed_in(sales_rep).post(
        f"/posts/{open_post.pk}/helpful/", {"active": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert b"You cannot mark your own post as helpful." in response.content
    assert HelpfulMark.objects.count() == 0


def test_bookmark_list_shows_visible_only(
    signed_in, member, private_post, open_post, private_community
):
    client = signed_in(member)
    client.post(f"/posts/{private_post.pk}/bookmark/", {"active": "1"})
    client.post(f"/posts/{open_post.pk}/bookmark/", {"active": "1"})
    private_community.memberships.filter(person=member).delete()

    page = client.get("/posts/bookmarks/")
    assert [post.pk for post in page.context["posts"]] == [open_post.pk]


@override_settings(SOCIAL_COMMENTS_PAGE_SIZE=10)
def test_comment_permalink_opens_right_page(signed_in, outsider, open_post):
    comments = [
        post_comment(author=outsider, post=open_post, body=f"c{index}")
        for index in range(25)
    ]
    target = comments[21]
    client = signed_in(outsider)

    response = client.get(f"/posts/{open_post.pk}/comments/{target.pk}/")
    assert response.status_code == 302
    assert response["Location"] == (
        f"/posts/{open_post.pk}/?page=3#comment-{target.pk}"
    )
    page = client.get(response["Location"])
    assert target in page.context["comments"]


@override_settings(SOCIAL_COMMENTS_PAGE_SIZE=10)
def test_last_page_has_no_load_more(signed_in, outsider, open_post):
    for index in range(25):
        post_comment(author=outsider, post=open_post, body=f"c{index}")
    client = signed_in(outsider)

    second = client.get(f"/posts/{open_post.pk}/comments/?page=2")
    assert b'data-testid="load-more"' in second.content
    last = client.get(f"/posts/{open_post.pk}/comments/?page=3")
    assert last.status_code == 200
    assert b'data-testid="load-more"' not in last.content
    assert len(last.context["comments"]) == 5


def test_page_out_of_range_is_404(signed_in, outsider, open_post):
    response = signed_in(outsider).get(f"/posts/{open_post.pk}/?page=9")
    assert response.status_code == 404


def test_comment_permalink_checks_post(signed_in, outsider, open_post, customer_post):
    comment = post_comment(author=outsider, post=open_post, body="x")
    response = signed_in(outsider).get(
        f"/posts/{customer_post.pk}/comments/{comment.pk}/"
    )
    assert response.status_code == 404


def test_link_to_internal_post_renders_bare(
    signed_in, sales_rep, customer, customer_post, private_post
):
    """A link in a customer space shows only the address, never the target text."""
    post_comment(
        author=sales_rep,
        post=customer_post,
        body=f"see https://commonplace.example.com/posts/{private_post.pk}/",
    )
    page = signed_in(customer).get(f"/posts/{customer_post.pk}/")
    assert page.status_code == 200
    assert b"Price list" not in page.content


def build_busy_thread(post, *, comments: int, reactors: int) -> None:
    people = [
        make_person(f"reader{index}", Role.SALES_REP, group="sales")
        for index in range(reactors)
    ]
    Comment.objects.bulk_create(
        [
            Comment(
                post=post,
                author=people[index % reactors],
                author_name="Reader",
                body=f"c{index}",
                body_html=f"<p>c{index}</p>",
            )
            for index in range(comments)
        ]
    )
    post.comment_count = comments
    post.save(update_fields=["comment_count"])
    for person in people:
        for kind in ("like", "thanks"):
            set_reaction(person=person, post=post, kind=kind, active=True)


@pytest.mark.parametrize(("comments", "reactors"), [(3, 2), (400, 30)])
def test_post_page_queries_are_constant(
    signed_in, outsider, open_post, comments, reactors, django_assert_num_queries
):
    build_busy_thread(open_post, comments=comments, reactors=reactors)
    client = signed_in(outsider)
    client.get("/healthz")

    # session, person, post, moderator check, comment page, the viewer's
    # own marks (reaction counts are on the post row), the unread
    # notification count, the super-user check of the comments' "Make
    # FAQ entry" links, made once for the page, and the FAQ entries made
    # from the page's comments, for their "In the FAQ" links
    with django_assert_num_queries(9):
        response = client.get(f"/posts/{open_post.pk}/?page=1")
    assert response.status_code == 200


@pytest.mark.parametrize(("comments", "reactors"), [(3, 2), (400, 30)])
def test_reaction_endpoint_queries_are_constant(
    signed_in, outsider, open_post, comments, reactors, django_assert_num_queries
):
    build_busy_thread(open_post, comments=comments, reactors=reactors)
    client = signed_in(outsider)

    # Session, person and post come first. The write is the open check, the
    # insert, the reaction counter and the audit event, plus four savepoint
    # statements because the test runs in a transaction. Then the post and
    # the viewer's own marks.
    with django_assert_num_queries(13):
        response = client.post(
            f"/posts/{open_post.pk}/reactions/",
            {"kind": "celebrate", "active": "1"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200


def test_post_moved_to_private_space_is_hidden(
    signed_in, outsider, open_post, private_community
):
    client = signed_in(outsider)
    assert client.get(f"/posts/{open_post.pk}/").status_code == 200

    open_post.community = private_community
    open_post.save(update_fields=["community"])

    assert client.get(f"/posts/{open_post.pk}/").status_code == 404
    response = client.post(
        f"/posts/{open_post.pk}/reactions/", {"kind": "like", "active": "1"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("post_count", [2, 20])
def test_tag_page_queries_are_constant(
    signed_in,
    sales_rep,
    outsider,
    payments_community,
    post_count,
    django_assert_num_queries,
):
    from social.services import publish_post

    for index in range(post_count):
        post = publish_post(
            author=sales_rep, community=payments_community, body=f"#cash tip {index}"
        )
        set_reaction(person=outsider, post=post, kind="like", active=True)
    client = signed_in(outsider)

    # session, person, hashtag, the tag's post ids, the posts, the viewer's
    # own marks, the follow button's state and the unread notification count
    with django_assert_num_queries(8):
        response = client.get("/tags/cash/")
    assert len(response.context["posts"]) == post_count
    assert b'data-testid="reaction-like">Like <span class="count">1</span>' in (
        response.content
    )


@pytest.mark.parametrize("page", ["abc", "\u00b2", "\u0661", "", "0", "9" * 30])
def test_bad_page_number_is_400(signed_in, outsider, open_post, page):
    client = signed_in(outsider)
    for path in (f"/posts/{open_post.pk}/", f"/posts/{open_post.pk}/comments/"):
        response = client.get(path, {"page": page})
        assert response.status_code == 400, path
        assert response.content.decode() == (
            f"page={page!r} is not a page number: use a whole number from 1 to "
            "9223372036854775807, in the digits 0 to 9."
        )
