"""Unit tests of the SQLite FTS5 backend's own helpers.

The PostgreSQL backend has no such helpers, so ``search/tests/conftest.py``
leaves this file out when the suite runs on PostgreSQL; the SQLite run of
the suite runs it.
"""

import pytest

from answers.models import FaqEntry
from search.indexing import reindex_all
from search.models import SearchEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def prefix_entry(db):
    FaqEntry.objects.create(
        question="Reconciling a shipment",
        answer="Reconciliation of shipped lines, then the reconciled total.",
        answer_html="<p>Reconciliation of shipped lines, then the reconciled total.</p>",
    )
    reindex_all(sources=["faq"])


def test_prefix_page_table_marks_like_index(prefix_entry):
    from search.backends.sqlite import _page_rows, _page_rows_with_prefix
    from search.text import HIT_END, HIT_START

    page = list(SearchEntry.objects.values_list("pk", flat=True))
    marks = (HIT_START, HIT_END) * 3
    expression = '("reconcil" *) AND ("ship" *)'
    from_index = _page_rows(page, expression, marks)
    assert len(from_index) == 1
    assert _page_rows_with_prefix(page, expression, marks) == from_index
