"""The "New community" page names the value that is wrong and keeps the rest.

An empty, whitespace-only or too-long name or purpose gets a message that
says what to do, and nothing is created.
"""

import pytest

from communities.models import Community
from core.testing import signed_in

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Cash application",
    "purpose": "For clerks who apply payments.",
    "visibility": Community.Visibility.OPEN,
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "name",
            "   ",
            "The community name is empty: give it a name people will recognise.",
        ),
        (
            "name",
            "N" * 121,
            "The community name has 121 characters; shorten it to 120 or fewer.",
        ),
        (
            "purpose",
            " \n ",
            "The purpose is empty: say in a sentence what the community is for.",
        ),
        (
            "purpose",
            "P" * 1_001,
            "The purpose has 1001 characters; shorten it to 1000 or fewer.",
        ),
    ],
)
def test_bad_value_is_named_and_typed_text_kept(outsider, field, value, message):
    data = {**VALID, field: value}

    response = signed_in(outsider).post("/communities/new/", data)

    page = response.content.decode()
    assert response.status_code == 422
    assert message in page
    kept = "purpose" if field == "name" else "name"
    assert VALID[kept] in page
    assert Community.objects.filter(name__startswith="Cash").count() == 0
    assert not Community.objects.filter(slug="cash-application").exists()
