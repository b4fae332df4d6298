"""Money and quantities on the import pages read as on the rest of the product."""

from django.urls import reverse

from imports.services import stage_upload
from imports.tests.conftest import FILES
from imports.tests.test_tables import PAYMENTS_HEADER, commit


def preview_html(client, source, data: bytes, name: str = "upload.csv") -> str:
    sha256 = stage_upload(data=data, file_name=name)
    response = client.get(reverse("imports:preview", args=[source.pk, sha256]))
    return str(response.content.decode())


def test_preview_formats_payment_amounts(client, clerk, payments_source):
    client.force_login(clerk)
    data = (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,1552.2,x\n").encode()

    html = preview_html(client, payments_source, data)

    assert (
        "<td>2</td><td>P-1</td><td>ALFKI</td><td>2024-03-01</td><td>USD</td>"
        "<td>1,552.20</td><td>x</td>"
    ) in html


def test_preview_formats_order_lines(client, clerk, orders_source):
    client.force_login(clerk)

    html = preview_html(
        client, orders_source, (FILES / "orders_bom_semicolon.csv").read_bytes()
    )

    assert (
        "<td>3</td><td>SO-9001</td><td>ALFKI</td><td>2024-03-31</td>"
        "<td>2024-04-15</td><td>2</td><td>CHANG</td><td>2</td><td>1,234.50</td>"
    ) in html


def test_preview_keeps_unparsed_cell_text(client, clerk, payments_source):
    client.force_login(clerk)
    data = (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,ten,x\n").encode()

    html = preview_html(client, payments_source, data)

    assert "<td>USD</td><td>ten</td><td>x</td>" in html


def test_statement_amounts_are_formatted(client, clerk, bank_source):
    data = (FILES / "camt053_v02.xml").read_bytes().replace(b">363.60<", b">1000.00<")
    client.force_login(clerk)

    preview_page = preview_html(client, bank_source, data, name="march.xml")
    batch = commit(bank_source, data, clerk, name="march.xml")
    batch_page = client.get(
        reverse("imports:batch_detail", args=[batch.pk])
    ).content.decode()

    assert '<td class="num">1,000.00 USD</td>' in preview_page
    assert '<td class="num">1,000.00 USD</td>' in batch_page
    assert "1000.0000" not in batch_page
