"""The search index, one row per searchable object, and the log of missed queries.

``MissedSearchRepeat`` keeps the short windows in which a repeated miss
is not counted again.

``SearchEntry`` rows are derived data: ``search.indexing`` rewrites an
object's row after every committed change, and ``manage.py reindex``
rebuilds them all. The full-text structures that sit on this table are
engine-specific and are created by migration 0002: an FTS5 table kept in
step by triggers on SQLite, and a trigger-filled ``vector`` column with a
GIN index on PostgreSQL.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from core.lookups import AnyOf


class Kind(models.TextChoices):
    POST = "post", "Post"
    BLOG = "blog", "Blog post"
    QUESTION = "question", "Question"
    ANSWER = "answer", "Answer"
    COMMENT = "comment", "Comment"
    QUESTION_COMMENT = "question_comment", "Q&A comment"
    FAQ = "faq", "FAQ entry"
    LIBRARY = "library", "Library item"
    COMMUNITY = "community", "Community"
    PERSON = "person", "Person"


class SearchEntry(models.Model):
    """One searchable object in index form (see ``search.text.index_form``).

    ``kind`` and ``object_id`` name the source row. The row also carries
    the attributes the visibility rule of its kind reads (see
    ``search.selectors.visibility_rule``): the community, the customer
    company a question belongs to, and whether customer accounts may see it.
    Which communities a viewer may see is decided per request from the
    communities themselves, so a community's visibility is not copied here.
    """

    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.BigIntegerField()
    title = models.TextField()
    # Shown in results when ``title`` is empty; not searched. A microblog
    # post shows the start of its text, a comment the title of its post.
    heading = models.TextField(blank=True, default="")
    body = models.TextField(blank=True)
    # Tag keys and context keys, space-separated, so words in them match.
    tags = models.TextField(blank=True)
    contexts = models.TextField(blank=True)
    community_id = models.BigIntegerField(null=True, blank=True)
    author_id = models.BigIntegerField(null=True, blank=True)
    # A question's (and its answers') customer company; NULL for the rest.
    customer_id = models.BigIntegerField(null=True, blank=True)
    # FAQ entries and library items marked for customers, and people that
    # customer accounts may see; False for every other kind.
    customer_visible = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    # Filled by a database trigger on PostgreSQL; always NULL on SQLite.
    vector = SearchVectorField(null=True, editable=False)
    # A person's name alone, weighted as ``vector`` weights the title, so
    # a search ranks people by name without parsing it for every match.
    # Filled by the same trigger for people only; NULL for every other kind
    # and on SQLite (migration 0009).
    name_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        db_table = "search_entry"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id"], name="search_entry_once_per_object"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "post",
                        "blog",
                        "question",
                        "answer",
                        "comment",
                        "question_comment",
                        "faq",
                        "library",
                        "community",
                        "person",
                    ]
                ),
                name="search_entry_kind_known",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="search_entry_newest"),
            models.Index(fields=["author_id"], name="search_entry_by_author"),
            models.Index(fields=["community_id"], name="search_entry_by_community"),
            # Created on PostgreSQL only (see migration 0002).
            GinIndex(fields=["vector"], name="search_entry_vector_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class SearchLabel(models.Model):
    """A tag key or a context key of an entry, for exact filtering."""

    class Field(models.TextChoices):
        TAG = "tag", "Tag"
        CONTEXT = "context", "Context"

    entry = models.ForeignKey(
        SearchEntry, on_delete=models.CASCADE, related_name="labels"
    )
    field = models.CharField(max_length=10, choices=Field.choices)
    value = models.CharField(max_length=120)

    class Meta:
        db_table = "search_label"
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "field", "value"], name="search_label_once"
            )
        ]
        indexes = [models.Index(fields=["field", "value"], name="search_label_lookup")]

    def __str__(self) -> str:
        return f"{self.field}:{self.value}"


class MissedSearch(models.Model):
    """A query that found nothing, counted per normalized text, context and audience.

    Who searched is deliberately not stored, only whether an employee or a
    customer did, because customers find less and their gaps differ.
    """

    class Audience(models.TextChoices):
        EMPLOYEE = "employee", "Employees"
        CUSTOMER = "customer", "Customers"

    query = models.CharField(max_length=200)
    context_key = models.CharField(max_length=120, blank=True)
    audience = models.CharField(
        max_length=10, choices=Audience.choices, default=Audience.EMPLOYEE
    )
    count = models.PositiveIntegerField(default=1)
    first_searched_at = models.DateTimeField(auto_now_add=True)
    last_searched_at = models.DateTimeField()

    class Meta:
        db_table = "search_missed"
        ordering = ["-count", "-last_searched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["query", "context_key", "audience"], name="search_missed_once"
            )
        ]
        indexes = [models.Index(fields=["-count"], name="search_missed_by_count")]

    def __str__(self) -> str:
        return f"{self.query!r} ({self.count})"


class MissedSearchRepeat(models.Model):
    """A window in which a person's repeat of the same missed search is not counted.

    ``key`` is an HMAC-SHA256 of the searcher's id and the search, keyed by
    ``SECRET_KEY``, so the row names neither. Its primary key makes two
    concurrent inserts of one window count once in every process.
    """

    key = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "search_missed_repeat"

    def __str__(self) -> str:
        return f"{self.key[:12]}... until {self.expires_at:%H:%M:%S}"


# The visibility rule names up to every community and every held FAQ entry
# (search.selectors.visibility_rule).
SearchEntry._meta.get_field("community_id").register_lookup(AnyOf)
SearchEntry._meta.get_field("object_id").register_lookup(AnyOf)
