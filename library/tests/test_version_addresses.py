"""Version file addresses name the version's number within its item.

Mia uploads a guide, then another item, then a second version of the guide,
so the guide's version 2 has a database id other than 2. Old addresses that named a version by its id redirect to the new
one, and a number the item does not have is 404.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from library.models import Document, DocumentFile, Kind
from library.tests.conftest import PDF_BYTES, signed_in
from library.tests.test_serving import get

pytestmark = pytest.mark.django_db

REVISED = PDF_BYTES + b"% revised\n"


def upload_item(client, title: str) -> Document:
    response = client.post(
        "/library/new/",
        {
            "kind": Kind.DOCUMENT,
            "title": title,
            "file": SimpleUploadedFile(f"{title}.pdf", PDF_BYTES),
        },
    )
    assert response.status_code == 302, response.content
    return Document.objects.get(title=title)


@pytest.fixture
def items(member, media_root) -> tuple[Document, Document]:
    client = signed_in(member)
    guide = upload_item(client, "guide")
    other = upload_item(client, "other")
    response = client.post(
        f"/library/{guide.pk}/versions/new/",
        {"file": SimpleUploadedFile("guide.pdf", REVISED)},
    )
    assert response.status_code == 302, response.content
    return guide, other


def test_item_page_links_version_numbers(items, member):
    guide, _ = items
    second = guide.versions.get(number=2)
    assert second.pk != 2

    html = signed_in(member).get(f"/library/{guide.pk}/").content.decode()

    links = re.findall(rf'href="(/library/{guide.pk}/[^"]*)"', html)
    assert f"/library/{guide.pk}/v2/file?download=1" in links
    assert f"/library/{guide.pk}/v1/file?download=1" in links
    assert not [link for link in links if "/versions/" in link and "file" in link]


def test_number_serves_that_version(items, member):
    guide, _ = items
    client = signed_in(member)

    assert get(client, f"/library/{guide.pk}/v2/file").body == REVISED
    assert get(client, f"/library/{guide.pk}/v1/file").body == PDF_BYTES


def test_number_outside_item_is_404(items, member):
    guide, other = items
    client = signed_in(member)

    missing = get(client, f"/library/{guide.pk}/v3/file")
    assert missing.status_code == 404
    assert get(client, f"/library/{other.pk}/v2/file").status_code == 404
    assert get(client, f"/library/{guide.pk}/v0/file").status_code == 404


def test_old_id_address_redirects(items, member):
    guide, _ = items
    second = guide.versions.get(number=2)

    response = signed_in(member).get(
        f"/library/{guide.pk}/versions/{second.pk}/file", {"download": "1"}
    )

    assert response.status_code == 301
    assert response["Location"] == f"/library/{guide.pk}/v2/file?download=1"


def test_old_id_of_another_item_is_404(items, member):
    guide, other = items
    foreign = DocumentFile.objects.get(document=other)

    response = signed_in(member).get(f"/library/{guide.pk}/versions/{foreign.pk}/file")

    assert response.status_code == 404


def test_old_id_address_hidden_from_customer(items, customer):
    guide, _ = items
    second = guide.versions.get(number=2)

    response = signed_in(customer).get(f"/library/{guide.pk}/versions/{second.pk}/file")

    assert response.status_code == 404
