"""Library items tagged with the CRM contexts they help with, and their files.

An item (``Document``) is a Markdown page, an uploaded document, a video, a
demo package or a link. Uploaded content lives in ``DocumentFile`` rows, one
per version, so a new upload keeps the history.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class Kind(models.TextChoices):
    MARKDOWN = "markdown", "Markdown page"
    DOCUMENT = "document", "Document"
    VIDEO = "video", "Video"
    PACKAGE = "package", "Demo package"
    LINK = "link", "Link"


class Document(TimeStampedModel):
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MARKDOWN)
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField()
    url = models.URLField(max_length=500, blank=True, help_text="For links only.")
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
    # Who it is written for. It ranks first in their help panels; everyone
    # who may read it still finds it.
    learner_groups = models.ManyToManyField(
        "accounts.LearnerGroup",
        blank=True,
        related_name="+",
        help_text="The learner groups it is written for; none means everyone.",
    )
    tags = models.ManyToManyField(
        "library.Tag", through="library.DocumentTag", related_name="documents"
    )
    # Storage name of a video's poster image, empty when there is none.
    poster = models.CharField(max_length=300, blank=True)
    poster_type = models.CharField(max_length=40, blank=True)
    helpful_count = models.PositiveIntegerField(default=0)
    # Set when the owner or a curator withdraws the item. A withdrawn item is
    # left out of the library's pages, file routes and the help panel, but its
    # row, versions and audit events stay for the history.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    view_count = models.PositiveBigIntegerField(default=0)
    download_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["title"]
        indexes = [
            # The help panel's order within a context level. ``withdrawn_at``
            # comes last so that a walk of this index checks the panel's
            # rule (not withdrawn) without reading each item's row
            # (docs/benchmarks.md, help, 6 December).
            models.Index(
                fields=["-helpful_count", "-updated_at", "id", "withdrawn_at"],
                name="document_most_helpful",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(helpful_count__gte=0)
                & Q(view_count__gte=0)
                & Q(download_count__gte=0),
                name="library_document_counts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title


def version_storage_name(instance: "DocumentFile", filename: str) -> str:
    """Build the storage name from ids only, so a title or file name cannot steer it."""
    return f"library/{instance.document_id}/v{instance.number}/{instance.sha256}"


class DocumentFile(models.Model):
    """One uploaded version of an item's file."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=version_storage_name, max_length=300)
    # The uploader's file name, cleaned, used only in Content-Disposition.
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The type sniffed from the bytes; the client's MIME type is never stored.
    content_type = models.CharField(max_length=100)
    # Storage prefix of an extracted demo package, empty for other files.
    extracted_prefix = models.CharField(max_length=300, blank=True)
    extracted_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)
    # Set when the version is withdrawn: its file is no longer served or
    # listed, and its number is never given to a later upload.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="library_version_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"


class Tag(models.Model):
    """A tag employees add to items, found by ``key``, the normalized name."""

    name = models.CharField(max_length=80)
    key = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class DocumentTag(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "tag"], name="library_document_tag_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}:{self.tag_id}"


class HelpfulVote(models.Model):
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="helpful_votes"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    voted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "person"], name="library_helpful_vote_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} finds {self.document_id} helpful"
