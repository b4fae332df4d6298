"""A ``QuerySet.update()`` of a source's audience narrows its FAQ entries too.

A bulk update sends no model signal, so each source model's queryset
narrows the entries made from the rows it changes, in the transaction of
the UPDATE. Named people: ``outsider`` is an employee in no community,
``customer`` is a customer account, ``super_user`` owns the payments FAQ
and ``sales_rep`` writes the sources.
"""

import pytest
from django.db import transaction
from django.utils import timezone

from answers.models import Answer, FaqEntry, Question
from answers.receivers import SOURCE_CONDITIONS
from answers.selectors import visible_faq_entries
from answers.services import (
    accept_answer,
    create_faq_entry,
    create_question,
    post_answer,
    promote_answer_to_faq,
)
from communities.models import Community
from core.models import AuditEvent
from core.querysets import SignalledUpdateQuerySet
from notifications.models import Notification
from social.models import Comment, Post
from social.services import post_comment, publish_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def from_answer(sales_rep, facilitator, payments_community):
    """An FAQ entry promoted from an accepted answer in the open payments community."""
    question = create_question(
        author=sales_rep, community=payments_community, title="How to book a fee?"
    )
    answer = post_answer(author=facilitator, question=question, body="As a fee.")
    accept_answer(actor=sales_rep, answer=answer)
    return promote_answer_to_faq(actor=facilitator, answer=answer)


@pytest.fixture
def customer_post(sales_rep, customer_community):
    return publish_post(
        author=sales_rep, community=customer_community, body="Statements go monthly."
    )


@pytest.fixture
def from_post(facilitator, payments, customer_post):
    """A customer-visible FAQ entry made from a post in the customer community."""
    return create_faq_entry(
        actor=facilitator,
        source=customer_post,
        question_text="When do statements come?",
        crm_function=payments,
    )


@pytest.fixture
def from_comment(facilitator, payments, sales_rep, customer_post):
    comment = post_comment(author=sales_rep, post=customer_post, body="Monthly.")
    return create_faq_entry(
        actor=facilitator,
        source=comment,
        question_text="How often do statements come?",
        crm_function=payments,
    )


def _held(entry: FaqEntry) -> bool:
    entry.refresh_from_db()
    return entry.owners_only


class TestEachSourceModel:
    def test_post_moved_to_private_community(
        self, from_post, customer_post, private_community, customer
    ):
        Post.objects.filter(pk=customer_post.pk).update(community=private_community)

        assert _held(from_post)
        assert not from_post.customer_visible
        assert from_post.review_flag == FaqEntry.ReviewFlag.SOURCE_NARROWED
        assert not visible_faq_entries(customer).filter(pk=from_post.pk).exists()

    def test_post_deleted(self, from_post, customer_post):
        Post.objects.filter(pk=customer_post.pk).update(deleted_at=timezone.now())

        assert _held(from_post)
        assert from_post.review_flag == FaqEntry.ReviewFlag.SOURCE_WITHDRAWN

    def test_comment_deleted(self, from_comment):
        Comment.objects.all().update(deleted_at=timezone.now())

        assert _held(from_comment)

    def test_community_made_private(
        self, from_answer, from_post, payments_community, outsider
    ):
        Community.objects.filter(pk=payments_community.pk).update(
            visibility=Community.Visibility.PRIVATE
        )

        assert _held(from_answer)
        assert not _held(from_post)
        assert not visible_faq_entries(outsider).filter(pk=from_answer.pk).exists()

    def test_community_no_longer_for_customers(
        self, from_post, customer_community, customer, outsider
    ):
        Community.objects.filter(pk=customer_community.pk).update(
            visibility=Community.Visibility.OPEN
        )

        assert not _held(from_post)
        assert not from_post.customer_visible
        assert not visible_faq_entries(customer).filter(pk=from_post.pk).exists()
        assert visible_faq_entries(outsider).filter(pk=from_post.pk).exists()

    def test_question_moved_to_private_community(self, from_answer, private_community):
        Question.objects.all().update(community=private_community)

        assert _held(from_answer)

    def test_answer_deleted(self, from_answer):
        Answer.objects.filter(pk=from_answer.source_answer_id).update(
            deleted_at=timezone.now()
        )

        assert _held(from_answer)
        assert from_answer.review_flag == FaqEntry.ReviewFlag.SOURCE_DELETED


def test_bulk_update_of_posts_narrows(from_post, customer_post, private_community):
    customer_post.community = private_community
    Post.objects.bulk_update([customer_post], ["community"])

    assert _held(from_post)


def test_narrowing_audited_and_owners_told(
    from_post, customer_post, private_community, super_user
):
    Post.objects.filter(pk=customer_post.pk).update(community=private_community)

    event = AuditEvent.objects.get(action="faq.audience_narrowed")
    assert event.object_id == str(from_post.pk)
    assert event.actor is None
    assert event.after["owners_only"] is True
    notices = Notification.objects.filter(
        recipient=super_user, kind=Notification.Kind.FAQ_NEEDS_REVIEW
    )
    assert notices.count() == 1


def test_actor_recorded_when_given(
    from_post, customer_post, private_community, sales_rep
):
    Post.objects.filter(pk=customer_post.pk).with_actor(sales_rep).update(
        community=private_community
    )

    event = AuditEvent.objects.get(action="faq.audience_narrowed")
    assert event.actor == sales_rep


def test_rollback_undoes_update_and_narrowing(
    from_post, customer_post, private_community
):
    with pytest.raises(RuntimeError), transaction.atomic():
        Post.objects.filter(pk=customer_post.pk).update(community=private_community)
        raise RuntimeError("roll back")

    assert not _held(from_post)
    customer_post.refresh_from_db()
    assert customer_post.community_id != private_community.pk


def test_other_fields_read_no_sources(
    from_post, customer_post, django_assert_num_queries
):
    with django_assert_num_queries(1):
        Post.objects.filter(pk=customer_post.pk).update(comment_count=5)

    assert not _held(from_post)


@pytest.mark.parametrize("model", sorted(SOURCE_CONDITIONS, key=str))
def test_every_source_model_narrows_on_update(model):
    # A model whose manager loses the queryset would update without narrowing.
    assert isinstance(model.objects.all(), SignalledUpdateQuerySet)
    assert isinstance(model._default_manager.all(), SignalledUpdateQuerySet)
