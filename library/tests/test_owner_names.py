"""Owner and uploader names on library pages follow who the viewer may see.

A customer sees the name of a staff member only when that person chose to
be visible to customers, the rule of ``accounts.selectors.visible_people``.
"""

import pytest

from accounts.models import Role
from conftest import make_person
from library.models import DocumentFile
from library.tests.conftest import make_item, signed_in

pytestmark = pytest.mark.django_db

HIDDEN_NAME = "Quirinus Hiddenstaff"
SHOWN_NAME = "Vera Shownstaff"


def staff(username: str, name: str, *, visible: bool):
    person = make_person(username, Role.SALES_REP, group="sales")
    person.first_name, person.last_name = name.split()
    person.visible_to_customers = visible
    person.save()
    return person


@pytest.fixture
def hidden(db):
    return staff("quirinus", HIDDEN_NAME, visible=False)


@pytest.fixture
def shown(db):
    return staff("vera", SHOWN_NAME, visible=True)


def add_version(document, uploader) -> DocumentFile:
    return DocumentFile.objects.create(
        document=document,
        number=1,
        file="library/test/guide.pdf",
        original_name="guide.pdf",
        size=10,
        sha256="0" * 64,
        content_type="application/pdf",
        uploaded_by=uploader,
    )


def test_list_hides_hidden_owner_from_customer(customer, hidden, shown):
    make_item(hidden, "Returns guide", customer_visible=True)
    make_item(shown, "Credit guide", customer_visible=True)

    page = signed_in(customer).get("/library/").content.decode()

    assert "Returns guide" in page
    assert HIDDEN_NAME not in page
    assert SHOWN_NAME in page


def test_detail_hides_hidden_uploader_from_customer(customer, hidden, shown):
    hidden_item = make_item(
        hidden, "Returns guide", customer_visible=True, kind="document"
    )
    add_version(hidden_item, hidden)
    shown_item = make_item(
        shown, "Credit guide", customer_visible=True, kind="document"
    )
    add_version(shown_item, shown)

    hidden_page = signed_in(customer).get(f"/library/{hidden_item.pk}/")
    shown_page = signed_in(customer).get(f"/library/{shown_item.pk}/")

    assert hidden_page.status_code == 200
    assert "guide.pdf" in hidden_page.content.decode()
    assert HIDDEN_NAME not in hidden_page.content.decode()
    assert f"by {SHOWN_NAME}" in shown_page.content.decode()


def test_employee_sees_hidden_owner_named(outsider, hidden):
    item = make_item(hidden, "Returns guide", customer_visible=True, kind="document")
    add_version(item, hidden)

    list_page = signed_in(outsider).get("/library/").content.decode()
    detail_page = signed_in(outsider).get(f"/library/{item.pk}/").content.decode()

    assert HIDDEN_NAME in list_page
    assert f"by {HIDDEN_NAME}" in detail_page
