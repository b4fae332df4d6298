"""The demo's help content: internal help on staff screens, customer help on the portal."""

import pytest

from answers.models import FaqEntry
from assist.contexts import DECLARED_KEYS
from assist.selectors import build_help_panel
from demo.knowledge import DOCUMENT_SEEDS, FAQ_SEEDS, create_content
from library.models import Document

pytestmark = pytest.mark.django_db

PORTAL_KEYS = ("portal", "portal.order", "portal.statement", "portal.problem")


def test_seed_contexts_are_declared():
    for seed in (*FAQ_SEEDS, *DOCUMENT_SEEDS):
        for key in seed.contexts:
            assert key in DECLARED_KEYS, (seed, key)


def test_customer_seeds_only_on_portal_screens():
    for seed in (*FAQ_SEEDS, *DOCUMENT_SEEDS):
        on_portal = [key.split(".")[0] == "portal" for key in seed.contexts]
        if seed.customer_visible:
            assert all(on_portal), seed
        else:
            assert not any(on_portal), seed


def test_staff_panel_on_short_payment_is_internal(sales_rep, facilitator):
    create_content(author=facilitator)

    panel = build_help_panel(viewer=sales_rep, key="reconciliation.order.short_payment")

    faq = FaqEntry.objects.filter(pk__in=[item.pk for item in panel.faq_entries])
    documents = Document.objects.filter(pk__in=[item.pk for item in panel.documents])
    # Each list keeps its nearest level only, so the order page's entries
    # and the root's overview stay off a short-payment screen.
    assert [item.question for item in panel.faq_entries] == [
        "Why does an invoice paid one cent short close by itself?",
    ]
    assert [item.title for item in panel.documents] == [
        "Short payments: deduction, fee or dispute?",
    ]
    assert not faq.filter(customer_visible=True).exists()
    assert not documents.filter(customer_visible=True).exists()


@pytest.mark.parametrize("key", PORTAL_KEYS)
def test_customer_panel_on_portal_has_faq(customer, facilitator, key):
    create_content(author=facilitator)

    panel = build_help_panel(viewer=customer, key=key)

    faq = FaqEntry.objects.filter(pk__in=[item.pk for item in panel.faq_entries])
    assert panel.faq_entries, key
    assert not faq.filter(customer_visible=False).exists()


def test_customer_statement_panel_lists_statement_help(customer, facilitator):
    create_content(author=facilitator)

    panel = build_help_panel(viewer=customer, key="portal.statement")

    assert [item.question for item in panel.faq_entries] == [
        "My statement still shows an amount I have paid. Why?",
    ]
    assert [item.title for item in panel.documents] == [
        "Your orders, deliveries and invoices"
    ]


def test_customer_case_panel_has_faq(customer, facilitator):
    create_content(author=facilitator)

    panel = build_help_panel(viewer=customer, key="portal.case")

    assert [item.question for item in panel.faq_entries] == [
        "What happens after I report a problem?",
    ]
