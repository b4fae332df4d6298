"""Restoring withdrawn items and versions, and who sees them while withdrawn.

Every check goes through the views, as a browser would send the requests.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role, SuperUserAssignment
from conftest import make_person
from core.models import AuditEvent
from library.models import Document, Kind
from library.tests.conftest import signed_in
from search.selectors import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return make_person("oona", Role.SALES_REP, group="sales")


@pytest.fixture
def function_super_user(payments):
    person = make_person("sam", Role.SALES_REP, group="sales")
    SuperUserAssignment.objects.create(person=person, crm_function=payments)
    return person


@pytest.fixture
def document(owner, payments, media_root) -> Document:
    response = signed_in(owner).post(
        "/library/new/",
        {
            "kind": Kind.DOCUMENT,
            "title": "Guide to quokkabay credits",
            "file": SimpleUploadedFile("quokkabay.md", b"# First text\n"),
            "customer_visible": "on",
            "crm_function": payments.pk,
        },
    )
    assert response.status_code == 302, response.content
    return Document.objects.latest("pk")


def upload_version(person, document, *, name, content):
    response = signed_in(person).post(
        f"/library/{document.pk}/versions/new/",
        {"file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content


def withdraw(person, document, path=""):
    response = signed_in(person).post(f"/library/{document.pk}/{path}withdraw/")
    assert response.status_code == 302, response.content


def file_status(person, url) -> int:
    """Fetch a file route, reading the streamed file to its end; return the status."""
    response = signed_in(person).get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def found_ids(person, text) -> list[int]:
    results = search(person, text, page_size=100)
    return [hit.object_id for hit in results.hits if hit.kind == "library"]


# Who may open and restore a withdrawn item.

EDITORS = ["owner", "facilitator", "moderator", "function_super_user"]
OTHERS = ["outsider", "member", "customer"]


@pytest.mark.parametrize("who", EDITORS)
def test_editor_sees_withdrawn_item(request, who, owner, document):
    withdraw(owner, document)
    client = signed_in(request.getfixturevalue(who))

    page = client.get(f"/library/{document.pk}/")
    listing = client.get("/library/?withdrawn=1")
    person = request.getfixturevalue(who)

    assert page.status_code == 200
    assert 'data-testid="library-item-withdrawn"' in page.content.decode()
    assert f"/library/{document.pk}/restore/" in page.content.decode()
    assert [item.pk for item in listing.context["page"]] == [document.pk]
    assert file_status(person, f"/library/{document.pk}/v1/file") == 200


@pytest.mark.parametrize("who", OTHERS)
def test_others_get_404_for_withdrawn_item(request, who, owner, document):
    withdraw(owner, document)
    client = signed_in(request.getfixturevalue(who))

    page = client.get(f"/library/{document.pk}/")
    listing = client.get("/library/?withdrawn=1")
    file = file_status(request.getfixturevalue(who), f"/library/{document.pk}/v1/file")
    restore = client.post(f"/library/{document.pk}/restore/")

    assert page.status_code == 404
    assert list(listing.context["page"]) == []
    assert file == 404
    assert restore.status_code == 404
    assert Document.objects.get(pk=document.pk).withdrawn_at is not None


@pytest.mark.parametrize("who", ["owner", "facilitator"])
def test_restore_item_brings_it_back(request, who, owner, outsider, document):
    withdraw(owner, document)
    person = request.getfixturevalue(who)

    response = signed_in(person).post(f"/library/{document.pk}/restore/")

    assert response.status_code == 302
    assert Document.objects.get(pk=document.pk).withdrawn_at is None
    reader = signed_in(outsider)
    assert reader.get(f"/library/{document.pk}/").status_code == 200
    assert [item.pk for item in reader.get("/library/").context["page"]] == [
        document.pk
    ]
    event = AuditEvent.objects.get(action="library.item_restored")
    assert event.actor == person
    assert event.before["withdrawn_by"] == owner.pk
    assert event.after["title"] == "Guide to quokkabay credits"


def test_restore_of_visible_item_records_nothing(owner, document):
    response = signed_in(owner).post(f"/library/{document.pk}/restore/")

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="library.item_restored").exists()


def test_restore_item_needs_post(owner, document):
    withdraw(owner, document)

    response = signed_in(owner).get(f"/library/{document.pk}/restore/")

    assert response.status_code == 405
    assert Document.objects.get(pk=document.pk).withdrawn_at is not None


def test_member_cannot_restore_visible_item(member, document):
    response = signed_in(member).post(f"/library/{document.pk}/restore/")

    assert response.status_code == 403


# Withdrawn versions: shown to editors, marked, never served to others.


def test_editor_sees_withdrawn_version_marked(owner, outsider, customer, document):
    upload_version(owner, document, name="quokkabay.md", content=b"# Second text\n")
    withdraw(owner, document, "v2/")

    page = signed_in(owner).get(f"/library/{document.pk}/")
    others_page = signed_in(outsider).get(f"/library/{document.pk}/")

    assert [v.number for v in page.context["versions"]] == [2, 1]
    assert 'data-withdrawn="true"' in page.content.decode()
    assert f"/library/{document.pk}/v2/restore/" in page.content.decode()
    assert file_status(owner, f"/library/{document.pk}/v2/file") == 200
    assert [v.number for v in others_page.context["versions"]] == [1]
    assert 'data-withdrawn="true"' not in others_page.content.decode()
    for person in (outsider, customer):
        assert file_status(person, f"/library/{document.pk}/v2/file") == 404


def test_restore_version_makes_it_current(owner, outsider, customer, document):
    upload_version(owner, document, name="quokkabay.md", content=b"# Second text\n")
    withdraw(owner, document, "v2/")

    refused = [
        signed_in(person).post(f"/library/{document.pk}/v2/restore/")
        for person in (outsider, customer)
    ]
    response = signed_in(owner).post(f"/library/{document.pk}/v2/restore/")

    assert [r.status_code for r in refused] == [403, 403]
    assert response.status_code == 302
    page = signed_in(outsider).get(f"/library/{document.pk}/")
    assert page.context["latest"].number == 2
    assert "Second text" in page.content.decode()
    event = AuditEvent.objects.get(action="library.version_restored")
    assert event.before["version"] == 2
    assert event.actor == owner


def test_restore_current_version_rejected(owner, document):
    response = signed_in(owner).post(f"/library/{document.pk}/v1/restore/")

    assert response.status_code == 400
    assert response.content.decode() == (
        "Version 1 is not withdrawn, so there is nothing to restore."
    )


# The search index follows: a restored item is found again.


def test_search_finds_restored_item(transactional_db, owner, outsider, document):
    # transactional_db: the search index is written after a real commit.
    assert found_ids(outsider, "quokkabay") == [document.pk]

    withdraw(owner, document)
    withdrawn = found_ids(outsider, "quokkabay")
    signed_in(owner).post(f"/library/{document.pk}/restore/")

    assert withdrawn == []
    assert found_ids(outsider, "quokkabay") == [document.pk]
    assert found_ids(owner, "quokkabay") == [document.pk]
