"""A community's files: the attachments of its posts, listed through the post rule.

Named people: ``facilitator`` (Fran, owner of the private pricing
community), ``member`` (Mia, a member of it), ``outsider`` (Otto, in no
community), ``sales_rep`` (Sally, who posts in the open payments community)
and ``customer`` (Carla).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from communities.models import Membership
from conftest import make_person
from core.testing import signed_in
from library.tests.conftest import PDF_BYTES, PNG_BYTES
from social.services import delete_post, publish_post
from social.services.attachments import check_attachments

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def member(private_community):
    person = make_person("mia", Role.SALES_REP, group="sales")
    Membership.objects.create(community=private_community, person=person)
    return person


def post_files(author, community, *names: str):
    uploads = [
        SimpleUploadedFile(name, PNG_BYTES if name.endswith(".png") else PDF_BYTES)
        for name in names
    ]
    return publish_post(
        author=author,
        community=community,
        # Distinct bodies: the same post again within
        # SOCIAL_DUPLICATE_POST_SECONDS would return the earlier one.
        body=f"See the attached {', '.join(names)}.",
        attachments=check_attachments(uploads),
    )


def listed(response) -> list[str]:
    page = response.content.decode()
    return [
        row.split("</a>")[0].rsplit(">", 1)[1]
        for row in page.split('data-testid="community-file"')[1:]
    ]


def test_member_sees_files_newest_first(facilitator, member, private_community):
    post_files(facilitator, private_community, "price list.pdf")
    post_files(facilitator, private_community, "scan.png", "terms.pdf")

    response = signed_in(member).get(f"/communities/{private_community.slug}/files/")

    assert response.status_code == 200
    assert listed(response) == ["terms.pdf", "scan.png", "price list.pdf"]


def test_outsider_gets_not_found(facilitator, outsider, private_community):
    post_files(facilitator, private_community, "price list.pdf")

    response = signed_in(outsider).get(f"/communities/{private_community.slug}/files/")

    assert response.status_code == 404


def test_customer_gets_not_found_on_internal_community(
    sales_rep, customer, payments_community
):
    post_files(sales_rep, payments_community, "remittance.pdf")

    response = signed_in(customer).get(f"/communities/{payments_community.slug}/files/")

    assert response.status_code == 404


def test_customer_sees_customer_community_files(
    sales_rep, customer, customer_community
):
    Membership.objects.create(community=customer_community, person=sales_rep)
    post_files(sales_rep, customer_community, "delivery note.pdf")

    response = signed_in(customer).get(f"/communities/{customer_community.slug}/files/")

    assert listed(response) == ["delivery note.pdf"]


def test_deleted_post_files_are_gone(facilitator, member, private_community):
    kept = post_files(facilitator, private_community, "kept.pdf")
    removed = post_files(facilitator, private_community, "removed.pdf")
    delete_post(actor=facilitator, post=removed)

    response = signed_in(member).get(f"/communities/{private_community.slug}/files/")

    assert listed(response) == ["kept.pdf"]
    assert kept.attachments.count() == 1


def test_other_community_files_stay_out(
    facilitator, sales_rep, member, private_community, payments_community
):
    Membership.objects.create(community=payments_community, person=sales_rep)
    post_files(sales_rep, payments_community, "elsewhere.pdf")
    post_files(facilitator, private_community, "here.pdf")

    response = signed_in(member).get(f"/communities/{private_community.slug}/files/")

    assert listed(response) == ["here.pdf"]


def test_community_page_lists_newest_five(facilitator, member, private_community):
    for number in range(7):
        post_files(facilitator, private_community, f"sheet {number}.pdf")

    page = signed_in(member).get(f"/communities/{private_community.slug}/").content
    section = page.decode().split('data-testid="files"')[1].split("</ul>")[0]

    assert section.count("<li>") == 5
    assert "sheet 6.pdf" in section
    assert "sheet 1.pdf" not in section
    assert f'href="/communities/{private_community.slug}/files/">All files' in (
        page.decode()
    )


def test_empty_list_says_how_files_arrive(member, private_community):
    response = signed_in(member).get(f"/communities/{private_community.slug}/files/")

    assert "No files yet. Attach images or files to a post" in response.content.decode()


def test_list_queries_are_constant(
    facilitator, member, private_community, django_assert_num_queries
):
    post_files(facilitator, private_community, "one.pdf")
    client = signed_in(member)
    url = f"/communities/{private_community.slug}/files/"
    client.get(url)

    with django_assert_num_queries(6):
        client.get(url)
    for number in range(6):
        post_files(facilitator, private_community, f"more {number}.pdf")
    with django_assert_num_queries(6):
        client.get(url)
