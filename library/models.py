"""Library documents tagged with the CRM contexts they help with."""

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class Document(TimeStampedModel):
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300)
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    crm_function = models.ForeignKey(
        "accounts.CrmFunction", null=True, blank=True, on_delete=models.PROTECT
    )
    contexts = models.ManyToManyField(
        "assist.HelpContext", blank=True, related_name="documents"
    )
    customer_visible = models.BooleanField(
        default=False, help_text="Whether customer accounts may read it."
    )
    helpful_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
