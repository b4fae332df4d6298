"""Images and files on posts: checked by content, stored safely, served to readers only."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.testing import signed_in
from library.tests.conftest import MP4_BYTES, PDF_BYTES, PNG_BYTES
from social.models import Post, PostAttachment
from social.services import delete_post, publish_post
from social.services.attachments import check_attachments

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def files(*items: tuple[str, bytes]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, content) for name, content in items]


def post_with_files(author, community, *items: tuple[str, bytes]) -> Post:
    return publish_post(
        author=author,
        community=community,
        body="See the attached.",
        attachments=check_attachments(files(*items)),
    )


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def stored(root) -> list[str]:
    return sorted(
        str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()
    )


class TestPosting:
    def test_the_form_stores_an_image_and_a_pdf(self, sales_rep, payments_community):
        answer = signed_in(sales_rep).post(
            f"/communities/{payments_community.slug}/posts/",
            {
                "body": "Remittance scan and the credit note #shortpayment",
                "attachments": files(
                    ("scan.png", PNG_BYTES), ("credit note.pdf", PDF_BYTES)
                ),
            },
        )
        assert answer.status_code == 302
        post = Post.objects.get()
        assert post.attachment_count == 2
        rows = list(
            post.attachments.values_list("position", "original_name", "content_type")
        )
        assert rows == [
            (1, "scan.png", "image/png"),
            (2, "credit note.pdf", "application/pdf"),
        ]

        page = signed_in(sales_rep).get(f"/communities/{payments_community.slug}/")
        html = page.content.decode()
        assert f'src="/posts/{post.pk}/attachments/1"' in html
        assert f'href="/posts/{post.pk}/attachments/2"' in html
        assert "credit note.pdf" in html

    def test_markup_is_rejected_and_nothing_is_written(
        self, sales_rep, payments_community, media_root
    ):
        answer = signed_in(sales_rep).post(
            f"/communities/{payments_community.slug}/posts/",
            {
                "body": "Look at this",
                "attachments": files(
                    ("ok.png", PNG_BYTES),
                    ("page.png", b"<html><script>alert(1)</script></html>"),
                ),
            },
        )
        assert answer.status_code == 400
        assert (
            "page.png contains HTML, SVG or XML markup, but a post carries an image "
            "(PNG, JPEG, GIF, WebP), a PDF, an Office file or plain text: add videos "
            "and packages to the library and link to them."
        ) in answer.content.decode()
        assert not Post.objects.exists()
        assert not PostAttachment.objects.exists()
        assert stored(media_root) == []

    def test_video_named_in_plain_words(
        self, sales_rep, payments_community, media_root
    ):
        answer = signed_in(sales_rep).post(
            f"/communities/{payments_community.slug}/posts/",
            {"body": "Demo", "attachments": files(("demo.mp4", MP4_BYTES))},
        )
        assert answer.status_code == 400
        assert (
            "demo.mp4 is an MP4 video, but a post carries an image (PNG, JPEG, "
            "GIF, WebP), a PDF, an Office file or plain text: add videos and "
            "packages to the library and link to them."
        ) in answer.content.decode()
        assert not Post.objects.exists()

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            (
                "lies.pdf",
                PNG_BYTES,
                "lies.pdf is named as a PDF (.pdf) but contains a PNG image: "
                "rename it to end in .png, or choose the file you meant.",
            ),
            (
                "scan.JPG",
                PDF_BYTES,
                "scan.JPG is named as a JPEG image (.jpg) but contains a PDF: "
                "rename it to end in .pdf, or choose the file you meant.",
            ),
        ],
    )
    def test_contradicting_extension_is_rejected(
        self, sales_rep, payments_community, media_root, name, content, message
    ):
        answer = signed_in(sales_rep).post(
            f"/communities/{payments_community.slug}/posts/",
            {"body": "Scan attached", "attachments": files((name, content))},
        )

        assert answer.status_code == 400
        assert message in answer.content.decode()
        assert not Post.objects.exists()
        assert stored(media_root) == []

    @pytest.mark.parametrize("name", ["scan", "scan.png", "scan.final", "scan.PNG"])
    def test_fitting_or_no_extension_passes(self, name):
        [checked] = check_attachments(files((name, PNG_BYTES)))

        assert checked.name == name
        assert checked.content_type == "image/png"

    def test_a_file_over_the_limit_is_named_with_the_limit(
        self, sales_rep, payments_community, settings
    ):
        settings.SOCIAL_MAX_ATTACHMENT_BYTES = 10
        answer = signed_in(sales_rep).post(
            f"/communities/{payments_community.slug}/posts/",
            {"body": "Big", "attachments": files(("scan.png", PNG_BYTES))},
        )
        assert answer.status_code == 413
        assert (
            f"scan.png is {len(PNG_BYTES)} bytes; the limit is 10 bytes."
            in answer.content.decode()
        )
        assert not Post.objects.exists()

    def test_too_many_files_are_refused(self, settings):
        settings.SOCIAL_MAX_ATTACHMENTS = 1
        with pytest.raises(Exception, match="at most 1 attachments, not 2"):
            check_attachments(files(("a.png", PNG_BYTES), ("b.png", PNG_BYTES)))

    def test_a_post_without_files_costs_no_extra_query(
        self, sales_rep, payments_community, django_assert_num_queries
    ):
        from social.selectors import attach_conversations

        posts = [
            publish_post(author=sales_rep, community=payments_community, body="plain")
        ]
        # The viewer's own marks in one UNION ALL; the counts are on the row.
        with django_assert_num_queries(1):
            attach_conversations(sales_rep, posts)


class TestServing:
    def test_an_image_opens_inline_and_a_pdf_downloads(
        self, sales_rep, payments_community
    ):
        post = post_with_files(
            sales_rep, payments_community, ("scan.png", PNG_BYTES), ("n.pdf", PDF_BYTES)
        )
        client = signed_in(sales_rep)
        image = client.get(f"/posts/{post.pk}/attachments/1")
        assert image.status_code == 200
        assert image["Content-Type"] == "image/png"
        assert image["Content-Disposition"].startswith("inline")
        assert image["X-Content-Type-Options"] == "nosniff"
        assert body_of(image) == PNG_BYTES
        pdf = client.get(f"/posts/{post.pk}/attachments/2")
        assert pdf["Content-Disposition"].startswith("attachment")
        assert body_of(pdf) == PDF_BYTES

    def test_outsiders_and_customers_get_404_in_a_private_community(
        self, facilitator, private_community, outsider, customer, member
    ):
        post = post_with_files(facilitator, private_community, ("price.png", PNG_BYTES))
        url = f"/posts/{post.pk}/attachments/1"
        assert signed_in(outsider).get(url).status_code == 404
        assert signed_in(customer).get(url).status_code == 404
        assert (
            signed_in(outsider).get(f"/posts/{post.pk + 1}/attachments/1").status_code
            == 404
        )
        allowed = signed_in(member).get(url)
        assert allowed.status_code == 200
        assert body_of(allowed) == PNG_BYTES
        assert Client().get(url).status_code == 302

    def test_a_community_made_private_hides_its_files_at_once(
        self, sales_rep, outsider, payments_community
    ):
        post = post_with_files(sales_rep, payments_community, ("scan.png", PNG_BYTES))
        url = f"/posts/{post.pk}/attachments/1"
        before = signed_in(outsider).get(url)
        assert before.status_code == 200
        assert body_of(before) == PNG_BYTES
        payments_community.visibility = "private"
        payments_community.save()
        assert signed_in(outsider).get(url).status_code == 404

    def test_an_unknown_position_is_404(self, sales_rep, payments_community):
        post = post_with_files(sales_rep, payments_community, ("scan.png", PNG_BYTES))
        assert (
            signed_in(sales_rep).get(f"/posts/{post.pk}/attachments/9").status_code
            == 404
        )


def test_deleting_the_post_removes_its_files(
    sales_rep, payments_community, media_root, django_capture_on_commit_callbacks
):
    post = post_with_files(sales_rep, payments_community, ("scan.png", PNG_BYTES))
    name = post.attachments.get().stored_name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        delete_post(actor=sales_rep, post=post)
    assert not PostAttachment.objects.exists()
    assert Post.objects.get(pk=post.pk).attachment_count == 0
    assert not default_storage.exists(name)
    assert (
        signed_in(sales_rep).get(f"/posts/{post.pk}/attachments/1").status_code == 404
    )
