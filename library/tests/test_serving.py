"""File routes: visibility first, safe disposition, nosniff and byte ranges."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from library.files import content_disposition, download_filename, parse_range
from library.models import Document, Kind
from library.tests.conftest import MP4_BYTES, PDF_BYTES, PNG_BYTES, signed_in

pytestmark = pytest.mark.django_db


def add_item(person, *, kind, name, content, customer_visible=False, **extra):
    client = signed_in(person)
    data = {
        "kind": kind,
        "title": name,
        "file": SimpleUploadedFile(name, content),
        "customer_visible": "on" if customer_visible else "",
        **extra,
    }
    response = client.post("/library/new/", data)
    assert response.status_code == 302, response.content
    document = Document.objects.latest("pk")
    return document, document.versions.get()


def get(client, url, **headers):
    """Fetch ``url`` and read a streamed body, which also closes the file."""
    response = client.get(url, **headers)
    response.body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    return response


def body(response):
    return response.body


def file_url(document, version) -> str:
    return f"/library/{document.pk}/v{version.number}/file"


def test_pdf_served_inline_with_nosniff(member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    response = get(signed_in(member), file_url(document, version))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "inline; filename=\"guide.pdf\"; filename*=UTF-8''guide.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(PDF_BYTES))
    assert response["ETag"] == f'"{hashlib.sha256(PDF_BYTES).hexdigest()}"'
    assert body(response) == PDF_BYTES


def test_png_named_html_served_as_png(member, media_root):
    content = PNG_BYTES + b"<script>alert(1)</script>"
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="x.pdf", content=PDF_BYTES
    )
    # A PNG can only arrive as a poster, so store one under an HTML name.
    version.content_type = "image/png"
    version.original_name = "slides.html"
    version.save()

    response = get(signed_in(member), file_url(document, version))

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        "inline; filename=\"slides.html.png\"; filename*=UTF-8''slides.html.png"
    )
    assert content.startswith(PNG_BYTES)


def test_text_served_as_attachment(member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="notes.htm", content=b"plain notes\n"
    )

    response = get(signed_in(member), file_url(document, version))

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"notes.htm.md\"; filename*=UTF-8''notes.htm.md"
    )
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "stored_type", ["image/svg+xml", "text/html", "application/zip"]
)
def test_non_inline_types_are_attachments(member, media_root, stored_type):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="a.pdf", content=PDF_BYTES
    )
    version.content_type = stored_type
    version.save()

    response = get(signed_in(member), file_url(document, version))

    assert response["Content-Disposition"].startswith("attachment; ")
    assert response["Content-Type"] == stored_type
    assert response["X-Content-Type-Options"] == "nosniff"


def test_download_parameter_forces_attachment(member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    response = get(signed_in(member), file_url(document, version) + "?download=1")

    assert response["Content-Disposition"].startswith("attachment; ")


@pytest.mark.parametrize(
    ("name", "header"),
    [
        (
            "Überweisung März.pdf",
            'attachment; filename="Uberweisung Marz.pdf"; '
            "filename*=UTF-8''%C3%9Cberweisung%20M%C3%A4rz.pdf",
        ),
        (
            'a"b\r\nSet-Cookie: x=1.pdf',
            'attachment; filename="a_b Set-Cookie_ x_1.pdf"; '
            "filename*=UTF-8''a%22b%20Set-Cookie%3A%20x%3D1.pdf",
        ),
        (
            "請求書.pdf",
            'attachment; filename=".pdf"; '
            "filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf",
        ),
        (
            "..\\..\\boot.ini",
            "attachment; filename=\"boot.ini\"; filename*=UTF-8''boot.ini",
        ),
    ],
)
def test_content_disposition_safe(name, header):
    assert content_disposition(download_filename(name, ""), inline=False) == header


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=990-5000", (990, 999)),
        ("bytes = 5-9", (5, 9)),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-9,20-29", None),
        ("bytes=9-5", None),
        ("items=0-9", None),
        ("bytes=abc", None),
        ("bytes=-", None),
        ("bytes=0-" + "9" * 5000, (0, 999)),
        ("bytes=-" + "9" * 5000, (0, 999)),
        ("bytes=" + "0" * 5000 + "7-" + "0" * 5000 + "9", (7, 9)),
        ("bytes=" + "9" * 5000 + "-5", None),
        ("bytes=\u0661-\u0662", None),
        ("bytes=\uff11-\uff12", None),
    ],
)
def test_parse_range(header, expected):
    byte_range = parse_range(header, 1000)

    if expected is None:
        assert byte_range is None
    else:
        assert (byte_range.start, byte_range.end) == expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",
        "bytes=5000-6000",
        "bytes=-0",
        "bytes=" + "9" * 5000 + "-",
        "bytes=" + "9" * 5000 + "-" + "9" * 5001,
        "bytes=-" + "0" * 5000,
    ],
)
def test_parse_range_unsatisfiable(header):
    from library.files import UnsatisfiableRangeError

    with pytest.raises(UnsatisfiableRangeError):
        parse_range(header, 1000)


def test_mp4_range_request_206(member, media_root):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )
    client = signed_in(member)

    response = get(client, file_url(document, version), HTTP_RANGE="bytes=100-199")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(MP4_BYTES)}"
    assert response["Content-Length"] == "100"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"].startswith("inline; ")
    assert body(response) == MP4_BYTES[100:200]


def test_mp4_suffix_range(member, media_root):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )

    response = get(
        signed_in(member), file_url(document, version), HTTP_RANGE="bytes=-24"
    )

    assert response.status_code == 206
    assert response["Content-Range"] == "bytes 10240-10263/10264"
    assert body(response) == MP4_BYTES[-24:]


def test_mp4_unsatisfiable_range_416(member, media_root):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )

    response = get(
        signed_in(member), file_url(document, version), HTTP_RANGE="bytes=20000-"
    )

    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10264"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_mp4_range_of_5000_digits(member, media_root):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )
    client = signed_in(member)
    url = file_url(document, version)

    to_end = get(client, url, HTTP_RANGE="bytes=10-" + "9" * 5000)
    suffix = get(client, url, HTTP_RANGE="bytes=-" + "9" * 5000)
    past_end = get(client, url, HTTP_RANGE="bytes=" + "9" * 5000 + "-")

    assert to_end.status_code == 206
    assert to_end["Content-Range"] == f"bytes 10-10263/{len(MP4_BYTES)}"
    assert body(to_end) == MP4_BYTES[10:]
    assert suffix.status_code == 206
    assert body(suffix) == MP4_BYTES
    assert past_end.status_code == 416
    assert past_end["Content-Range"] == f"bytes */{len(MP4_BYTES)}"


@pytest.mark.parametrize(
    "header", ["bytes=0-9,50-59", "bytes=x-y", "pages=1-2", "bytes=\u0661-\u0669"]
)
def test_mp4_odd_ranges_send_whole_file(member, media_root, header):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )

    response = get(signed_in(member), file_url(document, version), HTTP_RANGE=header)

    assert response.status_code == 200
    assert body(response) == MP4_BYTES


def test_if_range_mismatch_sends_whole_file(member, media_root):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )
    url = file_url(document, version)
    client = signed_in(member)

    stale = get(client, url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    fresh = get(
        client, url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{version.sha256}"'
    )

    assert stale.status_code == 200
    assert fresh.status_code == 206


def counts(document) -> tuple[int, int]:
    document.refresh_from_db()
    return document.view_count, document.download_count


def test_video_page_counts_view_not_download(member, media_root):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )
    client = signed_in(member)
    url = file_url(document, version)

    page = client.get(f"/library/{document.pk}/")
    # What Chromium's player sends: the start, then a seek.
    first = get(client, url, HTTP_RANGE="bytes=0-")
    seek = get(client, url, HTTP_RANGE="bytes=5000-")
    whole = get(client, url)

    assert page.status_code == 200
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 0-{len(MP4_BYTES) - 1}/{len(MP4_BYTES)}"
    assert seek.status_code == 206
    assert whole.status_code == 200
    assert counts(document) == (1, 0)


def test_download_link_counts_once(member, media_root):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )
    client = signed_in(member)
    url = file_url(document, version) + "?download=1"

    full = get(client, url)
    resumed = get(client, url, HTTP_RANGE="bytes=5000-")

    assert full["Content-Disposition"].startswith("attachment;")
    assert resumed.status_code == 206
    assert counts(document) == (0, 1)


def test_download_link_from_byte_zero_counts(member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    response = get(
        signed_in(member),
        file_url(document, version) + "?download=1",
        HTTP_RANGE="bytes=0-",
    )

    assert response.status_code == 206
    assert counts(document) == (0, 1)


def test_inline_pdf_is_not_a_download(member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    response = get(signed_in(member), file_url(document, version))

    assert response["Content-Disposition"].startswith("inline;")
    assert counts(document) == (0, 0)


def test_attachment_type_counts_without_parameter(member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="notes.md", content=b"# Notes\n\nText.\n"
    )

    response = get(signed_in(member), file_url(document, version))

    assert response["Content-Disposition"].startswith("attachment;")
    assert counts(document) == (0, 1)


def test_poster_served_inline(member, media_root):
    document, _ = add_item(
        member,
        kind=Kind.VIDEO,
        name="seek.mp4",
        content=MP4_BYTES,
        poster=SimpleUploadedFile("still.png", PNG_BYTES),
    )

    response = get(signed_in(member), f"/library/{document.pk}/poster")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith('inline; filename="poster.png"')
    assert body(response) == PNG_BYTES


def test_item_page_uses_uploaded_poster(member, media_root):
    document, _ = add_item(
        member,
        kind=Kind.VIDEO,
        name="seek.mp4",
        content=MP4_BYTES,
        poster=SimpleUploadedFile("still.png", PNG_BYTES),
    )

    page = signed_in(member).get(f"/library/{document.pk}/").content.decode()

    assert f'poster="/library/{document.pk}/poster"' in page
    assert "video-placeholder.svg" not in page


def test_item_page_placeholder_without_poster(member, media_root):
    document, _ = add_item(member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES)

    page = signed_in(member).get(f"/library/{document.pk}/").content.decode()

    assert 'poster="/static/library/video-placeholder.svg"' in page
    assert get(signed_in(member), f"/library/{document.pk}/poster").status_code == 404


def test_head_sends_file_headers_without_body(member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    response = signed_in(member).head(file_url(document, version))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(PDF_BYTES))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{hashlib.sha256(PDF_BYTES).hexdigest()}"'
    assert response.content == b""


def test_head_of_a_range_sends_partial_headers(member, media_root):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )

    response = signed_in(member).head(
        file_url(document, version), HTTP_RANGE="bytes=5000-"
    )

    assert response.status_code == 206
    assert response["Content-Length"] == str(len(MP4_BYTES) - 5000)
    assert response["Content-Range"] == (
        f"bytes 5000-{len(MP4_BYTES) - 1}/{len(MP4_BYTES)}"
    )


@pytest.mark.parametrize("query", ["?download=1", ""])
def test_head_of_a_download_is_not_counted(member, media_root, query):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="notes.md", content=b"# Notes\n\nText.\n"
    )

    response = signed_in(member).head(file_url(document, version) + query)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert counts(document) == (0, 0)


def test_head_of_poster_sends_headers(member, media_root):
    document, _ = add_item(
        member,
        kind=Kind.VIDEO,
        name="seek.mp4",
        content=MP4_BYTES,
        poster=SimpleUploadedFile("still.png", PNG_BYTES),
    )

    response = signed_in(member).head(f"/library/{document.pk}/poster")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(PNG_BYTES))
    assert counts(document) == (0, 0)


def test_files_hidden_from_customer(member, customer, media_root):
    internal, internal_version = add_item(
        member,
        kind=Kind.VIDEO,
        name="internal.mp4",
        content=MP4_BYTES,
        poster=SimpleUploadedFile("still.png", PNG_BYTES),
    )
    shared, shared_version = add_item(
        member,
        kind=Kind.DOCUMENT,
        name="shared.pdf",
        content=PDF_BYTES,
        customer_visible=True,
    )
    client = signed_in(customer)

    assert get(client, file_url(internal, internal_version)).status_code == 404
    assert get(client, f"/library/{internal.pk}/poster").status_code == 404
    assert get(client, f"/library/{internal.pk}/").status_code == 404
    # The internal version's old address under the shared item's id is no
    # way in, and neither is a version number the shared item lacks.
    assert (
        get(
            client, f"/library/{shared.pk}/versions/{internal_version.pk}/file"
        ).status_code
        == 404
    )
    assert get(client, f"/library/{shared.pk}/v2/file").status_code == 404
    assert get(client, f"/library/{shared.pk + 9}/").status_code == 404
    assert get(client, file_url(shared, shared_version)).status_code == 200


def test_files_open_to_employees(member, outsider, moderator, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    for person in (outsider, moderator, member):
        response = get(signed_in(person), file_url(document, version))
        assert response.status_code == 200, person.username


def test_files_need_sign_in(client, member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )

    response = get(client, file_url(document, version))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_missing_stored_file_is_404(member, media_root):
    document, version = add_item(
        member, kind=Kind.DOCUMENT, name="guide.pdf", content=PDF_BYTES
    )
    (media_root / version.file.name).unlink()

    response = get(signed_in(member), file_url(document, version))

    assert response.status_code == 404
