"""Problem report requests larger than PORTAL_MAX_REQUEST_BYTES get 413 unread."""

import re

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory

from portal.models import ProblemReport
from reconciliation import portal_views
from reconciliation.models import Discrepancy
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    return order


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def problem_request(order, customer, photo: bytes):
    """Build a real multipart POST of a damaged-goods report with one photo."""
    line = order.shipments.get().lines.get()
    request = RequestFactory().post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "damaged",
            "line": line.pk,
            "quantity": "1",
            "message": "Crushed box",
            "evidence": SimpleUploadedFile("box.png", photo, content_type="image/png"),
        },
    )
    request.user = customer
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def send(request, order):
    return portal_views.report_problem(request, number=order.number)


def test_report_over_limit_gets_413_unread(customer, order, media_root, settings):
    settings.PORTAL_MAX_REQUEST_BYTES = 2000
    request = problem_request(order, customer, PNG_BYTES + bytes(4000))
    size = int(request.META["CONTENT_LENGTH"])

    response = send(request, order)

    assert 4200 < size < 4600
    assert response.status_code == 413
    # The body's size varies with the ids in the form, so only its unit is
    # literal. Django's filesizeformat puts a no-break space before the unit.
    html = response.content.decode()
    assert re.search(r"The report with its files is 4\.\d\xa0KB, ", html)
    assert (
        "more than the limit of 2.0\xa0KB. Attach fewer or smaller files, each "
        "at most 10.0\xa0MB, and send the report again."
    ) in html
    # Django sets _read_started when anything reads the body stream.
    assert request._read_started is False
    assert not ProblemReport.objects.exists()
    assert not Discrepancy.objects.exists()
    assert list(media_root.rglob("*")) == []


def test_report_under_limit_is_stored(customer, order, media_root, settings):
    settings.PORTAL_MAX_REQUEST_BYTES = 10_000
    request = problem_request(order, customer, PNG_BYTES + bytes(4000))

    response = send(request, order)

    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert report.evidence.get().size == len(PNG_BYTES) + 4000


def test_guard_ignores_invalid_content_length(customer, order, media_root):
    request = problem_request(order, customer, PNG_BYTES)
    request.META["CONTENT_LENGTH"] = "many"

    response = send(request, order)

    assert response.status_code != 413


def test_problem_url_over_limit_gets_413_unread(customer, order, media_root, settings):
    settings.PORTAL_MAX_REQUEST_BYTES = 2000
    line = order.shipments.get().lines.get()
    # With CSRF checks on, as in a browser: the check would read the body.
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)

    response = client.post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "damaged",
            "line": line.pk,
            "quantity": "1",
            "message": "Crushed box",
            "evidence": SimpleUploadedFile("box.png", PNG_BYTES + bytes(4000)),
        },
    )

    assert response.status_code == 413
    assert response.wsgi_request._read_started is False
    assert not ProblemReport.objects.exists()
