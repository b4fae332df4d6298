"""Pages under /imports/: who may use them, and the upload-preview-commit flow."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from imports.models import ColumnMapping, ImportBatch, ImportSource
from imports.tests.conftest import FILES, make_source
from reconciliation.models import Payment, SalesOrder


def page_urls(source, batch):
    sha = "0" * 64
    return [
        reverse("imports:batch_list"),
        reverse("imports:source_create"),
        reverse("imports:source_edit", args=[source.pk]),
        reverse("imports:upload", args=[source.pk]),
        reverse("imports:preview", args=[source.pk, sha]),
        reverse("imports:batch_detail", args=[batch.pk]),
    ]


@pytest.fixture
def failed_batch(payments_source, clerk):
    return ImportBatch.objects.create(
        source=payments_source,
        created_by=clerk,
        file_name="bad.csv",
        sha256="f" * 64,
        file_format="csv",
        status=ImportBatch.Status.FAILED,
        error='Row 2, column "Amount": amount "x" is not a number.',
    )


@pytest.mark.parametrize("role", [Role.FINANCE_CLERK, Role.MANAGER, Role.IT])
def test_import_roles_open_every_page(client, db, role, payments_source, failed_batch):
    client.force_login(make_person("ivan", role))

    for url in page_urls(payments_source, failed_batch):
        assert client.get(url).status_code == 200, url


def test_sales_rep_is_refused(client, sales_rep, payments_source, failed_batch):
    client.force_login(sales_rep)

    for url in page_urls(payments_source, failed_batch):
        assert client.get(url).status_code == 403, url


def test_customer_finds_nothing(client, customer, payments_source, failed_batch):
    client.force_login(customer)

    for url in page_urls(payments_source, failed_batch):
        assert client.get(url).status_code == 404, url
    commit = reverse("imports:commit", args=[payments_source.pk, "0" * 64])
    assert client.post(commit).status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(
    client, db, payments_source, failed_batch
):
    for url in page_urls(payments_source, failed_batch):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_batch_page_lists_the_failure(client, clerk, failed_batch):
    client.force_login(clerk)

    response = client.get(reverse("imports:batch_detail", args=[failed_batch.pk]))

    assert response.context["errors"] == [
        'Row 2, column "Amount": amount "x" is not a number.'
    ]
    assert b"Failed" in response.content


def test_source_and_mapping_forms_save(client, clerk, company):
    client.force_login(clerk)

    response = client.post(
        reverse("imports:source_create"),
        {
            "name": "ERP orders",
            "company": company.pk,
            "kind": "orders",
            "file_format": "csv",
        },
    )
    source = ImportSource.objects.get(name="ERP orders")
    assert response["Location"] == reverse("imports:source_edit", args=[source.pk])
    response = client.post(
        reverse("imports:source_edit", args=[source.pk]),
        {
            "column_number": "Order Number",
            "column_customer": "Customer",
            "column_order_date": "Order Date",
            "date_format_order_date": "%d.%m.%Y",
            "column_promised_date": "Promised",
            "date_format_promised_date": "%d.%m.%Y",
            "column_line_no": "Line",
            "column_product": "SKU",
            "column_qty_ordered": "Qty",
            "decimal_separator_qty_ordered": ",",
            "column_unit_price": "Price",
            "decimal_separator_unit_price": ",",
            "decimal_separator_discount_pct": ".",
        },
    )

    assert response.status_code == 302
    assert list(
        ColumnMapping.objects.filter(source=source)
        .order_by("target_field")
        .values_list("target_field", "column", "date_format", "decimal_separator")
    ) == [
        ("customer", "Customer", "", "."),
        ("line_no", "Line", "", "."),
        ("number", "Order Number", "", "."),
        ("order_date", "Order Date", "%d.%m.%Y", "."),
        ("product", "SKU", "", "."),
        ("promised_date", "Promised", "%d.%m.%Y", "."),
        ("qty_ordered", "Qty", "", ","),
        ("unit_price", "Price", "", ","),
    ]
    assert list(
        AuditEvent.objects.filter(object_type="imports.importsource").values_list(
            "action", flat=True
        )
    ) == ["import_source.created", "import_source.changed"]


def test_date_format_is_chosen_by_example(client, clerk, orders_source):
    client.force_login(clerk)

    response = client.get(reverse("imports:source_edit", args=[orders_source.pk]))

    field = response.context["mapping"]["date_format_order_date"]
    labels = dict(field.field.choices)
    assert labels[""] == "2026-12-31 (year-month-day, the default)"
    assert labels["%d.%m.%Y"] == "31.12.2026"
    assert labels["%m/%d/%Y"] == "12/31/2026"
    assert labels["%d/%m/%Y"] == "31/12/2026"
    assert field.value() == "%d.%m.%Y"
    html = response.content.decode()
    assert '<option value="%d.%m.%Y" selected>31.12.2026</option>' in html
    assert "strftime" not in html


def test_date_format_outside_the_list_is_rejected(client, clerk, orders_source):
    client.force_login(clerk)

    response = client.post(
        reverse("imports:source_edit", args=[orders_source.pk]),
        {"column_number": "N", "date_format_order_date": "%d.%m"},
    )

    assert response.context["mapping"].errors["date_format_order_date"] == [
        '"%d.%m" is not one of the date formats offered. Choose how the file '
        "writes 31 December 2026."
    ]


def test_saved_date_format_outside_the_list_still_loads(client, clerk, orders_source):
    ColumnMapping.objects.filter(
        source=orders_source, target_field="order_date"
    ).update(date_format="%d-%b-%Y")
    client.force_login(clerk)
    url = reverse("imports:source_edit", args=[orders_source.pk])

    response = client.get(url)

    field = response.context["mapping"]["date_format_order_date"]
    assert field.value() == "%d-%b-%Y"
    assert dict(field.field.choices)["%d-%b-%Y"] == (
        "31-Dec-2026 (saved format %d-%b-%Y)"
    )
    data = {
        name: value
        for name, value in response.context["mapping"].initial.items()
        if value
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert (
        ColumnMapping.objects.get(
            source=orders_source, target_field="order_date"
        ).date_format
        == "%d-%b-%Y"
    )


def test_saved_date_format_without_year_must_be_replaced(client, clerk, orders_source):
    ColumnMapping.objects.filter(
        source=orders_source, target_field="order_date"
    ).update(date_format="%d.%m")
    client.force_login(clerk)

    response = client.post(
        reverse("imports:source_edit", args=[orders_source.pk]),
        {"column_number": "N", "date_format_order_date": "%d.%m"},
    )

    assert response.context["mapping"].errors["date_format_order_date"] == [
        'The saved date format "%d.%m" does not read a whole date (day, month '
        "and year). Choose how the file writes 31 December 2026 from the list."
    ]


def test_camt_source_must_hold_payments(client, clerk, company):
    client.force_login(clerk)

    response = client.post(
        reverse("imports:source_create"),
        {
            "name": "Bank",
            "company": company.pk,
            "kind": "orders",
            "file_format": "camt053",
        },
    )

    assert response.context["form"].non_field_errors() == [
        "A CAMT.053 bank statement holds payments: choose the document kind "
        "Payments for it."
    ]


def test_upload_preview_and_commit_writes_only_on_commit(client, clerk, orders_source):
    client.force_login(clerk)
    data = (FILES / "orders_bom_semicolon.csv").read_bytes()

    response = client.post(
        reverse("imports:upload", args=[orders_source.pk]),
        {"file": SimpleUploadedFile("orders.csv", data)},
    )
    preview_url = response["Location"]
    page = client.get(preview_url)
    assert page.context["preview"].errors == []
    assert b"3 rows: 2 new documents, 0 already in the books" in page.content
    assert SalesOrder.objects.count() == 0

    response = client.post(preview_url + "commit/")
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("imports:batch_detail", args=[batch.pk])
    assert SalesOrder.objects.count() == 2

    response = client.post(
        reverse("imports:upload", args=[orders_source.pk]),
        {"file": SimpleUploadedFile("orders-again.csv", data)},
    )
    assert response["Location"] == preview_url
    page = client.get(preview_url)
    assert page.context["preview"].already_imported == batch
    assert b"Commit</button>" not in page.content
    response = client.post(preview_url + "commit/", follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"This file was already imported on {batch.created_at:%Y-%m-%d %H:%M} UTC "
        f"as batch {batch.pk}. Nothing was changed."
    ]
    assert ImportBatch.objects.count() == 1


def test_upload_rejects_a_file_of_another_format(client, clerk, payments_source):
    client.force_login(clerk)

    response = client.post(
        reverse("imports:upload", args=[payments_source.pk]),
        {"file": SimpleUploadedFile("payments.pdf", b"%PDF-1.4")},
    )

    assert response.context["form"].errors["file"] == [
        '"payments.pdf" is not a CSV file. Upload a file ending in .csv or .txt.'
    ]
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    ("file_format", "file_name", "message"),
    [
        (
            "xlsx",
            "orders.csv",
            '"orders.csv" is not an Excel workbook (.xlsx). Upload a file ending '
            "in .xlsx.",
        ),
        (
            "camt053",
            "march.csv",
            '"march.csv" is not a CAMT.053 bank statement. Upload a file ending '
            "in .xml.",
        ),
    ],
)
def test_upload_wrong_format_message(
    client, clerk, company, file_format, file_name, message
):
    source = make_source(company, clerk, "payments", file_format=file_format)
    client.force_login(clerk)

    response = client.post(
        reverse("imports:upload", args=[source.pk]),
        {"file": SimpleUploadedFile(file_name, b"a,b\n")},
    )

    assert response.context["form"].errors["file"] == [message]


def test_preview_of_unknown_upload(client, clerk, payments_source):
    client.force_login(clerk)

    page = client.get(reverse("imports:preview", args=[payments_source.pk, "a" * 64]))

    assert page.context["preview"].errors == [
        "The uploaded file is no longer waiting for commit. Upload it again."
    ]


def test_statement_upload_shows_entries_and_commits(client, clerk, bank_source):
    client.force_login(clerk)
    data = (FILES / "camt053_v02.xml").read_bytes()

    response = client.post(
        reverse("imports:upload", args=[bank_source.pk]),
        {"file": SimpleUploadedFile("march.xml", data)},
    )
    page = client.get(response["Location"])
    assert b"2 entries, 0 already imported." in page.content
    response = client.post(response["Location"] + "commit/", follow=True)

    batch = ImportBatch.objects.get()
    assert [str(m) for m in response.context["messages"]] == [
        f"Batch {batch.pk} committed: 1 document created, 0 existing rows left "
        "as they were."
    ]
    assert f"BS{batch.pk}-1".encode() in response.content
    assert Payment.objects.get().number == f"BS{batch.pk}-1"


def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client, url):
    return client.get(url).context["csrf_token"]


def test_upload_over_request_limit_answers_413_unread(
    clerk, payments_source, settings, staging_dir
):
    settings.IMPORT_MAX_REQUEST_BYTES = 1000
    client = csrf_client(clerk)
    url = reverse("imports:upload", args=[payments_source.pk])
    rows = "".join(f"P-{n},ALFKI,2024-03-01,USD,1.00,x\n" for n in range(60))
    data = ("Payment,Customer,Date,Currency,Amount,Reference\n" + rows).encode()

    response = client.post(
        url,
        {
            "csrfmiddlewaretoken": csrf_token(client, url),
            "file": SimpleUploadedFile("p.csv", data),
        },
    )

    size = int(response.wsgi_request.META["CONTENT_LENGTH"])
    assert size > 2000
    assert response.status_code == 413
    assert (
        f"The upload is {size} bytes, more than the limit of 1000 bytes "
        "(IMPORT_MAX_REQUEST_BYTES). Nothing was read or stored."
    ) in response.content.decode()
    # Neither the CSRF check nor the form read the body.
    assert response.wsgi_request._read_started is False
    assert not staging_dir.exists() or list(staging_dir.iterdir()) == []


def test_upload_under_request_limit_still_checks_csrf(clerk, payments_source):
    client = csrf_client(clerk)
    url = reverse("imports:upload", args=[payments_source.pk])
    data = b"Payment,Customer,Date,Currency,Amount,Reference\nP-1,ALFKI,2024-03-01,USD,1.00,x\n"

    rejected = client.post(url, {"file": SimpleUploadedFile("p.csv", data)})
    accepted = client.post(
        url,
        {
            "csrfmiddlewaretoken": csrf_token(client, url),
            "file": SimpleUploadedFile("p.csv", data),
        },
    )

    assert rejected.status_code == 403
    assert accepted.status_code == 302
    assert accepted["Location"].startswith(f"/imports/sources/{payments_source.pk}/")
