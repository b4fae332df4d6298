"""Evidence photos are stored byte for byte, metadata included.

Carla (Alfreds Futterkiste) reports damage with a phone photo whose EXIF
has a GPS position, the camera and the time it was taken. Unlike a poster
or a post image, evidence is not re-encoded: the metadata can matter to
the claim, and the stored file must be the one she sent.
"""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from portal.models import Evidence, ProblemReport
from reconciliation.models import ShipmentLine
from reconciliation.tests.factories import create_order, create_shipment


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-EV-2")
    return order


def damage_photo() -> bytes:
    exif = Image.Exif()
    exif[0x0110] = "Phonecam 12"  # Model
    exif[0x0132] = "2026:12:01 09:30:00"  # DateTime
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)}
    output = io.BytesIO()
    Image.new("RGB", (40, 30), "brown").save(
        output, "JPEG", exif=exif.tobytes(), comment=b"taken at the dock"
    )
    return output.getvalue()


@pytest.mark.django_db
def test_evidence_photo_stored_unchanged(customer, order, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    photo = damage_photo()
    client = Client()
    client.force_login(customer)
    line = ShipmentLine.objects.get(shipment__order=order)

    client.post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": ProblemReport.Kind.DAMAGED,
            "line": str(line.pk),
            "quantity": "2",
            "message": "Crushed boxes",
            "evidence": SimpleUploadedFile("box.jpg", photo),
        },
    )

    evidence = Evidence.objects.get()
    assert evidence.size == len(photo)
    assert evidence.sha256 == hashlib.sha256(photo).hexdigest()
    with evidence.file.open("rb") as stored:
        assert stored.read() == photo
