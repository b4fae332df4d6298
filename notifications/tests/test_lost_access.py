"""Notifications whose subject the recipient can no longer open show no title.

The stored message stays as it was. The list and the e-mail check the
subject with its object's visibility rule each time they show it.
"""

from decimal import Decimal

import pytest

from accounts.models import Role
from answers.models import FaqEntry, Question
from answers.services import create_question, post_answer
from communities.membership import remove_member
from communities.models import Membership
from conftest import make_person
from core.testing import signed_in
from notifications.models import Notification
from notifications.services import notify
from notifications.tasks import build_notification_email
from reconciliation.models import Approval
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_order
from social.models import Post

pytestmark = pytest.mark.django_db

TITLE = "Floor price for the ALFKI renewal"
QUESTION_HIDDEN = "A question you can no longer open"


def list_page(person) -> str:
    return signed_in(person).get("/notifications/").content.decode()


@pytest.fixture
def kim(private_community):
    kim = make_person("kim", Role.SALES_REP, group="sales")
    Membership.objects.create(community=private_community, person=kim)
    return kim


@pytest.fixture
def answered(kim, private_community, facilitator) -> Notification:
    question = create_question(author=kim, community=private_community, title=TITLE)
    post_answer(author=facilitator, question=question, body="Ask Fran.")
    return Notification.objects.get(recipient=kim, kind=Notification.Kind.ANSWER_POSTED)


def test_member_reads_private_title(kim, answered):
    page = list_page(kim)

    assert f"answered your question: {TITLE}" in page
    assert QUESTION_HIDDEN not in page


def test_removed_member_gets_neutral_text(
    kim, answered, private_community, facilitator
):
    remove_member(actor=facilitator, community=private_community, member=kim)

    # The badge counts hidden subjects too. Read it before the list, which
    # marks what it shows read.
    home = signed_in(kim).get("/").content.decode()
    page = list_page(kim)

    assert 'data-testid="unread-count">2<' in home
    assert TITLE not in page
    assert QUESTION_HIDDEN in page
    assert "You were removed from Pricing internal." in page
    answered.refresh_from_db()
    assert TITLE in answered.message


def test_removed_member_email_has_no_title(
    kim, answered, private_community, facilitator
):
    remove_member(actor=facilitator, community=private_community, member=kim)

    email = build_notification_email(answered)

    assert email.subject == f"New answer: {QUESTION_HIDDEN}"
    assert TITLE not in email.body
    assert f"\n\n{QUESTION_HIDDEN}\n\n" in email.body


def test_deleted_question_gets_neutral_text(kim, answered):
    Question.objects.filter(title=TITLE).delete()

    page = list_page(kim)
    assert TITLE not in page
    assert QUESTION_HIDDEN in page


def test_post_in_left_community_gets_neutral_text(kim, private_community, sales_rep):
    post = Post.objects.create(
        community=private_community,
        author=sales_rep,
        author_name=sales_rep.display_name,
        body=TITLE,
        body_html=f"<p>{TITLE}</p>",
    )
    notify(
        recipients=[kim],
        kind=Notification.Kind.MENTIONED,
        actor=sales_rep,
        message=f"Sally Tester mentioned you: {TITLE}",
        url=f"/posts/{post.pk}/",
        subject_key=f"post:{post.pk}",
    )
    assert TITLE in list_page(kim)

    Membership.objects.filter(community=private_community, person=kim).delete()

    page = list_page(kim)
    assert TITLE not in page
    assert "A post you can no longer open" in page


@pytest.mark.parametrize(
    "subject_key", ["faq:{pk}", "faq-review:9999"], ids=["faq", "faq-review"]
)
def test_faq_hidden_from_customer_gets_neutral_text(customer, subject_key):
    entry = FaqEntry.objects.create(
        question=TITLE, answer="x", answer_html="<p>x</p>", customer_visible=True
    )
    notify(
        recipients=[customer],
        kind=Notification.Kind.FAQ_PROMOTED,
        actor=None,
        message=f"An answer is now in the FAQ: {TITLE}",
        url=f"/questions/faq/{entry.pk}/",
        subject_key=subject_key.format(pk=entry.pk),
    )
    assert TITLE in list_page(customer)

    FaqEntry.objects.filter(pk=entry.pk).update(customer_visible=False)

    page = list_page(customer)
    assert TITLE not in page
    assert "An FAQ entry you can no longer open" in page


@pytest.mark.parametrize("number", ["", "x", "\u00b2", "12abc"])
def test_malformed_subject_number_gets_neutral_text(kim, number):
    # notify writes no row for a subject it cannot find, so the row is stored
    # directly, as an older release or a shell could have left it.
    Notification.objects.create(
        recipient=kim,
        kind=Notification.Kind.QUESTION_ROUTED,
        message=f"Someone asked: {TITLE}",
        url="/questions/",
        subject_key=f"question:{number}",
    )

    page = list_page(kim)

    assert TITLE not in page
    assert QUESTION_HIDDEN in page


def test_approval_after_role_change_gets_neutral_text(customer_party, sales_rep):
    manager = make_person("mia", Role.MANAGER)
    order = create_order(company=customer_party.company, customer=customer_party)
    case = make_case(order)
    approval = Approval.objects.create(
        case=case,
        amount=Decimal("83.63"),
        currency_id=order.currency_id,
        requested_by=sales_rep,
        request_reason="Short payment",
    )
    notify(
        recipients=[manager],
        kind=Notification.Kind.APPROVAL_REQUESTED,
        actor=sales_rep,
        message=f"Sally Tester asks you to approve a write-off on case {case.pk}.",
        url=f"/reconciliation/cases/{case.pk}/",
        subject_key=f"approval:{approval.pk}:requested",
    )
    assert f"write-off on case {case.pk}" in list_page(manager)

    manager.role = Role.HR
    manager.save(update_fields=["role"])

    page = list_page(manager)
    assert f"write-off on case {case.pk}" not in page
    assert "A case you can no longer open" in page
