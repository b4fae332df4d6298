"""Quote and share a post (case C16): only where every reader may read it.

``mia`` (``member``) belongs to the private "Pricing internal" and to a
second private community; ``otto`` (``outsider``) and ``carla``
(``customer``) belong to nothing.
"""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from communities.models import Community, Membership
from social.models import Post
from social.selectors import attach_conversations
from social.services import delete_post, edit_post, publish_post
from social.services.shares import readers_may_read, share_post, share_targets

pytestmark = pytest.mark.django_db

HIDDEN = "This post is not visible to you."


@pytest.fixture
def other_private(member):
    community = Community.objects.create(
        slug="pricing-other",
        name="Pricing other",
        visibility=Community.Visibility.PRIVATE,
    )
    Membership.objects.create(community=community, person=member)
    return community


@pytest.fixture
def second_open(db):
    return Community.objects.create(
        slug="warehouse-floor",
        name="Warehouse floor",
        visibility=Community.Visibility.OPEN,
    )


@pytest.fixture
def spaces(
    private_community,
    other_private,
    payments_community,
    second_open,
    customer_community,
):
    return {
        "private": private_community,
        "other_private": other_private,
        "open": payments_community,
        "second_open": second_open,
        "customer": customer_community,
    }


@pytest.fixture
def originals(private_post, open_post, customer_post):
    return {"private": private_post, "open": open_post, "customer": customer_post}


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("private", "private", True),
        ("private", "other_private", False),
        ("private", "open", False),
        ("private", "customer", False),
        ("open", "second_open", True),
        ("open", "open", True),
        ("open", "private", True),
        ("open", "customer", False),
        ("customer", "customer", True),
        ("customer", "open", True),
        ("customer", "private", True),
    ],
)
def test_share_audience_rule(member, spaces, originals, source, target, allowed):
    original = originals[source]
    community = spaces[target]

    assert readers_may_read(original=original.community, target=community) is allowed
    if allowed:
        share = share_post(
            actor=member, original=original, community=community, comment="Look"
        )
        assert share.shared_from_id == original.pk
        assert share.community_id == community.pk
    else:
        with pytest.raises(ValidationError):
            share_post(actor=member, original=original, community=community)
        assert not Post.objects.filter(shared_from=original).exists()


def test_private_share_elsewhere_names_the_rule(
    member, private_post, payments_community
):
    with pytest.raises(ValidationError) as raised:
        share_post(actor=member, original=private_post, community=payments_community)

    assert raised.value.messages == [
        f"Post {private_post.pk} is in the private community Pricing internal, so "
        "it can be shared only inside Pricing internal: only its members may read it."
    ]


def test_open_to_customer_share_names_both_spaces(
    outsider, open_post, customer_community
):
    with pytest.raises(ValidationError) as raised:
        share_post(actor=outsider, original=open_post, community=customer_community)

    assert raised.value.messages == [
        f"Post {open_post.pk} is in Payments (open to employees), so it cannot be "
        "shared into Customer corner (customer-visible): some people who read "
        "Customer corner may not read the original. Share it into a community "
        "with the same readers or fewer."
    ]


def test_outsider_cannot_share_what_they_cannot_read(
    outsider, private_post, payments_community
):
    with pytest.raises(Http404):
        share_post(actor=outsider, original=private_post, community=payments_community)


def test_customer_cannot_share_into_hidden_community(
    customer, customer_post, payments_community
):
    with pytest.raises(Http404):
        share_post(actor=customer, original=customer_post, community=payments_community)


def test_deleted_post_cannot_be_shared(sales_rep, open_post, second_open):
    delete_post(actor=sales_rep, post=open_post)

    with pytest.raises(ValidationError) as raised:
        share_post(actor=sales_rep, original=open_post, community=second_open)

    assert raised.value.messages == [
        f"Post {open_post.pk} was deleted, so it cannot be shared."
    ]


def test_share_keeps_no_copy_of_the_original(member, private_post):
    share = share_post(
        actor=member,
        original=private_post,
        community=private_post.community,
        comment="See #pricing",
    )

    assert share.body == "See #pricing"
    assert "Price list" not in share.body_html
    assert list(share.hashtags.values_list("name", flat=True)) == ["pricing"]


def test_share_records_audit_event(member, open_post, second_open):
    from core.models import AuditEvent

    share = share_post(actor=member, original=open_post, community=second_open)

    event = AuditEvent.objects.get(action="post.shared")
    assert event.object_id == str(share.pk)
    assert event.after["shared_from"] == open_post.pk


def test_share_targets_for_member(member, spaces, open_post):
    targets = list(share_targets(member, open_post).values_list("slug", flat=True))

    assert targets == [
        "payments",
        "pricing-internal",
        "pricing-other",
        "warehouse-floor",
    ]


def test_share_targets_of_private_post(member, spaces, private_post):
    targets = list(share_targets(member, private_post).values_list("slug", flat=True))

    assert targets == ["pricing-internal"]


def test_quote_follows_the_viewer_after_a_move(
    outsider, member, open_post, second_open, private_community
):
    share = share_post(actor=outsider, original=open_post, community=second_open)
    open_post.community = private_community
    open_post.save(update_fields=["community"])

    for_outsider = attach_conversations(outsider, [Post.objects.get(pk=share.pk)])
    for_member = attach_conversations(member, [Post.objects.get(pk=share.pk)])

    assert for_outsider[0].conversation.quoted is None
    assert for_member[0].conversation.quoted == open_post


def test_private_link_stays_bare(sales_rep, customer_community, private_post):
    post = publish_post(
        author=sales_rep,
        community=customer_community,
        body=f"Read /posts/{private_post.pk}/ and "
        f"https://learn.example.com/posts/{private_post.pk}/",
    )

    assert post.body_html == (
        f"<p>Read /posts/{private_post.pk}/ and "
        f'<a href="https://learn.example.com/posts/{private_post.pk}/" '
        'rel="nofollow noopener noreferrer">'
        f"https://learn.example.com/posts/{private_post.pk}/</a></p>\n"
    )
    assert "Price list" not in post.body_html


def test_edited_private_link_stays_bare(sales_rep, customer_post, private_post):
    edit_post(
        editor=sales_rep,
        post=customer_post,
        body=f"Welcome, customers: [pricing](/posts/{private_post.pk}/)",
    )

    customer_post.refresh_from_db()
    assert customer_post.body_html == (
        "<p>Welcome, customers: "
        f'<a href="/posts/{private_post.pk}/" rel="nofollow noopener noreferrer">'
        "pricing</a></p>\n"
    )


# --- The share page and the rendered quote ---


def test_share_page_is_404_for_unreadable_post(
    signed_in, outsider, customer, private_post
):
    for person in (outsider, customer):
        response = signed_in(person).get(f"/posts/{private_post.pk}/share/")
        assert response.status_code == 404
        assert b"Price list" not in response.content


def test_share_page_lists_allowed_targets(signed_in, member, spaces, open_post):
    response = signed_in(member).get(f"/posts/{open_post.pk}/share/")

    assert response.status_code == 200
    assert [c.slug for c in response.context["targets"]] == [
        "payments",
        "pricing-internal",
        "pricing-other",
        "warehouse-floor",
    ]
    assert b"Short-pay tip" in response.content


def test_share_page_publishes_and_redirects(signed_in, member, open_post, second_open):
    response = signed_in(member).post(
        f"/posts/{open_post.pk}/share/",
        {"community": "warehouse-floor", "comment": "Worth a read"},
    )

    share = Post.objects.get(shared_from=open_post)
    assert response.status_code == 302
    assert response["Location"] == f"/posts/{share.pk}/"


def test_share_page_refusal_is_422_with_message(
    signed_in, outsider, open_post, customer_community
):
    response = signed_in(outsider).post(
        f"/posts/{open_post.pk}/share/", {"community": "customer-corner"}
    )

    assert response.status_code == 422
    assert "so it cannot be shared into Customer corner" in response.content.decode()
    assert not Post.objects.filter(shared_from=open_post).exists()


def test_share_page_with_hidden_target_is_404(
    signed_in, outsider, open_post, private_community
):
    response = signed_in(outsider).post(
        f"/posts/{open_post.pk}/share/", {"community": "pricing-internal"}
    )

    assert response.status_code == 404


def test_share_hides_quote_from_outsider(
    signed_in, outsider, member, open_post, second_open, private_community
):
    share = share_post(
        actor=member, original=open_post, community=second_open, comment="Read this"
    )
    open_post.community = private_community
    open_post.save(update_fields=["community"])

    seen_by_outsider = signed_in(outsider).get(f"/posts/{share.pk}/").content.decode()
    seen_by_member = signed_in(member).get(f"/posts/{share.pk}/").content.decode()

    assert HIDDEN in seen_by_outsider
    assert "Short-pay tip" not in seen_by_outsider
    assert "Read this" in seen_by_outsider
    assert HIDDEN not in seen_by_member
    assert "Short-pay tip" in seen_by_member


def test_community_page_renders_quote(signed_in, outsider, open_post, second_open):
    share_post(actor=outsider, original=open_post, community=second_open)

    page = signed_in(outsider).get("/communities/warehouse-floor/").content.decode()

    assert 'data-testid="quote"' in page
    assert "Short-pay tip" in page
