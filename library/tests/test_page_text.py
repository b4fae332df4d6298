"""The text of a Markdown page has a size limit with a message naming both sizes."""

import pytest

from library.models import Document, Kind
from library.services import MAX_PAGE_TEXT_LENGTH
from library.tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def post_page(client, body):
    return client.post(
        "/library/new/",
        {"kind": Kind.MARKDOWN, "title": "Huge page", "summary": "", "body": body},
    )


def test_page_text_over_limit_is_rejected(member):
    body = "word " * 60_000

    response = post_page(signed_in(member), body)

    assert response.status_code == 400
    message = response.content.decode()
    assert "The page text has 299,999 characters" in message
    assert f"the limit is {MAX_PAGE_TEXT_LENGTH:,}" in message
    assert not Document.objects.exists()


def test_page_text_at_limit_is_kept(member):
    body = "a" * MAX_PAGE_TEXT_LENGTH

    response = post_page(signed_in(member), body)

    assert response.status_code == 302
    assert Document.objects.get().body == body
