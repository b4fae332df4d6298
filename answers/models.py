"""Questions, answers, their comments and votes, and the FAQ curated from them.

Questions live in a community and are visible exactly when it is. FAQ
entries keep links to the answers, comments and posts they were made from,
and carry the review state their owners (the CRM function's super-users)
work from. Uniqueness and counters are enforced by the database.
"""

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models import TimeStampedModel
from core.querysets import SignalledUpdateQuerySet


class Question(TimeStampedModel):
    class RecordKind(models.TextChoices):
        """The kinds of CRM record a question asked from a screen can be about."""

        ORDER = "order", "Order"
        PAYMENT = "payment", "Payment"
        INVOICE = "invoice", "Invoice"
        VENDOR_BILL = "vendor_bill", "Vendor bill"
        PURCHASE_ORDER = "purchase_order", "Purchase order"

    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="questions"
    )
    context = models.ForeignKey(
        "assist.HelpContext",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questions",
    )
    # Copied from the context chain (or the community's only CRM function) when
    # the question is asked, so a function's unanswered list is one filter.
    crm_function = models.ForeignKey(
        "accounts.CrmFunction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The record the asker was looking at: its kind and its number, both
    # empty for a question about no record. Readers who may not see the
    # record are shown neither (``assist.records``).
    record_kind = models.CharField(max_length=20, choices=RecordKind, blank=True)
    record_ref = models.CharField(max_length=80, blank=True)
    customer = models.ForeignKey(
        "reconciliation.Party",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=(
            "Set when a customer account asks: among customer accounts, only "
            "this customer company's contacts see the question."
        ),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    hashtags = models.ManyToManyField(
        "social.Hashtag", blank=True, related_name="questions"
    )
    accepted_answer = models.OneToOneField(
        "Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The accepted answer's score, copied by database triggers (migration
    # 0007) whenever either changes, so the help panel's index can order
    # answered questions by it. The application never writes it. On SQLite,
    # a migration that rebuilds this table or answers_answer drops the
    # triggers and must create them again.
    accepted_score = models.IntegerField(null=True, blank=True, editable=False)
    # A duplicate points at its original, which is never a duplicate itself.
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # ``update()`` sends ``rows_updating``, so FAQ entries made from the
    # changed rows narrow with them (``answers.receivers``).
    objects = SignalledUpdateQuerySet["Question"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["crm_function", "created_at", "id"],
                name="question_function_oldest",
            ),
            # The help panel's answered questions of one context, best first.
            models.Index(
                fields=["context", "-accepted_score", "-created_at", "id"],
                name="question_context_best_answer",
                condition=models.Q(accepted_answer__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(duplicate_of=models.F("id")),
                name="question_not_duplicate_of_itself",
            ),
            models.CheckConstraint(
                condition=models.Q(duplicate_of__isnull=True)
                | models.Q(closed_at__isnull=False),
                name="question_duplicate_has_closed_at",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of_id is not None


class Answer(TimeStampedModel):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="answers"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    edited_at = models.DateTimeField(null=True, blank=True)
    # A deleted answer keeps its row as a tombstone, so its comments and the
    # FAQ entry's link stay in place. The old text is kept as a revision.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Up votes minus down votes, changed with F() in the transaction that
    # writes the vote, under a lock on this row.
    score = models.IntegerField(default=0)

    # ``update()`` sends ``rows_updating``, so FAQ entries made from the
    # changed rows narrow with them (``answers.receivers``).
    objects = SignalledUpdateQuerySet["Answer"].as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Answer {self.pk} to question {self.question_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class AnswerRevision(models.Model):
    """The text an answer had before one edit or its deletion."""

    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, related_name="revisions"
    )
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_by_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Revision {self.pk} of answer {self.answer_id}"


class AnswerVote(models.Model):
    """One person's up (+1) or down (-1) vote on one answer."""

    class Value(models.IntegerChoices):
        UP = 1, "Up"
        DOWN = -1, "Down"

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="votes")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    value = models.SmallIntegerField(choices=Value.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "person"], name="answer_vote_once_per_person"
            ),
            models.CheckConstraint(
                condition=models.Q(value__in=[1, -1]), name="answer_vote_value_known"
            ),
        ]

    def __str__(self) -> str:
        return f"Vote {self.value:+d} on answer {self.answer_id}"


class QuestionComment(TimeStampedModel):
    """A short comment on a question, or on one of its answers if ``answer`` is set."""

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="comments"
    )
    answer = models.ForeignKey(
        Answer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="comments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["question", "created_at", "id"])]

    def __str__(self) -> str:
        return f"Comment {self.pk} on question {self.question_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class FaqEntry(TimeStampedModel):
    class ReviewFlag(models.TextChoices):
        NONE = "", "None"
        SOURCE_EDITED = "source_edited", "Its accepted answer was edited"
        SOURCE_DELETED = "source_deleted", "Its accepted answer was deleted"
        SOURCE_UNACCEPTED = "source_unaccepted", "Its answer is no longer accepted"
        SOURCE_NARROWED = "source_narrowed", "A source moved to a narrower audience"
        SOURCE_WITHDRAWN = "source_withdrawn", "A source post or comment was deleted"

    question = models.CharField(max_length=200)
    answer = models.TextField(help_text="Markdown.")
    answer_html = models.TextField()
    crm_function = models.ForeignKey(
        "accounts.CrmFunction", null=True, blank=True, on_delete=models.PROTECT
    )
    contexts = models.ManyToManyField(
        "assist.HelpContext", blank=True, related_name="faq_entries"
    )
    customer_visible = models.BooleanField(
        default=False, help_text="Whether customer accounts may read it."
    )
    # Set in the transaction that deleted a source or moved it to an audience
    # narrower than every employee (see ``answers.services.faq_audience``).
    # It overrides ``customer_visible`` and only an owner's review clears it.
    owners_only = models.BooleanField(
        default=False,
        help_text=(
            "Whether only its owners may read it, because a source was deleted "
            "or moved to a private community."
        ),
    )
    # Who it is written for: it ranks first in their help panels, and
    # everyone who may read it still finds it.
    learner_groups = models.ManyToManyField(
        "accounts.LearnerGroup",
        blank=True,
        related_name="+",
        help_text="The learner groups it is written for; none means everyone.",
    )
    source_answer = models.OneToOneField(
        Answer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="faq_entry",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    helpful_count = models.PositiveIntegerField(default=0)
    # Review state. Dates are local dates in the company's timezone.
    last_reviewed_on = models.DateField(null=True, blank=True)
    # The moment of the last review, which a release's ``takes_effect_at`` is
    # compared with, so a release recorded later on the review's day counts.
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    review_due_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_flag = models.CharField(
        max_length=20, choices=ReviewFlag.choices, default="", blank=True
    )

    class Meta:
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"
        ordering = ["question"]
        indexes = [
            models.Index(
                fields=["crm_function", "review_due_on"], name="faq_function_due"
            ),
            # The help panel's order within a context level.
            models.Index(
                fields=["-helpful_count", "-updated_at", "id"], name="faq_most_helpful"
            ),
            # Search reads the held entries a viewer may not read on every
            # query. Not a partial index: SQLite uses one only when the query
            # repeats its condition as a literal, and the ORM binds booleans.
            models.Index(
                fields=["owners_only", "crm_function"],
                name="faq_held_for_owners",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    review_flag__in=[
                        "",
                        "source_edited",
                        "source_deleted",
                        "source_unaccepted",
                        "source_narrowed",
                        "source_withdrawn",
                    ]
                ),
                name="faq_review_flag_known",
            ),
        ]

    def __str__(self) -> str:
        return self.question


class FaqSource(models.Model):
    """One thing an FAQ entry was made from: exactly one answer, comment or post.

    The link keeps the exact id. Whether a reader sees the source is decided
    when the entry page is shown, from the source's own visibility rule.
    """

    class Kind(models.TextChoices):
        ANSWER = "answer", "Accepted answer"
        COMMENT = "comment", "Comment"
        POST = "post", "Post"

    entry = models.ForeignKey(
        FaqEntry, on_delete=models.CASCADE, related_name="sources"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    answer = models.ForeignKey(
        Answer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    comment = models.ForeignKey(
        "social.Comment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    post = models.ForeignKey(
        "social.Post", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="answer",
                        answer__isnull=False,
                        comment__isnull=True,
                        post__isnull=True,
                    )
                    | models.Q(
                        kind="comment",
                        answer__isnull=True,
                        comment__isnull=False,
                        post__isnull=True,
                    )
                    | models.Q(
                        kind="post",
                        answer__isnull=True,
                        comment__isnull=True,
                        post__isnull=False,
                    )
                ),
                name="faq_source_exactly_one",
            ),
            models.UniqueConstraint(
                fields=["entry", "answer"],
                condition=models.Q(answer__isnull=False),
                name="faq_source_answer_once",
            ),
            models.UniqueConstraint(
                fields=["entry", "comment"],
                condition=models.Q(comment__isnull=False),
                name="faq_source_comment_once",
            ),
            models.UniqueConstraint(
                fields=["entry", "post"],
                condition=models.Q(post__isnull=False),
                name="faq_source_post_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} source of FAQ entry {self.entry_id}"


def local_day_start(day: datetime.date) -> datetime.datetime:
    """Return midnight at the start of ``day`` in the company's timezone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def release_takes_effect_at(
    released_on: datetime.date, recorded_at: datetime.datetime
) -> datetime.datetime:
    """Return the moment a release dated ``released_on`` changed its screens.

    A release has a date but no time. Recorded on its own day, it counts from
    the moment it was recorded, so a review earlier that day is out of date.
    Recorded later, it counts from the end of its day, because a review on
    that day may predate it. Recorded in advance, it counts from the start of
    its day.
    """
    start = local_day_start(released_on)
    end = local_day_start(released_on + datetime.timedelta(days=1))
    return max(start, min(recorded_at, end))


class ReleaseNote(TimeStampedModel):
    """A CRM release, entered by a learning facilitator, and the screens it changed."""

    title = models.CharField(max_length=200)
    released_on = models.DateField()
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The moment from which the release changed its screens: FAQ entries
    # reviewed before it need review (``release_takes_effect_at``).
    takes_effect_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-released_on", "-id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.takes_effect_at = release_takes_effect_at(
            self.released_on, self.created_at or timezone.now()
        )
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.title} ({self.released_on})"


class ScreenChange(models.Model):
    """A screen (help context) that a release changed.

    FAQ entries on this context or on one of its ancestors need review when
    the release is dated after their last review.
    """

    release = models.ForeignKey(
        ReleaseNote, on_delete=models.CASCADE, related_name="changes"
    )
    context = models.ForeignKey(
        "assist.HelpContext", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "context"], name="screen_change_once_per_release"
            )
        ]

    def __str__(self) -> str:
        return f"{self.context_id} changed in release {self.release_id}"
