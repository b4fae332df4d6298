"""The load_demo command: loads once, keeps data, prints one account per role."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role, SuperUserAssignment, User
from answers.models import FaqEntry, Question
from assist.services import ask_from_context
from communities.models import Community
from imports.models import BankStatementLine
from library.models import Document
from notifications.models import Notification
from reconciliation.models import (
    Discrepancy,
    GoodsReceiptLine,
    PurchaseOrder,
    SalesOrder,
    VendorBillLine,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    """Write the sample bank export under the test's folder, not var/."""
    settings.VAR_DIR = tmp_path


def run_load_demo(*args: str) -> str:
    output = StringIO()
    call_command("load_demo", *args, stdout=output)
    return output.getvalue()


def demo_row_counts() -> dict[str, int]:
    return {
        "sales orders": SalesOrder.objects.count(),
        "users": User.objects.count(),
        "FAQ entries": FaqEntry.objects.count(),
        "documents": Document.objects.count(),
        "communities": Community.objects.count(),
        "purchase orders": PurchaseOrder.objects.count(),
        "goods receipt lines": GoodsReceiptLine.objects.count(),
        "vendor bill lines": VendorBillLine.objects.count(),
        "cases": Discrepancy.objects.count(),
    }


@override_settings(DEBUG=True)
def test_loads_company_and_knowledge_once():
    first = run_load_demo()
    counts = demo_row_counts()
    second = run_load_demo()

    assert "Loading Company X from the Northwind orders, moved to " in first
    assert "Company X is already loaded; existing data is kept." in second
    assert counts["sales orders"] == 830
    assert counts["purchase orders"] == 36
    assert demo_row_counts() == counts


@override_settings(DEBUG=True)
def test_prints_one_account_per_role_and_the_order_to_open():
    output = run_load_demo()

    assert "Demo accounts (password for all: commonplace-demo):" in output
    for _, label in Role.choices:
        assert f"  {label}" in output
    assert "  Sales representative       margaret" in output
    assert "  Operations/finance clerk   paula" in output
    assert "  Operations/finance clerk   fiona" in output
    assert "  Operations/finance clerk   amir" in output
    assert "  Customer                   wandk" in output
    assert (
        "Try it: sign in at /accounts/login/ as margaret and open order SO-10348, "
        "whose customer paid short: /reconciliation/orders/SO-10348/"
    ) in output


@override_settings(DEBUG=True)
def test_base_url_makes_full_links():
    output = run_load_demo("--base-url", "http://127.0.0.1:8123/")
    assert "sign in at http://127.0.0.1:8123/accounts/login/ as margaret" in output
    assert "http://127.0.0.1:8123/reconciliation/orders/SO-10348/" in output


@override_settings(DEBUG=True)
def test_super_users_moderate_their_function_community():
    run_load_demo()
    community = Community.objects.get(slug="payments")
    roles = dict(community.memberships.values_list("person__username", "role"))
    moderators = [name for name, role in roles.items() if role == "moderator"]
    assert moderators == ["paula"]


@override_settings(DEBUG=True)
def test_seeds_communities_per_function_and_group():
    run_load_demo()
    visibility = dict(Community.objects.values_list("slug", "visibility"))
    assert visibility == {
        "order-entry": "open",
        "fulfilment": "open",
        "invoicing": "open",
        "payments": "open",
        "disputes": "open",
        "group-sales": "open",
        "group-operations": "open",
        "group-warehouse": "open",
        "group-customer-service": "open",
        "group-customers": "customer",
    }
    named = sorted(
        SuperUserAssignment.objects.values_list(
            "crm_function__slug", "person__username"
        )
    )
    assert named == [
        ("disputes", "margaret"),
        ("fulfilment", "walter"),
        ("invoicing", "fiona"),
        ("order_entry", "janet"),
        ("payments", "paula"),
    ]
    for function in ("order_entry", "fulfilment", "invoicing", "payments", "disputes"):
        assert FaqEntry.objects.filter(crm_function__slug=function).exists()
        assert Document.objects.filter(crm_function__slug=function).exists()


@override_settings(DEBUG=True)
def test_customers_are_members_of_the_customer_community():
    run_load_demo()
    community = Community.objects.get(slug="group-customers")
    assert community.memberships.filter(person__role=Role.CUSTOMER).count() == 91


@override_settings(DEBUG=False)
def test_refuses_without_debug():
    with pytest.raises(CommandError, match="DEBUG is off"):
        run_load_demo()
    assert SalesOrder.objects.count() == 0


@override_settings(DEBUG=False)
def test_allow_production_overrides():
    run_load_demo("--allow-production")
    assert SalesOrder.objects.count() == 830


@override_settings(DEBUG=True)
def test_seeds_a_conversation_for_the_home_feed():
    from social.feed import home_feed
    from social.models import Follow, Post

    run_load_demo()
    kinds = sorted(Post.objects.values_list("kind", flat=True))
    assert kinds == ["announcement", "blog", "micro", "micro", "micro"]
    assert Follow.objects.count() == 6

    # margaret follows #shortpayment and paula, and belongs to the customer
    # community; the announcement is pinned until she reads it.
    page = home_feed(
        User.objects.get(username="margaret"), cursor=None, sort="newest", limit=20
    )
    assert [post.title for post in page.pinned] == ["Help is now on every order screen"]
    assert sorted(post.author.username for post in page.posts) == [
        "lena",
        "margaret",
        "paula",
    ]

    # The customer contact sees the customer community post, nothing internal.
    customer_page = home_feed(
        User.objects.get(username="wandk"), cursor=None, sort="newest", limit=20
    )
    assert customer_page.pinned == []
    assert [post.author.username for post in customer_page.posts] == ["margaret"]

    run_load_demo()
    assert Post.objects.count() == 5


@override_settings(DEBUG=True)
def test_employees_join_their_function_communities():
    run_load_demo()

    payments = Community.objects.get(slug="payments")
    roles = dict(payments.memberships.values_list("person__username", "role"))
    assert roles["paula"] == "moderator"
    assert roles["fiona"] == "member"
    assert "andrew" in roles
    assert "margaret" not in roles
    assert "walter" not in roles
    assert not payments.memberships.filter(person__customer__isnull=False).exists()
    fulfilment = Community.objects.get(slug="fulfilment")
    assert sorted(
        fulfilment.memberships.values_list("person__username", flat=True)
    ) == [
        "sam",
        "walter",
    ]
    assert sorted(
        User.objects.get(username="margaret").crm_functions.values_list(
            "slug", flat=True
        )
    ) == ["disputes", "order_entry"]


@override_settings(DEBUG=True)
def test_unanswered_demo_question_reaches_members():
    run_load_demo()
    question = ask_from_context(
        asker=User.objects.get(username="margaret"),
        context_key="reconciliation.order.short_payment",
        title="Who approves a write-off above the tolerance?",
        body="",
    )
    Question.objects.filter(pk=question.pk).update(
        created_at=timezone.now() - timedelta(minutes=121)
    )

    output = StringIO()
    call_command("escalate_questions", stdout=output)

    assert output.getvalue() == "Escalated 1 question(s).\n"
    notified = Notification.objects.filter(
        subject_key=f"question-escalated:{question.pk}"
    )
    usernames = sorted(notified.values_list("recipient__username", flat=True))
    # The payments community's members who work in payments, without its
    # super-user paula, who was notified when the question was asked.
    assert usernames == ["andrew", "fiona", "steven"]
    assert not notified.filter(recipient__customer__isnull=False).exists()


@override_settings(DEBUG=True)
def test_as_of_writes_bank_export(tmp_path):
    output = run_load_demo("--as-of", "2027-03-15")

    assert "moved to 2027-03-15" in output
    statement = BankStatementLine.objects.get()
    assert statement.booking_date == date(2027, 3, 15)
    export = tmp_path / "demo" / "bank-export-2027-03-15.csv"
    assert f"fiona can import {export} through the source" in output
    assert export.read_text().splitlines()[1:] == [
        "TX-20270315-01,03/15/2027,USD,1342.95,INV-11063",
        "TX-20270315-02,03/15/2027,USD,928.75,INV-11066",
    ]
    export.unlink()

    again = run_load_demo()

    assert "already loaded" in again
    # The file follows the day the demo was loaded as of, not today.
    assert export.exists()


@override_settings(DEBUG=True)
def test_as_of_names_a_bad_day():
    with pytest.raises(CommandError, match=r"--as-of '15/03/2027' is not a date"):
        run_load_demo("--as-of", "15/03/2027")
    assert not SalesOrder.objects.exists()
