"""Questions, answers and the FAQ entries curated from them."""

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class Question(TimeStampedModel):
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
    # What the asker was looking at, e.g. the order number.
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
    accepted_answer = models.OneToOneField(
        "Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


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

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Answer {self.pk} to question {self.question_id}"


class FaqEntry(TimeStampedModel):
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

    class Meta:
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"
        ordering = ["question"]

    def __str__(self) -> str:
        return self.question
