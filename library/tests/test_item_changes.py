"""Editing, un-sharing and withdrawing items and versions, and removing tags.

Every check goes through the views, as a browser would send the requests.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from assist.models import HelpContext
from assist.selectors import build_help_panel
from conftest import make_person
from core.models import AuditEvent
from library.models import Document, DocumentTag, Kind, Tag
from library.services import add_tags
from library.tests.conftest import PDF_BYTES, make_item, signed_in
from search.selectors import SearchFilters, search

pytestmark = pytest.mark.django_db

KEY = "reconciliation.order.short_payment"
# A customer's help panel opens only on portal screens.
PORTAL_KEY = "portal.order"


def add_document(person, *, name, content, customer_visible=False) -> Document:
    response = signed_in(person).post(
        "/library/new/",
        {
            "kind": Kind.DOCUMENT,
            "title": f"Guide {name}",
            "file": SimpleUploadedFile(name, content),
            "customer_visible": "on" if customer_visible else "",
            "contexts": [KEY, PORTAL_KEY],
        },
    )
    assert response.status_code == 302, response.content
    return Document.objects.latest("pk")


def upload_version(person, document, *, name, content):
    return signed_in(person).post(
        f"/library/{document.pk}/versions/new/",
        {"file": SimpleUploadedFile(name, content)},
    )


def panel_titles(person, key: str = KEY) -> list[str]:
    return [item.title for item in build_help_panel(viewer=person, key=key).documents]


def found_ids(person, text) -> list[int]:
    results = search(person, text, page_size=100)
    return [hit.object_id for hit in results.hits if hit.kind == "library"]


@pytest.fixture
def wandk(customer):
    return customer


@pytest.fixture
def vinet(other_party):
    return make_person("vinet", Role.CUSTOMER, group="customers", customer=other_party)


# Tags: one visibility rule, and removal by the people who may edit.


def test_customer_added_tag_hidden_from_customers(member, wandk, vinet, outsider):
    item = make_item(member, "Returns guide", customer_visible=True)
    add_tags(document=item, person=member, names=["Returns"])
    # A row a customer added before customers lost the right to tag.
    leaked = Tag.objects.create(
        name="Wandernde Kuh owes 83.63", key="wandernde kuh owes 83.63", slug="owes"
    )
    DocumentTag.objects.create(document=item, tag=leaked, added_by=wandk)

    for customer in (wandk, vinet):
        client = signed_in(customer)
        detail = client.get(f"/library/{item.pk}/")
        listing = client.get("/library/")
        filtered = client.get("/library/?tag=owes")
        assert [tag.name for tag in detail.context["tags"]] == ["Returns"]
        assert "owes 83.63" not in detail.content.decode()
        assert "owes 83.63" not in listing.content.decode()
        assert [tag.name for tag in listing.context["tags"]] == ["Returns"]
        assert list(filtered.context["page"]) == []

    staff_detail = signed_in(outsider).get(f"/library/{item.pk}/")
    assert [tag.name for tag in staff_detail.context["tags"]] == [
        "Returns",
        "Wandernde Kuh owes 83.63",
    ]


def test_customer_cannot_see_tag_form(member, wandk):
    item = make_item(member, "Returns guide", customer_visible=True)

    page = signed_in(wandk).get(f"/library/{item.pk}/").content.decode()

    assert 'name="tags"' not in page


def test_owner_removes_tag_with_audit_event(member, wandk):
    item = make_item(member, "Returns guide", customer_visible=True)
    tag = Tag.objects.create(name="owes 83.63", key="owes 83.63", slug="owes")
    DocumentTag.objects.create(document=item, tag=tag, added_by=wandk)

    page = signed_in(member).get(f"/library/{item.pk}/").content.decode()
    response = signed_in(member).post(f"/library/{item.pk}/tags/{tag.pk}/remove/")

    assert f"/library/{item.pk}/tags/{tag.pk}/remove/" in page
    assert response.status_code == 302
    assert list(item.tags.all()) == []
    event = AuditEvent.objects.get(action="library.tag_removed")
    assert event.before == {"tag": "owes 83.63", "added_by": "carla"}
    assert event.actor == member


@pytest.mark.parametrize("role", ["facilitator", "moderator"])
def test_curators_remove_tags(member, role):
    curator = make_person(f"cur-{role}", Role(role), group="operations")
    item = make_item(member, "Returns guide")
    add_tags(document=item, person=member, names=["Returns"])
    tag = Tag.objects.get()

    response = signed_in(curator).post(f"/library/{item.pk}/tags/{tag.pk}/remove/")

    assert response.status_code == 302
    assert list(item.tags.all()) == []


def test_others_cannot_remove_tags(member, outsider, wandk):
    item = make_item(member, "Returns guide", customer_visible=True)
    add_tags(document=item, person=member, names=["Returns"])
    tag = Tag.objects.get()
    url = f"/library/{item.pk}/tags/{tag.pk}/remove/"

    assert signed_in(outsider).post(url).status_code == 403
    assert signed_in(wandk).post(url).status_code == 403
    assert (
        "/remove/"
        not in signed_in(outsider).get(f"/library/{item.pk}/").content.decode()
    )
    assert list(item.tags.values_list("name", flat=True)) == ["Returns"]
    assert not AuditEvent.objects.filter(action="library.tag_removed").exists()


# Editing and un-sharing.


def test_owner_edits_item_with_audit_event(member, media_root):
    document = add_document(member, name="guide.pdf", content=PDF_BYTES)

    form = signed_in(member).get(f"/library/{document.pk}/edit/")
    response = signed_in(member).post(
        f"/library/{document.pk}/edit/",
        {
            "title": "Short payments, step by step",
            "summary": "New summary",
            "contexts": ["portal.order"],
            "customer_visible": "on",
        },
    )

    assert form.status_code == 200
    assert form.context["form"].initial["title"] == "Guide guide.pdf"
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.title == "Short payments, step by step"
    assert document.summary == "New summary"
    assert document.customer_visible is True
    assert list(document.contexts.values_list("key", flat=True)) == ["portal.order"]
    event = AuditEvent.objects.get(action="library.item_updated")
    assert event.before["customer_visible"] is False
    assert event.after["customer_visible"] is True
    assert event.after["contexts"] == ["portal.order"]


def test_edit_rejects_blank_title(member):
    item = make_item(member, "Returns guide")

    response = signed_in(member).post(f"/library/{item.pk}/edit/", {"title": " "})

    assert response.status_code == 400
    assert Document.objects.get(pk=item.pk).title == "Returns guide"


def test_edit_forbidden_to_others(member, outsider, wandk):
    item = make_item(member, "Returns guide", customer_visible=True)
    url = f"/library/{item.pk}/edit/"

    assert signed_in(outsider).get(url).status_code == 403
    assert signed_in(wandk).post(url, {"title": "Mine"}).status_code == 403
    assert Document.objects.get(pk=item.pk).title == "Returns guide"


def test_unshare_hides_item_everywhere(transactional_db, member, wandk, media_root):
    # transactional_db: the search index is written after a real commit.
    document = add_document(
        member, name="zebrafinch.pdf", content=PDF_BYTES, customer_visible=True
    )
    customer = signed_in(wandk)
    assert customer.get(f"/library/{document.pk}/").status_code == 200
    shared_file = customer.get(f"/library/{document.pk}/v1/file")
    assert shared_file.status_code == 200
    assert b"".join(shared_file.streaming_content) == PDF_BYTES
    assert panel_titles(wandk, PORTAL_KEY) == ["Guide zebrafinch.pdf"]
    assert found_ids(wandk, "zebrafinch") == [document.pk]

    response = signed_in(member).post(
        f"/library/{document.pk}/edit/",
        {
            "title": document.title,
            "contexts": [KEY, PORTAL_KEY],
            "customer_visible": "",
        },
    )

    assert response.status_code == 302
    assert customer.get(f"/library/{document.pk}/").status_code == 404
    assert customer.get(f"/library/{document.pk}/v1/file").status_code == 404
    assert list(customer.get("/library/").context["page"]) == []
    assert panel_titles(wandk, PORTAL_KEY) == []
    assert found_ids(wandk, "zebrafinch") == []
    assert panel_titles(member) == ["Guide zebrafinch.pdf"]


# Withdrawing items and versions.


def test_withdraw_item_asks_then_hides(member, outsider, media_root):
    document = add_document(member, name="guide.pdf", content=PDF_BYTES)
    client = signed_in(member)

    confirm = client.get(f"/library/{document.pk}/withdraw/")
    assert confirm.status_code == 200
    assert "Withdraw “Guide guide.pdf”?" in confirm.content.decode()
    assert Document.objects.get(pk=document.pk).withdrawn_at is None

    response = client.post(
        f"/library/{document.pk}/withdraw/", {"reason": "Replaced by the wiki"}
    )

    assert response.status_code == 302
    for person in (member, outsider):
        reader = signed_in(person)
        assert list(reader.get("/library/").context["page"]) == []
        assert panel_titles(person) == []
    # The owner may still open it to restore it, and nobody else can.
    assert signed_in(member).get(f"/library/{document.pk}/").status_code == 200
    reader = signed_in(outsider)
    assert reader.get(f"/library/{document.pk}/").status_code == 404
    assert reader.get(f"/library/{document.pk}/v1/file").status_code == 404
    event = AuditEvent.objects.get(action="library.item_withdrawn")
    assert event.reason == "Replaced by the wiki"
    # The history stays: the row and its version are kept.
    assert Document.objects.get(pk=document.pk).versions.count() == 1


def test_withdraw_item_forbidden_to_others(member, outsider, media_root):
    document = add_document(member, name="guide.pdf", content=PDF_BYTES)

    response = signed_in(outsider).post(f"/library/{document.pk}/withdraw/")

    assert response.status_code == 403
    assert Document.objects.get(pk=document.pk).withdrawn_at is None


def test_withdraw_version_keeps_earlier(member, media_root):
    document = add_document(member, name="notes.md", content=b"# First text\n")
    upload_version(member, document, name="notes.md", content=b"# Second text\n")
    client = signed_in(member)
    assert "Second text" in client.get(f"/library/{document.pk}/").content.decode()

    confirm = client.get(f"/library/{document.pk}/v2/withdraw/")
    response = client.post(f"/library/{document.pk}/v2/withdraw/")

    assert confirm.status_code == 200
    assert "Withdraw version 2?" in confirm.content.decode()
    assert response.status_code == 302
    page = client.get(f"/library/{document.pk}/")
    # The owner still sees version 2 in the table, marked withdrawn.
    assert [version.number for version in page.context["versions"]] == [2, 1]
    assert page.context["latest"].number == 1
    assert "First text" in page.content.decode()
    assert "Second text" not in page.content.decode()
    earlier = client.get(f"/library/{document.pk}/v1/file")
    assert earlier.status_code == 200
    assert b"".join(earlier.streaming_content) == b"# First text\n"
    event = AuditEvent.objects.get(action="library.version_withdrawn")
    assert event.before["version"] == 2


def test_withdraw_only_version_rejected(member, media_root):
    document = add_document(member, name="guide.pdf", content=PDF_BYTES)

    response = signed_in(member).post(f"/library/{document.pk}/v1/withdraw/")

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Version 1 is the item's only version. Withdraw the whole item instead, "
        "or upload a new version first."
    ]
    assert document.versions.get().withdrawn_at is None


def test_new_version_after_withdrawn_gets_next_number(member, media_root):
    document = add_document(member, name="notes.md", content=b"one\n")
    upload_version(member, document, name="notes.md", content=b"two\n")
    signed_in(member).post(f"/library/{document.pk}/v2/withdraw/")

    response = upload_version(member, document, name="notes.md", content=b"three\n")

    assert response.status_code == 302
    assert sorted(document.versions.values_list("number", flat=True)) == [1, 2, 3]


# New versions, pages of each kind, messages and form markup.


def test_same_file_as_current_version_rejected(member, media_root):
    document = add_document(member, name="guide.pdf", content=PDF_BYTES)

    response = upload_version(member, document, name="copy.pdf", content=PDF_BYTES)

    assert response.status_code == 400
    [message] = response.context["form"].errors["file"]
    assert message.startswith("copy.pdf is the same file as version 1 (guide.pdf,")
    assert message.endswith("Choose the changed file and upload it again.")
    assert document.versions.count() == 1


@pytest.mark.parametrize("kind", [Kind.LINK, Kind.MARKDOWN])
def test_page_without_files_has_no_versions(member, kind):
    item = make_item(member, "Bank codes", kind=kind)

    response = signed_in(member).get(f"/library/{item.pk}/")
    page = response.content.decode()

    assert 'data-testid="library-versions"' not in page
    assert "download" not in page.lower()
    assert "Upload a new version" not in page


def test_javascript_link_one_message(member):
    response = signed_in(member).post(
        "/library/new/",
        {"kind": Kind.LINK, "title": "Trick", "url": "javascript:alert(1)"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["url"] == [
        "'javascript:alert(1)' is not a web address: only http and https links "
        "are allowed. Enter an address such as https://example.com/guide."
    ]
    assert Document.objects.count() == 0


def test_ftp_link_rejected(member):
    response = signed_in(member).post(
        "/library/new/",
        {"kind": Kind.LINK, "title": "Old", "url": "ftp://files.example.com/a"},
    )

    assert response.status_code == 400
    assert "only http and https" in response.context["form"].errors["url"][0]


def test_large_markdown_message_has_no_photo_hint(member, media_root, settings):
    settings.LIBRARY_MAX_DOCUMENT_BYTES = 10

    response = signed_in(member).post(
        "/library/new/",
        {
            "kind": Kind.DOCUMENT,
            "title": "Big notes",
            "file": SimpleUploadedFile("notes.md", b"# Notes\n" * 4),
        },
    )

    assert response.status_code == 413
    [message] = response.context["form"].errors["file"]
    assert "photo" not in message
    assert message.startswith("notes.md is 32 bytes; the limit is 10 bytes.")


def test_long_tag_message_says_what_to_do(member):
    item = make_item(member, "Returns guide")

    response = signed_in(member).post(f"/library/{item.pk}/tags/", {"tags": "a" * 81})

    assert response.status_code == 400
    [message] = response.context["tag_form"].errors["tags"]
    assert "has 81 characters; the limit is 80. Shorten the tag." in message


def test_item_form_check_boxes_in_labels(member):
    HelpContext.objects.get(key=KEY)  # the screens list is not empty

    page = signed_in(member).get("/library/new/").content.decode()

    assert (
        '<label class="choice" for="id_customer_visible"><input type="checkbox" '
        'name="customer_visible"' in page
    )
    assert "<legend>Written for</legend>" in page
    assert '<label class="choice" for="id_learner_groups_0"><input' in page


# The site search applies the same rules (``search.sources``).


def test_search_drops_withdrawn_item(transactional_db, member, media_root):
    # transactional_db: the search index is written after a real commit.
    document = add_document(member, name="zebrafinch.pdf", content=PDF_BYTES)
    assert found_ids(member, "zebrafinch") == [document.pk]

    signed_in(member).post(f"/library/{document.pk}/withdraw/")

    assert found_ids(member, "zebrafinch") == []


def test_search_drops_withdrawn_version_name(transactional_db, member, media_root):
    document = add_document(member, name="guide.pdf", content=PDF_BYTES)
    upload_version(member, document, name="okapiwalk.pdf", content=PDF_BYTES + b"2")
    assert found_ids(member, "okapiwalk") == [document.pk]

    signed_in(member).post(f"/library/{document.pk}/v2/withdraw/")

    assert found_ids(member, "okapiwalk") == []
    assert found_ids(member, "guide") == [document.pk]


def test_search_indexes_employee_tags_only(transactional_db, member, wandk, vinet):
    item = make_item(member, "Returns guide", customer_visible=True)
    leaked = Tag.objects.create(
        name="Wandernde Kuh owes 83.63", key="wandernde kuh owes 83.63", slug="owes"
    )
    DocumentTag.objects.create(document=item, tag=leaked, added_by=wandk)
    add_tags(document=item, person=member, names=["Returns"])

    def tagged(person, tag):
        results = search(person, "guide", filters=SearchFilters(tag=tag))
        return [hit.object_id for hit in results.hits]

    assert tagged(vinet, "Returns") == [item.pk]
    assert tagged(vinet, "Wandernde Kuh owes 83.63") == []
    assert tagged(member, "Wandernde Kuh owes 83.63") == []
