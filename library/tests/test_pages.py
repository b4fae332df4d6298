"""Library list and item pages: filters, visibility, votes, counts and queries."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import CrmFunction
from assist.caching import current_help_version
from core.models import AuditEvent
from library.models import Document, HelpfulVote, Kind, Tag
from library.services import add_tags, count_view, vote_helpful
from library.tests.conftest import make_item, signed_in

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return [document.title for document in response.context["page"]]


@pytest.fixture
def shelf(member, payments):
    guide = make_item(member, "Payment guide", kind=Kind.DOCUMENT)
    guide.crm_function = payments
    guide.save()
    video = make_item(member, "Seeking demo", kind=Kind.VIDEO, customer_visible=True)
    link = make_item(member, "Bank codes", kind=Kind.LINK)
    add_tags(document=guide, person=member, names=["C#", "Short payment"])
    add_tags(document=video, person=member, names=["Short payment"])
    return guide, video, link


def test_list_shows_all_to_employee(outsider, shelf):
    response = signed_in(outsider).get("/library/")

    assert response.status_code == 200
    assert titles(response) == ["Bank codes", "Payment guide", "Seeking demo"]


def test_list_shows_customer_visible_only(customer, shelf):
    response = signed_in(customer).get("/library/")

    assert titles(response) == ["Seeking demo"]
    assert [tag.name for tag in response.context["tags"]] == ["Shortpayment"]


@pytest.fixture
def customer_guide(member, payments):
    guide = make_item(member, "Your invoices", customer_visible=True)
    guide.crm_function = payments
    guide.save()
    return guide


def test_list_hides_functions_from_customer(customer, customer_guide):
    response = signed_in(customer).get("/library/")
    page = response.content.decode()

    assert titles(response) == ["Your invoices"]
    assert 'name="function"' not in page
    assert "Payments" not in page
    assert "Invoicing" not in page


def test_list_ignores_customer_function_filter(customer, customer_guide):
    response = signed_in(customer).get("/library/?function=invoicing")

    assert titles(response) == ["Your invoices"]


def test_list_shows_functions_to_employee(outsider, customer_guide):
    page = signed_in(outsider).get("/library/").content.decode()

    assert 'name="function"' in page
    assert '<option value="invoicing">Invoicing</option>' in page
    assert "Markdown page · Payments" in page


def test_detail_hides_function_from_customer(customer, customer_guide):
    response = signed_in(customer).get(f"/library/{customer_guide.pk}/")

    assert response.status_code == 200
    assert "Payments" not in response.content.decode()


def test_detail_shows_function_to_employee(outsider, customer_guide):
    response = signed_in(outsider).get(f"/library/{customer_guide.pk}/")

    assert "Markdown page · Payments" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=video", ["Seeking demo"]),
        ("kind=link", ["Bank codes"]),
        ("kind=unknown", ["Bank codes", "Payment guide", "Seeking demo"]),
        ("tag=c-sharp", ["Payment guide"]),
        ("tag=shortpayment", ["Payment guide", "Seeking demo"]),
        ("tag=shortpayment&kind=video", ["Seeking demo"]),
        ("function=payments", ["Payment guide"]),
        ("function=invoicing", []),
    ],
)
def test_list_filters(outsider, shelf, query, expected):
    response = signed_in(outsider).get(f"/library/?{query}")

    assert titles(response) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=a%00b", []),
        ("function=%00", ["Bank codes", "Payment guide", "Seeking demo"]),
        ("kind=%00&page=%00", ["Bank codes", "Payment guide", "Seeking demo"]),
    ],
)
def test_list_nul_filters_no_error(outsider, shelf, query, expected):
    response = signed_in(outsider).get(f"/library/?{query}")

    assert response.status_code == 200
    assert titles(response) == expected


def test_list_query_count_fixed(outsider, member, shelf, django_assert_num_queries):
    client = signed_in(outsider)
    client.get("/library/")

    # Session, person, unread notifications, page count, items with owner
    # and function, their tags, the tag filter and the CRM functions.
    with django_assert_num_queries(8):
        client.get("/library/")

    for number in range(20):
        item = make_item(member, f"Extra {number:02}")
        add_tags(document=item, person=member, names=[f"tag {number}", "common"])
    with django_assert_num_queries(8):
        response = client.get("/library/")
    assert len(response.context["page"]) == 23


def test_list_needs_sign_in(client):
    assert client.get("/library/").status_code == 302


def test_detail_counts_views(outsider, shelf):
    guide = shelf[0]
    client = signed_in(outsider)

    client.get(f"/library/{guide.pk}/")
    response = client.get(f"/library/{guide.pk}/")

    guide.refresh_from_db()
    assert guide.view_count == 2
    assert len(response.context["tags"]) == 2


def test_detail_hidden_from_customer(customer, shelf):
    guide, video, _ = shelf
    client = signed_in(customer)

    assert client.get(f"/library/{guide.pk}/").status_code == 404
    assert client.get(f"/library/{video.pk}/").status_code == 200
    assert client.post(f"/library/{guide.pk}/tags/", {"tags": "x"}).status_code == 404
    assert client.post(f"/library/{guide.pk}/helpful/").status_code == 404
    assert Document.objects.get(pk=guide.pk).view_count == 0


def test_tags_employee_adds_customer_rejected(customer, outsider, shelf):
    _, video, _ = shelf

    rejected = signed_in(customer).post(
        f"/library/{video.pk}/tags/", {"tags": "Valencia, valencia"}
    )
    signed_in(outsider).post(f"/library/{video.pk}/tags/", {"tags": "VALENCIA"})

    assert rejected.status_code == 403
    assert sorted(video.tags.values_list("name", flat=True)) == [
        "Shortpayment",
        "VALENCIA",
    ]


def test_tags_form_rejects_blank(outsider, shelf):
    response = signed_in(outsider).post(
        f"/library/{shelf[0].pk}/tags/", {"tags": " , \u200b"}
    )

    assert response.status_code == 400
    assert response.context["tag_form"].errors["tags"] == [
        "Type at least one tag name."
    ]


def test_tags_form_rejects_long_folded_key(outsider, shelf):
    # 80 characters fit the name column, but the key folds each "ß" to "ss".
    name = "ß" * 80
    tags_before = set(Tag.objects.values_list("key", flat=True))

    response = signed_in(outsider).post(f"/library/{shelf[0].pk}/tags/", {"tags": name})

    assert response.status_code == 400
    assert response.context["tag_form"].errors["tags"] == [
        f"Tag {name!r} has 160 characters once its case is folded (as in 'ß' to "
        "'ss'); the limit is 80. Shorten the tag."
    ]
    assert set(Tag.objects.values_list("key", flat=True)) == tags_before


def test_helpful_vote_once_per_person(outsider, moderator, shelf):
    guide = shelf[0]
    version_before = current_help_version()

    assert vote_helpful(document=guide, person=outsider) is True
    assert vote_helpful(document=guide, person=outsider) is False
    assert vote_helpful(document=guide, person=moderator) is True

    guide.refresh_from_db()
    assert guide.helpful_count == 2
    assert current_help_version() > version_before
    assert AuditEvent.objects.filter(action="library.helpful_voted").count() == 2


def test_helpful_vote_unique_in_database(outsider, shelf):
    HelpfulVote.objects.create(document=shelf[0], person=outsider)

    with pytest.raises(IntegrityError), transaction.atomic():
        HelpfulVote.objects.create(document=shelf[0], person=outsider)


def test_helpful_vote_withdrawn(outsider, shelf):
    guide = shelf[0]
    client = signed_in(outsider)

    client.post(f"/library/{guide.pk}/helpful/", {"helpful": "1"})
    client.post(f"/library/{guide.pk}/helpful/", {"helpful": "0"})
    client.post(f"/library/{guide.pk}/helpful/", {"helpful": "0"})

    guide.refresh_from_db()
    assert guide.helpful_count == 0
    assert HelpfulVote.objects.count() == 0


def test_count_view_uses_database_value(shelf):
    guide = shelf[0]
    stale = Document.objects.get(pk=guide.pk)
    count_view(document_id=guide.pk)
    count_view(document_id=guide.pk)

    # A stale copy saved later does not matter to the counter's next update.
    count_view(document_id=stale.pk)

    assert Document.objects.get(pk=guide.pk).view_count == 3


def test_item_form_lists_fields(outsider):
    response = signed_in(outsider).get("/library/new/")

    assert response.status_code == 200
    assert set(response.context["form"].fields) == {
        "kind",
        "title",
        "summary",
        "body",
        "url",
        "file",
        "poster",
        "crm_function",
        "contexts",
        "customer_visible",
        "learner_groups",
        "tags",
    }


def test_item_form_saves_function_contexts_and_tags(outsider, payments):
    response = signed_in(outsider).post(
        "/library/new/",
        {
            "kind": Kind.MARKDOWN,
            "title": "Short payment checklist",
            "body": "1. Check the *remittance*",
            "crm_function": payments.pk,
            "contexts": ["reconciliation.order.short_payment"],
            "tags": "C#, c#, Short payment",
        },
    )

    document = Document.objects.get()
    assert response.status_code == 302
    assert document.crm_function == CrmFunction.objects.get(slug="payments")
    assert list(document.contexts.values_list("key", flat=True)) == [
        "reconciliation.order.short_payment"
    ]
    assert sorted(document.tags.values_list("name", flat=True)) == [
        "C#",
        "Shortpayment",
    ]
    assert document.body_html == "<ol>\n<li>Check the <em>remittance</em></li>\n</ol>\n"


def test_page_mention_stays_plain_text(outsider):
    # Saving a page notifies nobody, so "@margaret" must not look like a mention.
    response = signed_in(outsider).post(
        "/library/new/",
        {
            "kind": Kind.MARKDOWN,
            "title": "Who to ask",
            "body": "Ask @margaret about #refunds",
        },
    )

    document = Document.objects.get()
    assert response.status_code == 302
    assert 'class="mention"' not in document.body_html
    assert "Ask @margaret about" in document.body_html
    assert 'class="hashtag"' in document.body_html
