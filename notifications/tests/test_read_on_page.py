"""Opening a notification's page by any route marks the reader's own one read.

An e-mail link, a bookmark or a typed address reaches the page without the
notification list, and the unread count must still drop.
"""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from answers.services import create_question, post_answer
from communities.membership import remove_member
from communities.models import Membership
from conftest import make_person
from core.testing import signed_in
from notifications.context_processors import unread_notifications
from notifications.models import Notification
from notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def kim(private_community):
    kim = make_person("kim", Role.SALES_REP, group="sales")
    Membership.objects.create(community=private_community, person=kim)
    return kim


@pytest.fixture
def lee(private_community):
    lee = make_person("lee", Role.SALES_REP, group="sales")
    Membership.objects.create(community=private_community, person=lee)
    return lee


@pytest.fixture
def question(kim, private_community):
    return create_question(
        author=kim, community=private_community, title="Floor price for ALFKI?"
    )


def notify_about(question, *people) -> None:
    notify(
        recipients=people,
        kind=Notification.Kind.QUESTION_ESCALATED,
        actor=None,
        message=f"Nobody answered yet: {question.title}",
        url=f"/questions/{question.pk}/",
        subject_key=f"question-escalated:{question.pk}",
    )


def unread(person) -> int:
    return Notification.objects.filter(recipient=person, read_at__isnull=True).count()


def test_opening_page_marks_only_readers_own(kim, lee, question):
    notify_about(question, kim, lee)

    page = signed_in(kim).get(f"/questions/{question.pk}/")

    assert page.status_code == 200
    assert b'data-testid="unread-count"' not in page.content
    assert unread(kim) == 0
    assert unread(lee) == 1


def test_answer_link_with_fragment_is_marked(kim, question, facilitator):
    post_answer(author=facilitator, question=question, body="Ask Fran.")
    answered = Notification.objects.get(recipient=kim)
    assert "#" in answered.url

    signed_in(kim).get(f"/questions/{question.pk}/")

    answered.refresh_from_db()
    assert answered.read_at is not None


def test_other_pages_leave_notification_unread(kim, question, private_community):
    notify_about(question, kim)
    other = create_question(
        author=kim, community=private_community, title="Another question"
    )

    page = signed_in(kim).get(f"/questions/{other.pk}/")

    assert b'data-testid="unread-count">1<' in page.content
    assert unread(kim) == 1


def test_longer_id_is_another_page(kim, question):
    notify(
        recipients=[kim],
        kind=Notification.Kind.QUESTION_ESCALATED,
        actor=None,
        message="Nobody answered yet",
        url=f"/questions/{question.pk}0/",
        subject_key=f"question-escalated:{question.pk}",
    )

    signed_in(kim).get(f"/questions/{question.pk}/")

    assert unread(kim) == 1


def test_hidden_subject_stays_unread(
    kim, lee, question, private_community, facilitator
):
    notify_about(question, kim, lee)
    remove_member(actor=facilitator, community=private_community, member=kim)

    page = signed_in(kim).get(f"/questions/{question.pk}/")

    assert page.status_code == 404
    escalated = Notification.objects.get(
        recipient=kim, kind=Notification.Kind.QUESTION_ESCALATED
    )
    assert escalated.read_at is None


def test_post_request_marks_nothing(kim, question):
    notify_about(question, kim)
    request = RequestFactory().post(f"/questions/{question.pk}/")
    request.user = kim

    count = unread_notifications(request)["unread_notification_count"]()

    assert count == 1
    assert unread(kim) == 1


def test_badge_costs_one_query_elsewhere(kim, question):
    notify_about(question, kim)
    request = RequestFactory().get("/")
    request.user = kim
    count = unread_notifications(request)["unread_notification_count"]

    with CaptureQueriesContext(connection) as queries:
        badge = count()

    assert badge == 1
    assert len(queries) == 1


def test_address_with_nul_is_only_counted(kim, question):
    # PostgreSQL rejects NUL in a text parameter, so comparing such an
    # address with the notifications' links gave a 500 there.
    notify_about(question, kim)
    request = RequestFactory().get(f"/questions/{question.pk}/\x00/")
    request.user = kim

    with CaptureQueriesContext(connection) as queries:
        count = unread_notifications(request)["unread_notification_count"]()

    assert count == 1
    assert unread(kim) == 1
    assert "\x00" not in str([query["sql"] for query in queries])
