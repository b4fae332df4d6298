"""The API docs page at /api/docs works without internet access."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

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


def test_docs_reference_no_outside_host():
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    addresses = page_addresses(html)
    assert addresses, "the page loads no scripts or styles"
    for address in addresses:
        assert address.startswith("/"), address
        assert not address.startswith("//"), address
    assert not re.search(r"https?://", html), html


def test_docs_assets_are_served():
    client = Client()
    html = client.get("/api/docs").content.decode()
    for address in page_addresses(html):
        response = client.get(address)
        status = response.status_code
        # WhiteNoise streams the file, so close it to release the handle.
        response.close()
        assert status == 200, address


def test_docs_turn_off_validator_badge():
    html = Client().get("/api/docs").content.decode()
    match = re.search(
        r'<script type="application/json" id="swagger-settings">(.*?)</script>',
        html,
        re.DOTALL,
    )
    assert match is not None, html
    swagger_settings = json.loads(match.group(1))
    assert swagger_settings["validatorUrl"] is None
    assert swagger_settings["url"] == "/api/openapi.json"
