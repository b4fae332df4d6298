"""The help panel and its JSON endpoint: ranking, fallback, visibility, queries."""

import pytest
from django.test import Client

from accounts.models import Role
from answers.models import FaqEntry
from assist.api import HelpOut
from assist.contexts import DECLARED_KEYS, order_context_key
from assist.models import HelpContext
from assist.selectors import (
    UnknownContextError,
    build_help_panel,
    compute_help_panel,
)
from assist.tests.factories import answered
from conftest import make_person
from core.testing import signed_in
from library.models import Document

pytestmark = pytest.mark.django_db


def faq(question: str, *keys: str, helpful: int = 0, customer_visible: bool = False):
    entry = FaqEntry.objects.create(
        question=question,
        answer=f"Answer to {question}",
        answer_html=f"<p>Answer to {question}</p>",
        helpful_count=helpful,
        customer_visible=customer_visible,
    )
    entry.contexts.set(HelpContext.objects.filter(key__in=keys))
    return entry


def document(title: str, *keys: str, customer_visible: bool = False):
    item = Document.objects.create(
        title=title,
        summary=f"About {title}",
        body="x",
        body_html="<p>x</p>",
        customer_visible=customer_visible,
    )
    item.contexts.set(HelpContext.objects.filter(key__in=keys))
    return item


def test_every_declared_context_is_in_the_database():
    stored = set(HelpContext.objects.values_list("key", flat=True))
    assert stored == set(DECLARED_KEYS)


def test_context_parents_follow_the_key():
    context = HelpContext.objects.get(key="reconciliation.order.short_payment")
    assert context.parent.key == "reconciliation.order"
    assert context.parent.parent.key == "reconciliation"
    assert context.depth == 2
    assert context.crm_function.slug == "payments"


def test_order_context_key_for_codes():
    assert order_context_key(None) == "reconciliation.order"
    assert order_context_key("SHORT_PAYMENT") == "reconciliation.order.short_payment"
    with pytest.raises(LookupError):
        order_context_key("NO_SUCH_CODE")


def test_every_discrepancy_code_declares_a_context():
    from assist.contexts import DISCREPANCY_CONTEXTS
    from reconciliation.models import DiscrepancyCode

    assert [code for code, _, _ in DISCREPANCY_CONTEXTS] == list(DiscrepancyCode.values)
    for code in DiscrepancyCode.values:
        context = HelpContext.objects.get(key=order_context_key(code))
        assert context.parent.key == "reconciliation.order"
        assert context.crm_function is not None


def test_case_inbox_declares_its_context(sales_rep, outsider):
    page = signed_in(sales_rep).get("/reconciliation/cases/")
    assert page.status_code == 200
    assert 'data-context="reconciliation.cases"' in page.content.decode()
    # otto works in the warehouse: his inbox help is about fulfilment.
    page = signed_in(outsider).get("/reconciliation/cases/")
    assert 'data-context="reconciliation.cases.fulfilment"' in page.content.decode()
    filtered = signed_in(outsider).get("/reconciliation/cases/", {"code": "SHORT_SHIP"})
    assert 'data-context="reconciliation.order.short_ship"' in filtered.content.decode()


def test_specific_context_ranks_before_parents(sales_rep):
    general = faq("General", "reconciliation.order", helpful=50)
    specific = faq("Specific", "reconciliation.order.short_payment")
    root = faq("Root", "reconciliation", helpful=99)
    faq("Other screen", "reconciliation.order.late_ship", helpful=80)

    ranked = compute_help_panel(
        viewer=sales_rep, key="reconciliation.order.short_payment"
    )
    panel = build_help_panel(viewer=sales_rep, key="reconciliation.order.short_payment")

    assert [entry.pk for entry in ranked.faq_entries] == [
        specific.pk,
        general.pk,
        root.pk,
    ]
    assert [entry.pk for entry in panel.faq_entries] == [specific.pk]
    assert panel.matched_context.key == "reconciliation.order.short_payment"
    assert panel.fell_back is False


def test_helpful_votes_order_one_level(sales_rep):
    low = faq("Low", "reconciliation.order", helpful=1)
    high = faq("High", "reconciliation.order", helpful=9)
    panel = build_help_panel(viewer=sales_rep, key="reconciliation.order")
    assert [entry.pk for entry in panel.faq_entries] == [high.pk, low.pk]


def test_falls_back_to_parent_and_says_so(sales_rep):
    faq("General", "reconciliation.order")
    panel = build_help_panel(viewer=sales_rep, key="reconciliation.order.short_payment")
    assert panel.fell_back is True
    assert panel.matched_context.key == "reconciliation.order"


def test_entry_tagged_twice_in_chain_is_listed_once(sales_rep):
    entry = faq("Both", "reconciliation.order", "reconciliation.order.short_payment")
    panel = build_help_panel(viewer=sales_rep, key="reconciliation.order.short_payment")
    assert [item.pk for item in panel.faq_entries] == [entry.pk]
    assert panel.faq_entries[0].context_key == "reconciliation.order.short_payment"


def test_unknown_context_raises_with_key(sales_rep):
    with pytest.raises(UnknownContextError, match=r"'reconciliation\.nope'"):
        build_help_panel(viewer=sales_rep, key="reconciliation.nope")


def test_super_users_of_the_function_are_listed(sales_rep, super_user):
    panel = build_help_panel(viewer=sales_rep, key="reconciliation.order.short_payment")
    assert [person.username for person in panel.super_users] == ["petra"]


@pytest.mark.parametrize(
    ("key", "function"),
    [
        ("reconciliation.work.purchasing", "fulfilment"),
        ("reconciliation.work.purchasing.order", "fulfilment"),
        ("reconciliation.work.purchasing.receipt", "fulfilment"),
        ("reconciliation.work.purchasing.bill", "invoicing"),
    ],
)
def test_purchase_screens_route_by_their_work(key, function):
    warehouse_worker = make_person("wanda", Role.WAREHOUSE)

    panel = build_help_panel(viewer=warehouse_worker, key=key)

    assert panel.crm_function.slug == function
    context = HelpContext.objects.get(key=key)
    assert context.parent.key.startswith("reconciliation.work")


def test_super_users_of_other_functions_are_not_listed(sales_rep, super_user):
    panel = build_help_panel(viewer=sales_rep, key="reconciliation.order.late_ship")
    assert panel.super_users == []


def test_faq_from_answer_is_listed_once(sales_rep, payments_community):
    key = "reconciliation.order.short_payment"
    source = answered("Customer paid short, what now?", payments_community, key)
    other = answered("Customer paid twice?", payments_community, key)
    entry = faq("Customer paid short, what now?", key)
    entry.source_answer = source.accepted_answer
    entry.save()

    panel = build_help_panel(viewer=sales_rep, key=key)

    assert [item.pk for item in panel.faq_entries] == [entry.pk]
    assert [question.pk for question in panel.answered_questions] == [other.pk]


def test_faq_on_wider_level_keeps_question(sales_rep, payments_community):
    """A question stays when its FAQ entry is cut to a nearer level's entries."""
    key = "reconciliation.order.short_payment"
    source = answered("Customer paid short, what now?", payments_community, key)
    wider = faq("Customer paid short, what now?", "reconciliation.order")
    wider.source_answer = source.accepted_answer
    wider.save()
    nearer = faq("How do I chase a short payment?", key)

    panel = build_help_panel(viewer=sales_rep, key=key)

    assert [item.pk for item in panel.faq_entries] == [nearer.pk]
    assert [question.pk for question in panel.answered_questions] == [source.pk]


def test_customer_sees_only_customer_visible_content(customer, super_user):
    faq("Internal", "portal.order")
    public = faq("Public", "portal.order", customer_visible=True)
    document("Internal doc", "portal.order")
    public_doc = document("Public doc", "portal.order", customer_visible=True)

    panel = build_help_panel(viewer=customer, key="portal.order")

    assert [entry.pk for entry in panel.faq_entries] == [public.pk]
    assert [item.pk for item in panel.documents] == [public_doc.pk]
    assert panel.super_users == []


class TestHelpEndpoint:
    url = "/api/assist/help"

    def test_returns_ranked_json(self, sales_rep, super_user, settings):
        settings.COMMONPLACE_BASE_URL = "https://learn.example.com"
        entry = faq("Specific", "reconciliation.order.short_payment")
        doc = document("Guide", "reconciliation.order")

        response = signed_in(sales_rep).get(
            self.url, {"context": "reconciliation.order.short_payment"}
        )

        assert response.status_code == 200
        body = response.json()
        assert body["context"] == {
            "key": "reconciliation.order.short_payment",
            "title": "Short payment",
        }
        assert body["matched_context"]["key"] == "reconciliation.order.short_payment"
        assert body["fell_back"] is False
        assert body["crm_function"] == "payments"
        assert body["faq_entries"] == [
            {
                "id": entry.pk,
                "question": "Specific",
                "answer_html": "<p>Answer to Specific</p>",
                "url": f"https://learn.example.com/questions/faq/{entry.pk}/",
                "context": "reconciliation.order.short_payment",
                "held": False,
            }
        ]
        assert body["documents"][0]["id"] == doc.pk
        assert body["documents"][0]["context"] == "reconciliation.order"
        assert body["super_users"] == [
            {
                "username": "petra",
                "name": "Petra Tester",
                "title": "",
                "available": False,
            }
        ]

    def test_every_url_is_absolute(self, sales_rep, payments_community, settings):
        settings.COMMONPLACE_BASE_URL = "https://learn.example.com/help"
        entry = faq("Linked", "reconciliation.order.short_payment")
        entry.answer_html = (
            '<p>See <a href="/tags/shortpayment/" class="hashtag">#shortpayment</a>, '
            '<a href="https://bank.example.org/fees">fees</a> and '
            '<img src="/media/chart.png" alt="chart"></p>'
        )
        entry.save()
        doc = document("Guide", "reconciliation.order")
        question = answered("Paid short?", payments_community, "reconciliation.order")

        body = (
            signed_in(sales_rep)
            .get(self.url, {"context": "reconciliation.order.short_payment"})
            .json()
        )

        base = "https://learn.example.com/help"
        assert body["faq_entries"][0]["url"] == f"{base}/questions/faq/{entry.pk}/"
        assert body["faq_entries"][0]["answer_html"] == (
            f'<p>See <a href="{base}/tags/shortpayment/" class="hashtag">'
            '#shortpayment</a>, <a href="https://bank.example.org/fees">fees</a> '
            f'and <img src="{base}/media/chart.png" alt="chart"></p>'
        )
        assert body["documents"][0]["url"] == f"{base}/library/{doc.pk}/"
        assert body["answered_questions"][0]["url"] == (
            f"{base}/questions/{question.pk}/"
        )

    def test_urls_use_request_host_without_base_url(self, sales_rep, settings):
        settings.COMMONPLACE_BASE_URL = ""
        entry = faq("Plain", "reconciliation.order.short_payment")

        body = (
            signed_in(sales_rep)
            .get(self.url, {"context": "reconciliation.order.short_payment"})
            .json()
        )

        assert body["faq_entries"][0]["url"] == (
            f"http://testserver/questions/faq/{entry.pk}/"
        )

    def test_missing_context_is_named(self, sales_rep):
        response = signed_in(sales_rep).get(self.url)

        assert response.status_code == 422
        assert response.json() == {
            "detail": "Missing query parameter 'context': send the help context "
            "key of the screen, e.g. ?context=reconciliation.order."
        }

    @pytest.mark.parametrize(
        "key",
        [
            "reconciliation.order.short_payment",
            "reconciliation.order.late_ship",
            "portal.case",
        ],
    )
    def test_body_is_what_the_schema_writes(self, sales_rep, super_user, key):
        # The body is built from dicts, so pydantic must read it as HelpOut
        # and write it back byte for byte. The texts need JSON escapes.
        faq('Émile\'s "refund" <b>\\ \n\t\x01 \u2028 😀', "reconciliation.order")
        document("Guide ✓ / </script>", "reconciliation.order.short_payment")

        response = signed_in(sales_rep).get(self.url, {"context": key})

        assert response.status_code == 200
        body = response.content.decode()
        assert HelpOut.model_validate_json(body).model_dump_json() == body

    def test_unknown_context_is_404_naming_the_key(self, sales_rep):
        response = signed_in(sales_rep).get(self.url, {"context": "billing.nope"})
        assert response.status_code == 404
        assert response.json() == {
            "detail": "Unknown help context 'billing.nope': use a key a CRM screen "
            "declares, such as 'reconciliation.order'."
        }

    def test_anonymous_gets_401(self, db):
        response = Client().get(self.url, {"context": "reconciliation.order"})
        assert response.status_code == 401

    def test_query_count_does_not_grow_with_content(
        self, sales_rep, super_user, django_assert_num_queries
    ):
        for index in range(3):
            faq(f"Question {index}", "reconciliation.order.short_payment")
            document(f"Doc {index}", "reconciliation.order")
        client = signed_in(sales_rep)
        params = {"context": "reconciliation.order.short_payment"}
        # session, user, help version, then the context chain, one census of
        # the FAQ entries' and documents' levels and the super-users (sent
        # together), and one read of the rows of both lists and of the
        # answered questions, to fill the cache
        with django_assert_num_queries(7):
            client.get(self.url, params)

        for index in range(3, 12):
            faq(f"Question {index}", "reconciliation.order.short_payment")
            document(f"Doc {index}", "reconciliation.order")
        with django_assert_num_queries(7):
            response = client.get(self.url, params)
        assert len(response.json()["faq_entries"]) == 5

    def test_cached_panel_costs_three_queries(
        self, sales_rep, super_user, django_assert_num_queries
    ):
        faq("Cached", "reconciliation.order.short_payment")
        client = signed_in(sales_rep)
        params = {"context": "reconciliation.order.short_payment"}
        client.get(self.url, params)
        # session, user, help version
        with django_assert_num_queries(3):
            response = client.get(self.url, params)
        assert [item["question"] for item in response.json()["faq_entries"]] == [
            "Cached"
        ]


class TestHelpCache:
    key = "reconciliation.order.short_payment"

    def questions(self, person, key: str = "") -> list[str]:
        panel = build_help_panel(viewer=person, key=key or self.key)
        return [entry.question for entry in panel.faq_entries]

    def test_new_entry_shows_at_once(self, sales_rep):
        assert self.questions(sales_rep) == []
        faq("New", self.key)
        assert self.questions(sales_rep) == ["New"]

    def test_edit_and_delete_show_at_once(self, sales_rep):
        entry = faq("Old wording", self.key)
        assert self.questions(sales_rep) == ["Old wording"]
        entry.question = "New wording"
        entry.save()
        assert self.questions(sales_rep) == ["New wording"]
        entry.delete()
        assert self.questions(sales_rep) == []

    def test_retagging_shows_at_once(self, sales_rep):
        entry = faq("Moved", self.key)
        assert self.questions(sales_rep) == ["Moved"]
        entry.contexts.set(
            HelpContext.objects.filter(key="reconciliation.order.late_ship")
        )
        assert self.questions(sales_rep) == []

    def test_hiding_from_customers_shows_at_once(self, customer):
        entry = faq("Public", "portal.order", customer_visible=True)
        assert self.questions(customer, "portal.order") == ["Public"]
        entry.customer_visible = False
        entry.save()
        assert self.questions(customer, "portal.order") == []

    def test_audiences_are_cached_apart(self, sales_rep, customer):
        faq("Internal", "portal.order")
        assert self.questions(sales_rep, "portal.order") == ["Internal"]
        assert self.questions(customer, "portal.order") == []

    def test_new_super_user_shows_at_once(self, sales_rep, payments):
        from conftest import make_person

        assert build_help_panel(viewer=sales_rep, key=self.key).super_users == []
        person = make_person("newbie", Role.FINANCE_CLERK)
        from accounts.models import SuperUserAssignment

        SuperUserAssignment.objects.create(person=person, crm_function=payments)
        names = [
            p.username
            for p in build_help_panel(viewer=sales_rep, key=self.key).super_users
        ]
        assert names == ["newbie"]

    def test_sign_in_does_not_invalidate(self, sales_rep, super_user):
        from assist.caching import current_help_version

        before = current_help_version()
        Client().login(username="petra", password="correct-horse-battery")
        assert current_help_version() == before


def test_openapi_document_lists_help_endpoint(sales_rep):
    response = signed_in(sales_rep).get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/assist/help" in document["paths"]
    parameters = document["paths"]["/api/assist/help"]["get"]["parameters"]
    assert [parameter["name"] for parameter in parameters] == ["context"]


def test_openapi_marks_context_required(sales_rep):
    document = signed_in(sales_rep).get("/api/openapi.json").json()
    (parameter,) = document["paths"]["/api/assist/help"]["get"]["parameters"]
    assert parameter["name"] == "context"
    assert parameter["in"] == "query"
    assert parameter["required"] is True
    assert parameter["schema"]["type"] == "string"
