"""The API docs page at /api/docs: who may read it, and it works offline.

Employees and API token holders read the docs and the OpenAPI document; a
customer account and a request without a session are turned away.
"""

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from assist.models import ApiToken
from assist.tokens import issue_token, revoke_token
from commonplace.api import (
    DOCS_FOR_CUSTOMERS,
    DOCS_INVALID_CREDENTIAL,
    DOCS_WITHOUT_SESSION,
)
from core.testing import signed_in

pytestmark = pytest.mark.django_db


class AddressCollector(HTMLParser):
    """Collect every src and href address on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value is not None:
                self.addresses.append(value)


def page_addresses(html: str) -> list[str]:
    collector = AddressCollector()
    collector.feed(html)
    return collector.addresses


def test_docs_reference_no_outside_host(sales_rep):
    response = signed_in(sales_rep).get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    addresses = page_addresses(html)
    assert addresses, "the page loads no scripts or styles"
    for address in addresses:
        assert address.startswith("/"), address
        assert not address.startswith("//"), address
    assert not re.search(r"https?://", html), html


def test_docs_assets_are_served(sales_rep):
    client = signed_in(sales_rep)
    html = client.get("/api/docs").content.decode()
    for address in page_addresses(html):
        response = client.get(address)
        status = response.status_code
        # WhiteNoise streams the file, so close it to release the handle.
        response.close()
        assert status == 200, address


def test_docs_turn_off_validator_badge(sales_rep):
    html = signed_in(sales_rep).get("/api/docs").content.decode()
    match = re.search(
        r'<script type="application/json" id="swagger-settings">(.*?)</script>',
        html,
        re.DOTALL,
    )
    assert match is not None, html
    swagger_settings = json.loads(match.group(1))
    assert swagger_settings["validatorUrl"] is None
    assert swagger_settings["url"] == "/api/openapi.json"


# --- Who may read the docs and the schema ---


def test_employee_reads_docs_and_schema(sales_rep):
    client = signed_in(sales_rep)

    page = client.get("/api/docs")
    schema = client.get("/api/openapi.json")

    assert page.status_code == 200
    assert b"swagger-ui" in page.content
    assert schema.status_code == 200
    assert "/api/assist/help" in schema.json()["paths"]


def test_customer_is_refused_docs_and_schema(customer):
    client = signed_in(customer)

    page = client.get("/api/docs")
    schema = client.get("/api/openapi.json")

    assert page.status_code == 403
    assert b"swagger-ui" not in page.content
    assert schema.status_code == 403
    assert schema.json() == {"detail": DOCS_FOR_CUSTOMERS}
    assert "paths" not in schema.json()


def test_docs_without_session(db):
    client = Client()

    page = client.get("/api/docs")
    schema = client.get("/api/openapi.json")

    assert page.status_code == 302
    assert page["Location"] == "/accounts/login/?next=/api/docs"
    assert schema.status_code == 401
    assert schema.json() == {"detail": DOCS_WITHOUT_SESSION}


def test_token_holder_reads_schema(sales_rep):
    issued = issue_token(
        owner=sales_rep, name="CRM order screen", scopes=[ApiToken.Scope.HELP_READ]
    )

    response = Client().get(
        "/api/openapi.json", HTTP_AUTHORIZATION=f"Bearer {issued.raw}"
    )

    assert response.status_code == 200
    assert "/api/assist/help" in response.json()["paths"]


@pytest.mark.parametrize("header", ["Bearer cph_wrong", "Basic c2FsbHk6eA==", ""])
def test_wrong_token_is_refused_even_with_a_session(sales_rep, header):
    # A request with an Authorization header is judged by it alone, as the
    # API's endpoints judge it.
    response = signed_in(sales_rep).get("/api/openapi.json", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json() == {"detail": DOCS_INVALID_CREDENTIAL}


def test_revoked_token_is_refused(sales_rep):
    issued = issue_token(
        owner=sales_rep, name="CRM order screen", scopes=[ApiToken.Scope.HELP_READ]
    )
    revoke_token(actor=sales_rep, token=issued.token)

    response = Client().get(
        "/api/openapi.json", HTTP_AUTHORIZATION=f"Bearer {issued.raw}"
    )
    page = Client().get("/api/docs", HTTP_AUTHORIZATION=f"Bearer {issued.raw}")

    assert response.status_code == 401
    assert response.json() == {"detail": DOCS_INVALID_CREDENTIAL}
    assert page.status_code == 401
