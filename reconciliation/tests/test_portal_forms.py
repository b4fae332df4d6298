"""Portal pages a customer reads and fills in: carla, customer of the order.

Covers the problem form after a rejected report, the messages for rejected
evidence files, the order lines with their discounts, the delivery date
after a receipt and the heading of the home page's list of cases.
"""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.testing import signed_in
from library.uploads import UploadError, check_poster, readable_size
from portal import services
from portal.models import ProblemReport
from reconciliation.models import ShipmentLine
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
HTML_BYTES = b"<!doctype html><html><script>alert(1)</script></html>"


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def order(customer_party, sales_rep):
    # The first line carries a 15 % discount, as SO-10348 does in the demo.
    order = create_order(
        lines=[("15", "14.40", "unit", "15"), ("25", "7.20")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(
        order=order, number="SH-FORM-1", shipped_at=datetime.date(1996, 11, 15)
    )
    return order


def problem_url(order) -> str:
    return f"/reconciliation/portal/orders/{order.number}/problem/"


def selected_option(html: str, name: str) -> str:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    chosen = re.findall(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen[0] if chosen else ""


def test_problem_form_keeps_values_after_error(customer, order, media_root):
    line = ShipmentLine.objects.filter(shipment__order=order).order_by("pk")[1]

    response = signed_in(customer).post(
        problem_url(order),
        {
            "kind": "damaged",
            "line": str(line.pk),
            "quantity": "2",
            "message": "Two crates crushed <b>badly</b>",
            "evidence": SimpleUploadedFile("evil.png", HTML_BYTES),
        },
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert selected_option(html, "kind") == "damaged"
    assert selected_option(html, "line") == str(line.pk)
    assert 'name="quantity" inputmode="decimal" size="8" value="2"' in html
    assert ">Two crates crushed &lt;b&gt;badly&lt;/b&gt;</textarea>" in html
    assert (
        "Your report was not sent, so the file you attached was not kept. "
        "Choose it again before you send the report."
    ) in html
    assert not ProblemReport.objects.exists()


def test_problem_form_keeps_invoice_kind(customer, order, media_root):
    response = signed_in(customer).post(
        problem_url(order),
        {"kind": "wrong_price", "invoice": "", "message": "Quoted 12.00"},
    )

    html = response.content.decode()
    assert selected_option(html, "kind") == "wrong_price"
    assert ">Quoted 12.00</textarea>" in html
    assert 'data-testid="files-dropped"' not in html


def field_error(html: str, field: str) -> str:
    """Return the message shown beside ``field``, checking the control names it."""
    found = re.search(
        rf'<p class="field-error" id="problem-{field}-error"[^>]*>(.*?)</p>', html
    )
    assert found is not None, field
    assert f'aria-describedby="problem-{field}-error"' in html
    return found.group(1)


def test_errors_shown_beside_fields(customer, order, media_root):
    """Each rejected field carries its message beside it, as well as at the top."""
    line = ShipmentLine.objects.filter(shipment__order=order).order_by("pk")[0]
    client = signed_in(customer)
    cases = [
        ({"kind": "missing", "message": "Box gone"}, "line"),
        ({"kind": "missing", "line": str(line.pk), "message": "Box gone"}, "quantity"),
        (
            {
                "kind": "missing",
                "line": str(line.pk),
                "quantity": "1.5",
                "message": "x",
            },
            "quantity",
        ),
        ({"kind": "wrong_price", "message": "Quoted 12.00"}, "invoice"),
        ({"kind": "missing", "line": str(line.pk), "quantity": "1"}, "message"),
        ({"kind": "lost", "message": "Box gone"}, "kind"),
        (
            {
                "kind": "damaged",
                "line": str(line.pk),
                "quantity": "1",
                "message": "Crushed",
                "evidence": SimpleUploadedFile("evil.png", HTML_BYTES),
            },
            "evidence",
        ),
    ]
    for posted, field in cases:
        html = client.post(problem_url(order), posted).content.decode()
        message = field_error(html, field)
        # The same message heads the form, and no other field is marked.
        assert html.count(message) == 2, (field, message)
        assert html.count('class="field-error"') == 1, field
    assert not ProblemReport.objects.exists()


def test_field_errors_name_the_value(customer, order):
    line = ShipmentLine.objects.filter(shipment__order=order).order_by("pk")[0]
    html = (
        signed_in(customer)
        .post(
            problem_url(order),
            {"kind": "missing", "line": str(line.pk), "quantity": "99", "message": "x"},
        )
        .content.decode()
    )

    assert "99" in field_error(html, "quantity")
    assert selected_option(html, "line") == str(line.pk)


def test_problem_form_starts_empty(customer, order):
    html = signed_in(customer).get(problem_url(order)).content.decode()

    assert selected_option(html, "kind") == ""
    assert 'data-testid="files-dropped"' not in html
    assert 'class="field-error"' not in html
    assert "aria-invalid" not in html
    assert "up to 5 files of at most 10 MB each" in html


def test_markup_evidence_names_evidence_types():
    with pytest.raises(UploadError) as caught:
        services.check_evidence([SimpleUploadedFile("evil.png", HTML_BYTES)])

    assert str(caught.value) == (
        "evil.png contains HTML, SVG or XML markup, but evidence must be a "
        "photo (PNG, JPEG, GIF or WebP), a PDF or plain text."
    )


def test_markup_poster_names_image_types():
    with pytest.raises(UploadError) as caught:
        check_poster(SimpleUploadedFile("evil.png", HTML_BYTES))

    assert str(caught.value) == (
        "evil.png contains HTML, SVG or XML markup, but a poster must be a PNG, "
        "JPEG, GIF or WebP image."
    )


def test_oversized_evidence_in_megabytes(settings):
    settings.PORTAL_MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + bytes(11_000_000 - 3))

    with pytest.raises(UploadError) as caught:
        services.check_evidence([big])

    assert str(caught.value) == (
        "big.jpg is 10.5 MB; the limit is 10 MB. Choose a smaller file (for a "
        "photo, save it at a lower resolution) and upload it again."
    )
    assert caught.value.status == 413


def test_size_just_over_limit_in_bytes(settings):
    settings.PORTAL_MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + bytes(10 * 1024 * 1024 - 2))

    with pytest.raises(UploadError) as caught:
        services.check_evidence([big])

    assert str(caught.value).startswith(
        "big.jpg is 10,485,761 bytes; the limit is 10,485,760 bytes."
    )


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KB"),
        (300 * 1024, "300 KB"),
        (10 * 1024 * 1024, "10 MB"),
        (11_000_000, "10.5 MB"),
    ],
)
def test_readable_size(size, shown):
    assert readable_size(size) == shown


def test_order_lines_show_discount_and_amount(customer, order):
    html = (
        signed_in(customer)
        .get(f"/reconciliation/portal/orders/{order.number}/")
        .content.decode()
    )

    rows = re.findall(r'<tr><td class="line-no">(\d+)</td>(.*?)</tr>', html, re.S)
    # Every value but "To come", with the span that keeps a cell's parts
    # together on a phone taken off.
    cell = (
        r'<td class="num" data-label="(?!To come)[^"]+">'
        r'(?:<span(?: data-testid="amount-\d+")?>)?(.*?)(?:</span>)?</td>'
    )
    cells = [re.findall(cell, row) for _, row in rows]
    assert cells == [
        ["15", "15", "14.40", "−15%", "183.60"],
        ["25", "25", "7.20", "—", "180.00"],
    ]
    assert 'data-testid="portal-lines-total">363.60 USD</td>' in html


def test_delivered_label_shows_receipt_date(customer, order):
    client = signed_in(customer)
    shipment = order.shipments.get()

    client.post(f"/reconciliation/portal/shipments/{shipment.pk}/confirm/")
    html = client.get(f"/reconciliation/portal/orders/{order.number}/").content.decode()

    today = timezone.localdate()
    assert "SH-FORM-1 · shipped 1996-11-15" in html
    assert (
        f'<span data-testid="delivered">delivered {today:%Y-%m-%d} '
        "(you confirmed receipt)</span>"
    ) in html
    assert "Delivered 1996-11-15" not in html


def test_home_names_its_list_of_cases(customer, order, media_root):
    line = ShipmentLine.objects.filter(shipment__order=order).order_by("pk")[0]
    client = signed_in(customer)
    client.post(
        problem_url(order),
        {
            "kind": "missing",
            "line": str(line.pk),
            "quantity": "1",
            "message": "One short",
        },
    )

    html = client.get("/reconciliation/portal/").content.decode()

    assert "<h2>Problems and our proposals</h2>" in html
    assert "Your open questions" not in html
