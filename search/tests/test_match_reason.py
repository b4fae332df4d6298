"""A hit that matched only through its screens or tags shows why, not its file names."""

import pytest

from assist.models import HelpContext
from library.models import Document, DocumentFile
from search.indexing import reindex_all
from search.selectors import search


@pytest.fixture
def short_payment_screen(db):
    screen, _ = HelpContext.objects.get_or_create(
        key="reconciliation.order.short_payment", defaults={"title": "Short payment"}
    )
    return screen


@pytest.fixture
def guide(facilitator, short_payment_screen, library_tag):
    """A customer-visible PDF guide for the short-payment screen, tagged C#."""
    document = Document.objects.create(
        title="Remittance guide zebrafinch",
        summary="PDF guide",
        body="",
        body_html="",
        owner=facilitator,
        customer_visible=True,
    )
    for number, name in ((1, "guide.pdf"), (2, "guide-v2.pdf")):
        DocumentFile.objects.create(
            document=document,
            number=number,
            file=f"library/1/v{number}/x",
            original_name=name,
            size=10,
            sha256=str(number) * 64,
            content_type="application/pdf",
        )
    document.contexts.add(short_payment_screen)
    library_tag(document, "C#", "c#")
    reindex_all(sources=["library"])
    return document


def _snippet(person, text):
    results = search(person, text)
    assert len(results.hits) == 1
    return str(results.hits[0].snippet_html)


def test_screen_match_names_screen(guide, outsider):
    assert _snippet(outsider, "short payment") == "Matched its screen: Short payment"


def test_screen_prefix_match_names_screen(guide, outsider):
    assert _snippet(outsider, "shor*") == "Matched its screen: Short payment"


def test_customer_hears_no_internal_screen(guide, customer):
    assert _snippet(customer, "short payment") == "Matched a CRM screen it covers."


def test_tag_match_names_tags(guide, outsider):
    assert _snippet(outsider, "C#") == "Matched its tags: c#"


def test_text_match_keeps_marked_snippet(guide, outsider):
    assert "<mark>guide</mark>" in _snippet(outsider, "guide")


def test_title_match_keeps_text_snippet(guide, outsider):
    assert _snippet(outsider, "zebrafinch") == "PDF guide guide-v2.pdf guide.pdf"
