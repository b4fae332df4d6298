"""Help embedded in another tool: the iframe page, CORS and the origin check."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client, override_settings

from assist.tokens import issue_token
from core.testing import signed_in

pytestmark = pytest.mark.django_db

CRM = "https://crm.example.com"
ELSEWHERE = "https://evil.example.net"
HELP_URL = "/api/assist/help?context=reconciliation.order"


@pytest.fixture(autouse=True)
def crm_may_embed(settings):
    settings.HELP_EMBED_ORIGINS = [CRM]


class TestEmbedPage:
    def test_only_allowed_origins_may_frame_it(self, sales_rep):
        answer = signed_in(sales_rep).get(
            "/assist/embed/", {"context": "reconciliation.order", "origin": CRM}
        )
        assert answer.status_code == 200
        assert answer["Content-Security-Policy"] == f"frame-ancestors 'self' {CRM}"
        assert "X-Frame-Options" not in answer
        page = answer.content.decode()
        assert 'data-testid="help-panel"' in page
        assert f'data-parent-origin="{CRM}"' in page
        assert 'class="mainnav"' not in page

    def test_a_foreign_origin_gets_no_height_messages(self, sales_rep):
        answer = signed_in(sales_rep).get(
            "/assist/embed/", {"context": "reconciliation.order", "origin": ELSEWHERE}
        )
        page = answer.content.decode()
        assert "data-parent-origin" not in page
        assert "help-embed-frame.js" not in page
        assert ELSEWHERE not in answer["Content-Security-Policy"]

    @pytest.mark.parametrize("path", ["/assist/embed/", "/assist/panel/"])
    def test_head_is_allowed_like_get(self, sales_rep, path):
        answer = signed_in(sales_rep).head(path, {"context": "reconciliation.order"})
        assert answer.status_code == 200
        assert answer.content == b""

    def test_signed_out_visitors_get_a_sign_in_link(self):
        answer = Client().get("/assist/embed/", {"context": "reconciliation.order"})
        assert answer.status_code == 200
        page = answer.content.decode()
        assert 'data-testid="embed-sign-in"' in page
        assert 'target="_blank"' in page
        assert "/accounts/login/?next=" in page

    def test_an_unknown_context_is_named(self, sales_rep):
        answer = signed_in(sales_rep).get("/assist/embed/", {"context": "crm.nowhere"})
        assert answer.status_code == 404
        assert "Unknown help context &#x27;crm.nowhere&#x27;" in answer.content.decode()

    def test_a_customer_sees_no_super_users_in_the_frame(self, customer, super_user):
        answer = signed_in(customer).get(
            "/assist/embed/", {"context": "portal.statement"}
        )
        assert answer.status_code == 200
        assert super_user.first_name not in answer.content.decode()


class TestCors:
    def test_a_preflight_from_an_allowed_origin_is_answered(self):
        answer = Client().options(
            HELP_URL,
            headers={"Origin": CRM, "Access-Control-Request-Method": "GET"},
        )
        assert answer.status_code == 204
        assert answer["Access-Control-Allow-Origin"] == CRM
        assert answer["Access-Control-Allow-Headers"] == "Authorization"
        assert answer["Access-Control-Allow-Methods"] == "GET"
        assert "Access-Control-Allow-Credentials" not in answer

    def test_a_preflight_from_elsewhere_is_refused(self):
        answer = Client().options(
            HELP_URL,
            headers={"Origin": ELSEWHERE, "Access-Control-Request-Method": "GET"},
        )
        assert answer.status_code == 403
        assert "Access-Control-Allow-Origin" not in answer

    def test_a_token_read_from_the_crm_carries_the_cors_header(self, sales_rep):
        issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
        answer = Client().get(
            HELP_URL,
            headers={"Origin": CRM, "Authorization": f"Bearer {issued.raw}"},
        )
        assert answer.status_code == 200
        assert answer["Access-Control-Allow-Origin"] == CRM
        assert "Origin" in answer["Vary"]

    def test_other_origins_get_no_cors_header(self, sales_rep):
        issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
        answer = Client().get(
            HELP_URL,
            headers={"Origin": ELSEWHERE, "Authorization": f"Bearer {issued.raw}"},
        )
        assert "Access-Control-Allow-Origin" not in answer

    def test_other_api_paths_get_no_cors_header(self, sales_rep):
        answer = signed_in(sales_rep).get(
            "/api/reconciliation/orders", headers={"Origin": CRM}
        )
        assert "Access-Control-Allow-Origin" not in answer


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("crm.example.com", "is not an origin"),
        ("https://crm.example.com/help", "has a path"),
        ("https://user:pw@crm.example.com", "carries a user name or password"),
        ("ftp://crm.example.com", "is not an origin"),
    ],
)
def test_the_system_check_names_a_bad_origin(origin, message):
    with (
        override_settings(HELP_EMBED_ORIGINS=[origin]),
        pytest.raises(SystemCheckError, match=message),
    ):
        call_command("check")
