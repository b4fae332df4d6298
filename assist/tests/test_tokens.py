"""API tokens: made once, stored as digests, scoped, revocable, read as the owner."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from answers.models import FaqEntry
from assist.models import ApiToken, HelpContext
from assist.tokens import (
    MAX_ACTIVE_TOKENS,
    authenticate_token,
    digest,
    issue_token,
    revoke_token,
)
from conftest import make_person
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

HELP_URL = "/api/assist/help?context=reconciliation.order.short_payment"


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def faq_entries(db):
    context = HelpContext.objects.get(key="reconciliation.order.short_payment")
    internal = FaqEntry.objects.create(
        question="How do I chase a short payment?",
        answer="Open a case.",
        answer_html="<p>Open a case.</p>",
    )
    public = FaqEntry.objects.create(
        question="Why was my payment short?",
        answer="Check the remittance.",
        answer_html="<p>Check the remittance.</p>",
        customer_visible=True,
    )
    for entry in (internal, public):
        entry.contexts.add(context)
    return internal, public


def test_the_token_is_shown_once_and_only_its_digest_is_stored(sales_rep):
    issued = issue_token(owner=sales_rep, name="CRM order screen", scopes=["help:read"])

    stored = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.raw.startswith(f"cph_{stored.key_id}_")
    assert stored.digest == digest(issued.raw)
    assert issued.raw not in str(ApiToken.objects.filter(pk=stored.pk).values().first())
    event = AuditEvent.objects.get(action="api_token.issued")
    assert issued.raw not in str(event.after)
    assert event.after == {
        "name": "CRM order screen",
        "scopes": ["help:read"],
        "key_id": stored.key_id,
    }


def test_a_token_reads_help_as_its_owner(sales_rep, faq_entries):
    employee_token = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
    answer = Client().get(HELP_URL, headers=bearer(employee_token.raw))
    assert answer.status_code == 200
    # Newest first within one context level, as in the panel.
    assert [entry["question"] for entry in answer.json()["faq_entries"]] == [
        "Why was my payment short?",
        "How do I chase a short payment?",
    ]


def test_a_customer_cannot_make_a_token(customer):
    with pytest.raises(PermissionDenied, match="Customer accounts cannot make"):
        issue_token(owner=customer, name="Portal", scopes=["help:read"])


def test_a_token_of_a_deactivated_owner_reads_nothing(sales_rep, faq_entries):
    issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
    sales_rep.is_active = False
    sales_rep.save()
    assert Client().get(HELP_URL, headers=bearer(issued.raw)).status_code == 401


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "cph_",
        "cph_zzzzzzzzzzzz_secret",
        "cph_0123456789ab_wrong-secret",
        "Bearer-less garbage",
        "cph_" + "a" * 12 + "_" + "x" * 5000,
    ],
)
def test_malformed_or_wrong_tokens_are_refused_alike(raw, faq_entries):
    answer = Client().get(HELP_URL, headers=bearer(raw))
    assert answer.status_code == 401
    assert "cph_" not in answer.content.decode()


def test_a_right_key_id_with_a_wrong_secret_is_refused(sales_rep, faq_entries):
    issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
    forged = issued.raw[:-4] + "AAAA"
    assert forged != issued.raw
    assert Client().get(HELP_URL, headers=bearer(forged)).status_code == 401


def test_a_revoked_token_stops_at_once(sales_rep, faq_entries):
    issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
    client = Client()
    assert client.get(HELP_URL, headers=bearer(issued.raw)).status_code == 200

    revoke_token(actor=sales_rep, token=issued.token, reason="tool retired")

    assert client.get(HELP_URL, headers=bearer(issued.raw)).status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.reason == "tool retired"
    assert ApiToken.objects.filter(pk=issued.token.pk).exists()


def test_an_expired_token_is_refused(sales_rep, faq_entries):
    issued = issue_token(
        owner=sales_rep,
        name="CRM",
        scopes=["help:read"],
        expires_at=timezone.now() + timedelta(days=1),
    )
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert Client().get(HELP_URL, headers=bearer(issued.raw)).status_code == 401


def test_a_token_without_the_scope_is_refused(sales_rep, faq_entries):
    issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
    ApiToken.objects.filter(pk=issued.token.pk).update(scopes=["something:else"])
    assert authenticate_token(issued.raw, scope="help:read") is None
    assert Client().get(HELP_URL, headers=bearer(issued.raw)).status_code == 401


@pytest.mark.parametrize("state", ["revoked", "wrong", "expired", "out of scope"])
def test_bad_token_rejected_with_session(sales_rep, faq_entries, state):
    issued = issue_token(owner=sales_rep, name="Sidebar", scopes=["help:read"])
    raw = issued.raw
    if state == "revoked":
        revoke_token(actor=sales_rep, token=issued.token)
    elif state == "wrong":
        raw = f"{raw[:-4]}AAAA"
    elif state == "expired":
        ApiToken.objects.filter(pk=issued.token.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    else:
        ApiToken.objects.filter(pk=issued.token.pk).update(scopes=["other"])
    client = Client()
    client.force_login(sales_rep)

    assert client.get(HELP_URL).status_code == 200
    assert client.get(HELP_URL, headers=bearer(raw)).status_code == 401


def test_authorization_header_judged_alone(sales_rep):
    issued = issue_token(owner=sales_rep, name="Sidebar", scopes=["help:read"])
    client = Client()
    client.force_login(sales_rep)

    assert client.get("/api/search?q=payment").status_code == 200
    answer = client.get("/api/search?q=payment", headers=bearer(issued.raw))
    assert answer.status_code == 401


def test_a_token_cannot_reach_other_endpoints(sales_rep):
    issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
    answer = Client().get("/api/reconciliation/orders", headers=bearer(issued.raw))
    assert answer.status_code == 401


def test_last_use_is_written_at_most_every_few_minutes(sales_rep, faq_entries):
    issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
    client = Client()
    client.get(HELP_URL, headers=bearer(issued.raw))
    first = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    assert first is not None
    client.get(HELP_URL, headers=bearer(issued.raw))
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == first


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("", ["help:read"], "Name the token"),
        ("x" * 81, ["help:read"], "81 characters long: keep it to 80"),
        ("CRM", [], "Choose at least one scope"),
        ("CRM", ["help:read", "orders:write"], "Unknown scope 'orders:write'"),
    ],
)
def test_bad_token_requests_name_the_problem(sales_rep, name, scopes, message):
    with pytest.raises(ValidationError, match=message):
        issue_token(owner=sales_rep, name=name, scopes=scopes)
    assert not ApiToken.objects.exists()


def test_an_expiry_in_the_past_is_refused(sales_rep):
    past = timezone.now() - timedelta(hours=1)
    with pytest.raises(ValidationError, match="has passed: choose a later one"):
        issue_token(owner=sales_rep, name="CRM", scopes=["help:read"], expires_at=past)


def test_active_tokens_per_person_are_capped(sales_rep):
    for number in range(MAX_ACTIVE_TOKENS):
        issue_token(owner=sales_rep, name=f"Tool {number}", scopes=["help:read"])
    with pytest.raises(ValidationError, match=f"You have {MAX_ACTIVE_TOKENS} active"):
        issue_token(owner=sales_rep, name="One more", scopes=["help:read"])
    revoke_token(actor=sales_rep, token=ApiToken.objects.all()[0])
    issue_token(owner=sales_rep, name="One more", scopes=["help:read"])


def test_only_the_owner_or_it_staff_revoke(sales_rep, outsider):
    issued = issue_token(owner=sales_rep, name="CRM", scopes=["help:read"])
    with pytest.raises(PermissionDenied):
        revoke_token(actor=outsider, token=issued.token)
    it_person = make_person("ivy", Role.IT)
    revoked = revoke_token(actor=it_person, token=issued.token)
    assert revoked.revoked_at is not None


class TestTokenPage:
    def test_the_page_shows_a_new_token_once(self, sales_rep):
        client = Client()
        client.force_login(sales_rep)
        made = client.post(
            "/assist/tokens/",
            {"name": "CRM order screen", "scopes": ["help:read"]},
            follow=True,
        )
        assert made.redirect_chain == [("/assist/tokens/", 302)]
        assert made.status_code == 200
        raw = made.context["issued"].raw
        assert digest(raw) == ApiToken.objects.get().digest
        assert raw in made.content.decode()
        assert "no-store" in made["Cache-Control"]

        again = client.get("/assist/tokens/")
        assert raw not in again.content.decode()
        assert "CRM order screen" in again.content.decode()
        assert raw not in str(dict(client.session))

    def test_token_reload_makes_no_second(self, sales_rep):
        client = Client()
        client.force_login(sales_rep)
        form = {"name": "CRM sidebar", "scopes": ["help:read"]}
        first = client.post("/assist/tokens/", form)
        assert first.status_code == 302
        assert client.get("/assist/tokens/").status_code == 200

        # The browser's reload of the page after the redirect is a GET.
        reload = client.get("/assist/tokens/")
        assert reload.context["issued"] is None
        # A post sent twice (the back button, a double click) is refused.
        repeat = client.post("/assist/tokens/", form)
        assert repeat.status_code == 422
        assert (
            "You already have an active token named &#x27;CRM sidebar&#x27;"
            in repeat.content.decode()
        )
        assert ApiToken.objects.filter(owner=sales_rep).count() == 1

    def test_revoked_token_name_reusable(self, sales_rep):
        issued = issue_token(owner=sales_rep, name="CRM sidebar", scopes=["help:read"])
        revoke_token(actor=sales_rep, token=issued.token)

        again = issue_token(owner=sales_rep, name="crm SIDEBAR", scopes=["help:read"])

        assert again.token.pk != issued.token.pk
        with pytest.raises(ValidationError, match="already have an active token"):
            issue_token(owner=sales_rep, name="CRM Sidebar", scopes=["help:read"])

    def test_bad_input_is_named_and_nothing_is_made(self, sales_rep):
        client = Client()
        client.force_login(sales_rep)
        answer = client.post(
            "/assist/tokens/",
            {"name": "CRM", "scopes": ["nope"], "expires_on": "tomorrow"},
        )
        assert answer.status_code == 422
        page = answer.content.decode()
        assert "Unknown scope &#x27;nope&#x27;" in page
        assert "Write the expiry date as YYYY-MM-DD." in page
        assert not ApiToken.objects.exists()

    def test_people_see_only_their_own_tokens(self, sales_rep, outsider):
        issue_token(owner=sales_rep, name="Rep tool", scopes=["help:read"])
        theirs = issue_token(owner=outsider, name="Other tool", scopes=["help:read"])
        client = Client()
        client.force_login(sales_rep)
        page = client.get("/assist/tokens/").content.decode()
        assert "Rep tool" in page
        assert "Other tool" not in page
        revoke = client.post(f"/assist/tokens/{theirs.token.pk}/revoke/")
        assert revoke.status_code == 404
        assert ApiToken.objects.get(pk=theirs.token.pk).revoked_at is None

    def test_it_staff_see_and_revoke_every_token(self, sales_rep):
        issued = issue_token(owner=sales_rep, name="Rep tool", scopes=["help:read"])
        client = Client()
        client.force_login(make_person("ivy", Role.IT))
        assert "Rep tool" in client.get("/assist/tokens/").content.decode()
        answer = client.post(f"/assist/tokens/{issued.token.pk}/revoke/")
        assert answer.status_code == 302
        assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is not None

    def test_customers_get_no_token_page(self, customer):
        client = Client()
        client.force_login(customer)
        assert client.get("/assist/tokens/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_cannot_pass_the_cap_together(sales_rep):
    for number in range(MAX_ACTIVE_TOKENS - 1):
        issue_token(owner=sales_rep, name=f"Tool {number}", scopes=["help:read"])
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(name: str) -> None:
        from django.db import connections

        try:
            barrier.wait()
            issue_token(owner=sales_rep, name=name, scopes=["help:read"])
            outcomes.append("made")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(f"Race {n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == MAX_ACTIVE_TOKENS
    assert sorted(outcomes) == ["made", "refused"]
