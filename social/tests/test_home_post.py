"""The short post box on the home feed: the community choice and its checks."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing import signed_in
from library.tests.conftest import PNG_BYTES
from social.models import Post

pytestmark = pytest.mark.django_db


def community_options(page: str) -> dict[str, str]:
    """Return the post box's community options, value to label."""
    select = re.search(r'<select name="community".*?</select>', page, re.S)
    assert select, "no community select on the page"
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[0]))


def selected_community(page: str) -> str | None:
    select = re.search(r'<select name="community".*?</select>', page, re.S)
    assert select
    match = re.search(r'<option value="([^"]*)"[^>]*selected', select[0])
    return match[1] if match else None


def test_employee_box_preselects_nothing(
    sales_rep, payments_community, customer_community, private_community
):
    page = signed_in(sales_rep).get("/").content.decode()

    assert 'data-testid="home-post-form"' in page
    assert community_options(page) == {
        "": "Choose a community",
        "customer-corner": "Customer corner (customers can read it)",
        "payments": "Payments",
    }
    assert selected_community(page) == ""


def test_member_may_post_in_private(facilitator, private_community):
    page = signed_in(facilitator).get("/").content.decode()

    assert "pricing-internal" in community_options(page)


def test_post_lands_in_chosen_community(sales_rep, payments_community):
    response = signed_in(sales_rep).post(
        "/posts/short/", {"community": "payments", "body": "Chase the remittance #cash"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    post = Post.objects.get()
    assert post.community == payments_community
    assert post.author == sales_rep
    assert post.kind == Post.Kind.MICRO


def test_post_carries_attachment(sales_rep, payments_community, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)

    response = signed_in(sales_rep).post(
        "/posts/short/",
        {
            "community": "payments",
            "body": "The scan",
            "attachments": [SimpleUploadedFile("scan.png", PNG_BYTES)],
        },
    )

    assert response.status_code == 302
    assert Post.objects.get().attachment_count == 1


def test_missing_community_is_named(sales_rep, payments_community):
    response = signed_in(sales_rep).post("/posts/short/", {"body": "Hello"})

    assert response.status_code == 422
    assert "Choose the community to post in." in response.content.decode()
    assert not Post.objects.exists()


@pytest.mark.parametrize("slug", ["pricing-internal", "nowhere"])
def test_unpostable_community_is_rejected(sales_rep, private_community, slug):
    response = signed_in(sales_rep).post(
        "/posts/short/", {"community": slug, "body": "Sneaking in"}
    )

    assert response.status_code == 422
    assert f"{slug} is not a community you can post in" in response.content.decode()
    assert not Post.objects.exists()


def test_customer_cannot_post_internally(customer, payments_community):
    response = signed_in(customer).post(
        "/posts/short/", {"community": "payments", "body": "Hello staff"}
    )

    assert response.status_code == 422
    assert not Post.objects.exists()


def test_empty_body_keeps_choice(sales_rep, payments_community):
    response = signed_in(sales_rep).post(
        "/posts/short/", {"community": "payments", "body": "   "}
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert selected_community(page) == "payments"
    assert not Post.objects.exists()
