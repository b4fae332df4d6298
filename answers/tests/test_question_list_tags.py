"""The question list shows each tag as it was first spelled, not its key.

``sally`` (``sales_rep``) asks in the open "Payments" community, and
``otto`` (``outsider``) reads the list.
"""

import pytest

from answers.services import create_question

pytestmark = pytest.mark.django_db


def test_list_shows_tag_spelling(signed_in, sales_rep, outsider, payments_community):
    create_question(
        author=sales_rep,
        community=payments_community,
        title="Where is the #Übersetzung glossary for #ＣＡＭＴ files",
    )

    page = signed_in(outsider).get("/questions/").content.decode()

    assert ">#Übersetzung</a>" in page
    assert ">#ＣＡＭＴ</a>" in page
    assert ">#übersetzung</a>" not in page
    assert ">#camt</a>" not in page
