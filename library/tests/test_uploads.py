"""Uploads: sniffed types, size limits, versions, packages and clean-up."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.models import AuditEvent
from library.models import Document, DocumentFile, Kind
from library.tests.conftest import (
    MP4_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    make_zip,
    mark_encrypted,
    signed_in,
    stored_files,
)

pytestmark = pytest.mark.django_db


def upload(
    client, *, kind, name, content, client_type="application/octet-stream", **extra
):
    data = {
        "kind": kind,
        "title": extra.pop("title", "Short payments explained"),
        "summary": "What to do when a customer pays less.",
        "file": SimpleUploadedFile(name, content, content_type=client_type),
        **extra,
    }
    return client.post("/library/new/", data)


def test_upload_pdf_stores_version(member, media_root):
    response = upload(
        signed_in(member), kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    document = Document.objects.get()
    version = document.versions.get()
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert response.status_code == 302
    assert response["Location"] == f"/library/{document.pk}/"
    assert document.owner == member
    assert document.kind == "document"
    assert version.number == 1
    assert version.size == len(PDF_BYTES)
    assert version.sha256 == digest
    assert version.content_type == "application/pdf"
    assert version.original_name == "guide.pdf"
    assert version.uploaded_by == member
    assert version.file.name == f"library/{document.pk}/v1/{digest}"
    assert stored_files(media_root) == [f"library/{document.pk}/v1/{digest}"]
    assert AuditEvent.objects.filter(
        action="library.item_created", object_id=str(document.pk)
    ).exists()


def test_upload_ignores_client_type_and_name(member, media_root):
    content = PNG_BYTES + b"<script>alert(1)</script>"

    upload(
        signed_in(member),
        kind=Kind.VIDEO,
        name="clip.mp4",
        content=content,
        client_type="video/mp4",
    )

    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_rejects_html_named_pdf(member, media_root):
    response = upload(
        signed_in(member),
        kind=Kind.DOCUMENT,
        name="report.pdf",
        content=b"<html><script>alert(1)</script></html>",
        client_type="application/pdf",
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "report.pdf contains HTML, SVG or XML markup, but a document must be a "
        "PDF, a docx, xlsx or pptx file, or Markdown or plain text."
    ]
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_rejects_svg_declared_as_text(member, media_root):
    response = upload(
        signed_in(member),
        kind=Kind.DOCUMENT,
        name="notes.htm",
        content=b"<svg onload=alert(1)></svg>",
        client_type="text/plain",
    )

    assert response.status_code == 400
    assert Document.objects.count() == 0


def test_upload_type_must_fit_kind(member, media_root):
    response = upload(
        signed_in(member), kind=Kind.VIDEO, name="guide.pdf", content=PDF_BYTES
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "guide.pdf is a PDF, but a video must be an MP4 video."
    ]


def test_upload_png_named_html_names_image(member, media_root):
    response = upload(
        signed_in(member), kind=Kind.DOCUMENT, name="slides.html", content=PNG_BYTES
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "slides.html is a PNG image, but a document must be a PDF, a docx, xlsx "
        "or pptx file, or Markdown or plain text."
    ]
    assert Document.objects.count() == 0


def test_upload_damaged_zip_as_video(member, media_root):
    response = upload(
        signed_in(member),
        kind=Kind.VIDEO,
        name="renamed.mp4",
        content=b"PK\x03\x04" + bytes(40),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "renamed.mp4 is a damaged or incomplete zip archive, but a video must be "
        "an MP4 video."
    ]
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_over_limit_answers_413(member, media_root, settings):
    settings.LIBRARY_MAX_DOCUMENT_BYTES = 40

    response = upload(
        signed_in(member), kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    assert response.status_code == 413
    assert response.context["form"].errors["file"] == [
        f"guide.pdf is {len(PDF_BYTES)} bytes; the limit is 40 bytes. Choose a "
        "smaller file (split a long document, or save a PDF with compressed "
        "images) and upload it again."
    ]
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_video_over_limit_answers_413(member, media_root, settings):
    # Stands in for a 3 GB MP4 against a 2 GB limit, scaled down to bytes.
    settings.LIBRARY_MAX_VIDEO_BYTES = 2000

    response = upload(
        signed_in(member), kind=Kind.VIDEO, name="clip.mp4", content=MP4_BYTES
    )

    assert len(MP4_BYTES) == 10264
    assert response.status_code == 413
    assert (
        "clip.mp4 is 10 KB; the limit is 2 KB."
        in (response.context["form"].errors["file"][0])
    )
    assert stored_files(media_root) == []


def test_request_over_limit_answers_413_unread(member, media_root, settings):
    settings.LIBRARY_MAX_REQUEST_BYTES = 100
    # With CSRF checks on, as in a browser: the check would read the body.
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    response = upload(client, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES)

    assert response.status_code == 413
    assert "the limit is 100\xa0bytes" in response.content.decode()
    assert response.wsgi_request._read_started is False
    assert Document.objects.count() == 0


def test_upload_video_with_poster(member, media_root):
    response = upload(
        signed_in(member),
        kind=Kind.VIDEO,
        name="seek.mp4",
        content=MP4_BYTES,
        poster=SimpleUploadedFile("poster.png", PNG_BYTES, content_type="image/png"),
    )

    document = Document.objects.get()
    poster_digest = hashlib.sha256(PNG_BYTES).hexdigest()
    assert response.status_code == 302
    assert document.poster == f"library/{document.pk}/poster/{poster_digest}"
    assert document.poster_type == "image/png"
    assert document.versions.get().content_type == "video/mp4"


def test_upload_poster_must_be_image(member, media_root):
    response = upload(
        signed_in(member),
        kind=Kind.VIDEO,
        name="seek.mp4",
        content=MP4_BYTES,
        poster=SimpleUploadedFile("poster.png", PDF_BYTES, content_type="image/png"),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["poster"] == [
        "poster.png is a PDF, but a poster must be a PNG, JPEG, GIF or WebP image."
    ]
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_markdown_renders_body(member, media_root):
    upload(
        signed_in(member),
        kind=Kind.DOCUMENT,
        name="steps.md",
        content=b"# Steps\n\n1. Match the payment\n",
    )

    document = Document.objects.get()
    assert document.versions.get().content_type == "text/plain"
    assert (
        document.body_html
        == "<h1>Steps</h1>\n<ol>\n<li>Match the payment</li>\n</ol>\n"
    )


def test_upload_link_needs_no_file(member, media_root):
    response = signed_in(member).post(
        "/library/new/",
        {"kind": Kind.LINK, "title": "Bank codes", "url": "https://example.com/codes"},
    )

    document = Document.objects.get()
    assert response.status_code == 302
    assert document.url == "https://example.com/codes"
    assert document.versions.count() == 0


def test_upload_package_extracts_under_ids(member, media_root, extraction_dir):
    content = make_zip({"index.html": b"<p>demo</p>", "media/step1.txt": b"one"})

    upload(
        signed_in(member),
        kind=Kind.PACKAGE,
        name="demo.zip",
        content=content,
        title="../../other-course",
    )

    document = Document.objects.get()
    version = document.versions.get()
    digest = hashlib.sha256(content).hexdigest()
    prefix = f"library/{document.pk}/v1"
    assert document.title == "../../other-course"
    assert version.extracted_prefix == f"{prefix}/package/"
    assert version.extracted_count == 2
    assert stored_files(media_root) == [
        f"{prefix}/{digest}",
        f"{prefix}/package/index.html",
        f"{prefix}/package/media/step1.txt",
    ]
    assert list(extraction_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("entries", "status"),
    [
        ({"index.html": b"ok", "../../settings.py": b"x"}, 400),
        ({"index.html": b"ok", "zeros.bin": bytes(6 * 1024 * 1024)}, 413),
        ({"index.html": b"ok", "inner.zip": make_zip({"a": b"a"})}, 413),
    ],
)
def test_upload_bad_package_leaves_nothing(
    member, media_root, extraction_dir, entries, status
):
    response = upload(
        signed_in(member), kind=Kind.PACKAGE, name="demo.zip", content=make_zip(entries)
    )

    assert response.status_code == status
    assert (
        response.context["form"].errors["file"][0].startswith("demo.zip was rejected: ")
    )
    assert Document.objects.count() == 0
    assert DocumentFile.objects.count() == 0
    assert stored_files(media_root) == []
    assert list(extraction_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            mark_encrypted(make_zip({"index.html": b"<p>demo</p>"})),
            "Entry 'index.html' is encrypted with a password. Zip the package "
            "again without a password.",
        ),
        (
            make_zip({"media": b"a file", "media/step1.html": b"<p>1</p>"}),
            "Entry 'media' is a file, but entry 'media/step1.html' uses the same "
            "name as a folder.",
        ),
        (
            make_zip({"index.html": b"<p>ok</p>", "x" * 300 + ".html": b"<p></p>"}),
            f"Entry {'x' * 200!r} has a name part of 305 bytes; the limit is 255. "
            "Shorten the file or folder name and zip the package again.",
        ),
    ],
    ids=["encrypted", "file-and-folder", "long-name"],
)
def test_upload_package_rejects_unwritable_entry_with_its_name(
    member, media_root, extraction_dir, content, message
):
    response = upload(
        signed_in(member), kind=Kind.PACKAGE, name="demo.zip", content=content
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        f"demo.zip was rejected: {message}"
    ]
    assert Document.objects.count() == 0
    assert DocumentFile.objects.count() == 0
    assert stored_files(media_root) == []
    assert list(extraction_dir.iterdir()) == []


def test_upload_package_entry_limit_from_settings(
    member, media_root, extraction_dir, settings
):
    settings.LIBRARY_PACKAGE_MAX_ENTRIES = 3
    content = make_zip({f"{number}.txt": b"x" for number in range(4)})

    response = upload(
        signed_in(member), kind=Kind.PACKAGE, name="demo.zip", content=content
    )

    assert response.status_code == 413
    assert response.context["form"].errors["file"] == [
        "demo.zip was rejected: The package has 4 entries; the limit is 3."
    ]


def test_new_version_keeps_history(member, media_root):
    client = signed_in(member)
    upload(client, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES)
    document = Document.objects.get()
    second = PDF_BYTES + b"% revised\n"

    response = client.post(
        f"/library/{document.pk}/versions/new/",
        {"file": SimpleUploadedFile("guide v2.pdf", second), "note": "New tolerance"},
    )

    assert response.status_code == 302
    versions = list(document.versions.values_list("number", "sha256", "note"))
    assert versions == [
        (2, hashlib.sha256(second).hexdigest(), "New tolerance"),
        (1, hashlib.sha256(PDF_BYTES).hexdigest(), ""),
    ]
    assert len(stored_files(media_root)) == 2
    assert AuditEvent.objects.filter(action="library.version_added").get().after == {
        "version": 2,
        "sha256": hashlib.sha256(second).hexdigest(),
    }


def test_new_version_rejected_keeps_old(member, media_root):
    client = signed_in(member)
    upload(client, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES)
    document = Document.objects.get()

    response = client.post(
        f"/library/{document.pk}/versions/new/",
        {"file": SimpleUploadedFile("guide.pdf", b"<html></html>")},
    )

    assert response.status_code == 400
    assert document.versions.count() == 1
    assert len(stored_files(media_root)) == 1


def test_new_version_permissions(member, outsider, moderator, customer, media_root):
    upload(signed_in(member), kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES)
    document = Document.objects.get()
    url = f"/library/{document.pk}/versions/new/"

    assert signed_in(outsider).get(url).status_code == 403
    assert signed_in(customer).get(url).status_code == 404
    assert signed_in(moderator).get(url).status_code == 200
    assert signed_in(member).get(url).status_code == 200


def test_customer_cannot_add_items(customer, media_root):
    response = upload(
        signed_in(customer), kind=Kind.DOCUMENT, name="a.pdf", content=PDF_BYTES
    )

    assert response.status_code == 403
    assert Document.objects.count() == 0


def test_upload_page_needs_sign_in(client):
    response = client.get("/library/new/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_failed_write_deletes_stored_files(
    member, media_root, extraction_dir, monkeypatch
):
    def fail(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("library.services.record_event", fail)
    content = make_zip({"index.html": b"<p>demo</p>"})

    with pytest.raises(RuntimeError, match="audit log unavailable"):
        upload(signed_in(member), kind=Kind.PACKAGE, name="demo.zip", content=content)

    assert Document.objects.count() == 0
    assert stored_files(media_root) == []
    assert list(extraction_dir.iterdir()) == []
