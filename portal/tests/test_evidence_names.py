"""An evidence file's name must carry an extension that fits its content.

Carla (Alfreds Futterkiste) reports damage on a shipment line with files
attached. The content decides the type, and the extension must agree with
it, so plain text named ``ev.exe`` is rejected before anything is stored.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.testing import messages_of
from library.tests.conftest import PNG_BYTES
from library.uploads import UploadError
from portal.models import Evidence, ProblemReport
from portal.services import check_evidence
from reconciliation.models import ShipmentLine
from reconciliation.tests.factories import create_order, create_shipment

ACCEPTED = "evidence must be a photo (PNG, JPEG, GIF or WebP), a PDF or plain text"


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-EV-1")
    return order


def report_with(customer, order, upload: SimpleUploadedFile):
    client = Client()
    client.force_login(customer)
    line = ShipmentLine.objects.get(shipment__order=order)
    return client.post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": ProblemReport.Kind.DAMAGED,
            "line": str(line.pk),
            "quantity": "2",
            "message": "Crushed boxes",
            "evidence": upload,
        },
        follow=True,
    )


@pytest.mark.django_db
def test_text_named_exe_rejected(customer, order):
    response = report_with(
        customer, order, SimpleUploadedFile("ev.exe", b"MZ fake exe")
    )

    assert response.status_code == 422
    assert messages_of(response) == [
        "ev.exe has the extension .exe, but it contains plain text, whose file "
        "name ends in .txt, .text, .log, .csv or .md. Rename the file to match "
        f"what it contains, or attach another file: {ACCEPTED}."
    ]
    assert not ProblemReport.objects.exists()
    assert not Evidence.objects.exists()


@pytest.mark.django_db
def test_matching_extension_accepted(customer, order):
    response = report_with(customer, order, SimpleUploadedFile("box.PNG", PNG_BYTES))

    assert messages_of(response) == ["Thank you: we have your report and will reply."]
    assert list(Evidence.objects.values_list("name", flat=True)) == ["box.PNG"]


@pytest.mark.parametrize(
    ("name", "content", "found", "expected"),
    [
        (
            "photo.pdf",
            PNG_BYTES,
            "the extension .pdf",
            "a PNG image, whose file name ends in .png",
        ),
        ("notes", b"Two boxes were crushed.", "no extension", "plain text"),
        (
            "scan.jpg.exe",
            b"%PDF-1.4\n",
            "the extension .exe",
            "a PDF, whose file name ends in .pdf",
        ),
    ],
)
def test_mismatch_names_file_and_type(name, content, found, expected):
    with pytest.raises(UploadError) as error:
        check_evidence([SimpleUploadedFile(name, content)])

    message = str(error.value)
    assert message.startswith(f"{name} has {found}, but it contains ")
    assert expected in message
    assert message.endswith(f"or attach another file: {ACCEPTED}.")


def test_each_accepted_type_with_its_extension_passes():
    checked = check_evidence(
        [
            SimpleUploadedFile("box.png", PNG_BYTES),
            SimpleUploadedFile("invoice.pdf", b"%PDF-1.4\n"),
            SimpleUploadedFile("notes.txt", b"Two boxes were crushed."),
        ]
    )

    assert [item.content_type for item in checked] == [
        "image/png",
        "application/pdf",
        "text/plain",
    ]
