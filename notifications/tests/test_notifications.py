"""In-app notifications: one per event, only the recipient's own, read on open."""

import pytest

from answers.models import Question
from core.testing import signed_in
from notifications.models import Notification
from notifications.services import mark_shown_read, notify

pytestmark = pytest.mark.django_db


def test_same_event_notifies_once(sales_rep, super_user, question):
    for _ in range(2):
        notify(
            recipients=[super_user],
            kind=Notification.Kind.QUESTION_ROUTED,
            actor=sales_rep,
            message="Sally asked: why?",
            url=f"/questions/{question.pk}/",
            subject_key=f"question:{question.pk}",
        )
    assert Notification.objects.filter(recipient=super_user).count() == 1


def test_actor_is_not_notified_of_own_event(sales_rep):
    notify(
        recipients=[sales_rep],
        kind=Notification.Kind.ANSWER_POSTED,
        actor=sales_rep,
        message="x",
        url="/",
        subject_key="answer:1",
    )
    assert Notification.objects.count() == 0


@pytest.fixture
def question(sales_rep, payments_community) -> Question:
    return Question.objects.create(
        community=payments_community,
        author=sales_rep,
        author_name=sales_rep.display_name,
        title="why?",
    )


@pytest.fixture
def routed(sales_rep, super_user, question):
    notify(
        recipients=[super_user],
        kind=Notification.Kind.QUESTION_ROUTED,
        actor=sales_rep,
        message="Sally asked: why?",
        url=f"/questions/{question.pk}/",
        subject_key=f"question:{question.pk}",
    )
    return Notification.objects.get()


def test_badge_shows_unread_count(routed, super_user):
    response = signed_in(super_user).get("/")
    assert b'data-testid="unread-count">1<' in response.content


def test_list_marks_shown_read(routed, super_user):
    client = signed_in(super_user)

    listed = client.get("/notifications/")

    page = listed.content.decode()
    assert "Sally asked: why?" in page
    assert 'class="unread" data-testid="notification"' in page
    assert 'data-testid="unread-count"' not in page
    routed.refresh_from_db()
    assert routed.read_at is not None
    assert b'data-testid="unread-count"' not in client.get("/").content


def test_list_leaves_unshown_unread(sales_rep, super_user, question):
    for index in range(3):
        notify(
            recipients=[super_user],
            kind=Notification.Kind.QUESTION_ROUTED,
            actor=sales_rep,
            message=f"Sally asked: why {index}?",
            url=f"/questions/{question.pk}/",
            subject_key=f"question:{question.pk}:{index}",
        )
    oldest = Notification.objects.order_by("created_at", "pk").first()
    shown = list(Notification.objects.exclude(pk=oldest.pk))

    marked = mark_shown_read(recipient=super_user, notifications=shown)

    assert marked == 2
    oldest.refresh_from_db()
    assert oldest.read_at is None


def test_badge_clears_after_opening(routed, super_user):
    client = signed_in(super_user)

    client.post(f"/notifications/{routed.pk}/open/")

    assert b'data-testid="unread-count"' not in client.get("/").content


def test_opening_marks_read_and_redirects(routed, super_user, question):
    response = signed_in(super_user).post(f"/notifications/{routed.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/questions/{question.pk}/"
    routed.refresh_from_db()
    assert routed.read_at is not None


def test_others_cannot_open_or_see_it(routed, outsider):
    client = signed_in(outsider)
    assert client.post(f"/notifications/{routed.pk}/open/").status_code == 404
    assert b"Sally asked" not in client.get("/notifications/").content
    routed.refresh_from_db()
    assert routed.read_at is None


def test_read_all(routed, super_user):
    response = signed_in(super_user).post("/notifications/read-all/")
    assert response.status_code == 302
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
