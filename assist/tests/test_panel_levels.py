"""The help panel lists only what fits the screen, and labels general help.

The content is the demo's, as Fiona (finance clerk) met it: an FAQ entry
about order lines on the order context, one about one-cent short payments
on the order and the short-payment contexts, a short-payment guide, and an
overview on the root context. On a short-payment case the panel lists the
short-payment entries only. On cash application, where nothing is written,
it lists the overview under a note that calls it general.
"""

import re

import pytest
from django.test import Client

from accounts.models import Role
from answers.models import FaqEntry
from assist.models import HelpContext
from assist.selectors import build_help_panel, compute_help_panel
from conftest import make_person
from library.models import Document

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"
CASH = "reconciliation.work.cash"
ORDER_LINES = "Which columns on the order lines should I check first?"
ONE_CENT = "Why does an invoice paid one cent short close by itself?"
SHORT_GUIDE = "Short payments: deduction, fee or dispute?"
OVERVIEW = "Order reconciliation in five minutes"


def tagged(item, *keys: str) -> None:
    item.contexts.set(HelpContext.objects.filter(key__in=keys))


@pytest.fixture
def fiona(db):
    return make_person("fiona", Role.FINANCE_CLERK, group="operations")


@pytest.fixture
def content(db) -> None:
    lines = FaqEntry.objects.create(question=ORDER_LINES, answer_html="<p>Lines</p>")
    tagged(lines, "reconciliation.order")
    cent = FaqEntry.objects.create(question=ONE_CENT, answer_html="<p>Cent</p>")
    tagged(cent, "reconciliation.order", SHORT_PAYMENT)
    guide = Document.objects.create(title=SHORT_GUIDE, summary="Read the remittance")
    tagged(guide, SHORT_PAYMENT)
    overview = Document.objects.create(title=OVERVIEW, summary="The four checks")
    tagged(overview, "reconciliation")


def panel_html(person, key: str) -> str:
    client = Client()
    client.force_login(person)
    response = client.get("/assist/panel/", {"context": key})
    assert response.status_code == 200
    return response.content.decode()


def notes(html: str) -> list[str]:
    found = re.findall(r'<p class="muted" data-testid="general-note">(.*?)</p>', html)
    return [" ".join(note.split()) for note in found]


def test_case_panel_lists_only_its_level(content, fiona):
    html = panel_html(fiona, SHORT_PAYMENT)

    assert ONE_CENT in html
    assert SHORT_GUIDE in html
    assert ORDER_LINES not in html
    assert OVERVIEW not in html
    assert notes(html) == []


def test_cash_panel_labels_general_help(content, fiona):
    html = panel_html(fiona, CASH)

    assert OVERVIEW in html
    assert "No FAQ entries for this screen yet." in html
    assert notes(html) == [
        "Nothing written for cash application yet. General documents for "
        "order reconciliation:"
    ]


def test_each_list_falls_back_alone(fiona):
    lines = FaqEntry.objects.create(question=ORDER_LINES, answer_html="<p>Lines</p>")
    tagged(lines, "reconciliation.order")
    guide = Document.objects.create(title=SHORT_GUIDE, summary="Read the remittance")
    tagged(guide, SHORT_PAYMENT)

    html = panel_html(fiona, SHORT_PAYMENT)

    assert ORDER_LINES in html
    assert notes(html) == [
        "Nothing written for short payment yet. General entries for order:"
    ]


def test_json_lists_only_nearest_level(content, fiona):
    client = Client()
    client.force_login(fiona)

    body = client.get("/api/assist/help", {"context": SHORT_PAYMENT}).json()

    assert [entry["question"] for entry in body["faq_entries"]] == [ONE_CENT]
    assert [document["title"] for document in body["documents"]] == [SHORT_GUIDE]


def test_ranking_still_reads_every_level(content, fiona):
    ranked = compute_help_panel(viewer=fiona, key=SHORT_PAYMENT)
    shown = build_help_panel(viewer=fiona, key=SHORT_PAYMENT)

    assert [entry.question for entry in ranked.faq_entries] == [ONE_CENT, ORDER_LINES]
    assert [entry.question for entry in shown.faq_entries] == [ONE_CENT]
