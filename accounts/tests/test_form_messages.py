"""The profile form names the value that is too long and keeps the typed text."""

import pytest

from core.testing import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "headline",
            "H" * 161,
            "The headline is 161 characters long; the limit is 160: keep it to "
            "one line.",
        ),
        (
            "about",
            "A" * 5_001,
            "The about text has 5001 characters; shorten it to 5000 or fewer.",
        ),
    ],
)
def test_too_long_profile_value_is_named(sales_rep, field, value, message):
    data = {"headline": "Sales lead", "about": "I sell tea.", "skills": ""}
    data[field] = value

    response = signed_in(sales_rep).post(f"/people/{sales_rep.username}/edit/", data)

    page = response.content.decode()
    assert response.status_code == 422
    assert message in page
    assert value in page
    sales_rep.refresh_from_db()
    assert (sales_rep.headline, sales_rep.about) == ("", "")


def test_blank_profile_values_are_stored_empty(sales_rep):
    response = signed_in(sales_rep).post(
        f"/people/{sales_rep.username}/edit/",
        {"headline": "   ", "about": " \n\t ", "skills": "  "},
    )

    assert response.status_code == 302
    sales_rep.refresh_from_db()
    assert (sales_rep.headline, sales_rep.about) == ("", "")
