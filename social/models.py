"""Posts in communities and the hashtags parsed from them."""

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class Hashtag(models.Model):
    """A tag; ``name`` is the normalized key, ``display_name`` the first spelling."""

    name = models.CharField(max_length=100, unique=True)
    display_name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"#{self.display_name}"


class Post(TimeStampedModel):
    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="posts"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    hashtags = models.ManyToManyField(Hashtag, blank=True, related_name="posts")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "-created_at", "-id"])]

    def __str__(self) -> str:
        return f"Post {self.pk} by {self.author_name}"
