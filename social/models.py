"""Posts in communities, the hashtags parsed from them, and the conversation.

The conversation is comments with one level of replies, reactions,
bookmarks, "helpful" marks, edit history and the mentions that notified
people. Uniqueness and counters are enforced by the database.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

from core.models import TimeStampedModel
from core.querysets import SignalledUpdateQuerySet

# The display name of a tag that people follow but no post has carried yet.
UNSPELLED = ""


class Hashtag(models.Model):
    """A tag; ``name`` is the normalized key, ``display_name`` the first spelling.

    ``display_name`` is ``UNSPELLED`` until a post, comment or question
    carries the tag: a follow may create the row, but only a use sets the
    spelling.
    """

    name = models.CharField(max_length=100, unique=True)
    display_name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"#{self.display_name or self.name}"


class Post(TimeStampedModel):
    """A microblog post, a blog post or an announcement, always in a community.

    The community decides who may read it, whatever its kind, so one
    visibility rule covers every surface. A share points at the post it
    quotes; whether a reader sees the quoted text is checked when the share
    is shown, never copied into the share.
    """

    class Kind(models.TextChoices):
        MICRO = "micro", "Post"
        BLOG = "blog", "Blog post"
        ANNOUNCEMENT = "announcement", "Announcement"

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="posts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MICRO)
    title = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    shared_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shares",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    hashtags = models.ManyToManyField(
        Hashtag, blank=True, related_name="posts", through="PostHashtag"
    )
    edited_at = models.DateTimeField(null=True, blank=True)
    # A deleted post keeps its row as a tombstone, so its comments stay in
    # place. Its body is blanked, and the old text is kept as a revision.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Counters updated with F() in the transaction that adds or removes the
    # row they count. Deleted comments stay in the thread and in the count.
    comment_count = models.PositiveIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    # Lets a page of posts skip the attachment query when none has any.
    attachment_count = models.PositiveSmallIntegerField(default=0)
    # The reactions of each kind, counters like the two above, so a page of
    # posts reads its reaction bars from the post rows instead of counting.
    like_count = models.PositiveIntegerField(default=0)
    celebrate_count = models.PositiveIntegerField(default=0)
    insightful_count = models.PositiveIntegerField(default=0)
    thanks_count = models.PositiveIntegerField(default=0)

    # ``update()`` sends ``rows_updating``, so FAQ entries made from the
    # changed rows narrow with them (``answers.receivers``).
    objects = SignalledUpdateQuerySet["Post"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The feed reads each source's newest posts from these two and
            # tests the trailing columns in the index, with no table lookup.
            models.Index(
                fields=["community", "-created_at", "-id", "deleted_at"],
                name="post_community_newest",
            ),
            models.Index(
                fields=["author", "-created_at", "-id", "community", "deleted_at"],
                name="post_author_newest",
            ),
            models.Index(fields=["-created_at", "-id"], name="post_newest_first"),
            models.Index(
                fields=["kind", "-created_at", "-id"], name="post_kind_newest_first"
            ),
            models.Index(
                fields=[
                    "author",
                    "-helpful_count",
                    "-created_at",
                    "-id",
                    "community",
                    "deleted_at",
                ],
                name="post_author_helpful",
            ),
            models.Index(
                fields=[
                    "community",
                    "-helpful_count",
                    "-created_at",
                    "-id",
                    "deleted_at",
                ],
                name="post_community_helpful",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["micro", "blog", "announcement"]),
                name="post_kind_known",
            ),
            # A deleted post is a tombstone with every text column blank,
            # its title included (``delete_post``).
            models.CheckConstraint(
                condition=models.Q(kind="micro")
                | ~models.Q(title="")
                | models.Q(deleted_at__isnull=False),
                name="post_long_form_has_title",
            ),
            models.CheckConstraint(
                condition=~models.Q(shared_from=models.F("id")),
                name="post_not_shared_from_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} by {self.author_name}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class PostHashtag(models.Model):
    """A post carrying a hashtag, with the post's creation time copied in.

    The copy lets a tag's posts be read newest first from one index, as the
    home feed and the tag page do. A database trigger (migrations 0004 and
    0005) fills ``post_created_at`` and ``post_helpful_count`` from the post
    on every insert, so rows written by ``post.hashtags.set()`` or by a bulk
    loader are right without extra code.

    NOTE: SQLite drops a table's triggers when a migration rebuilds the
    table, so a later migration that alters this table must recreate them.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE)
    post_created_at = models.DateTimeField(null=True, editable=False)
    # Kept equal to the post's helpful_count by a trigger on the post table
    # (migration 0005), for the "most helpful" order of a tag's posts.
    post_helpful_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        db_table = "social_post_hashtags"
        unique_together = [("post", "hashtag")]
        indexes = [
            models.Index(
                fields=["hashtag", "-post_created_at", "-post"],
                name="post_hashtag_newest_first",
            ),
            models.Index(
                fields=["hashtag", "-post_helpful_count", "-post_created_at", "-post"],
                name="post_hashtag_most_helpful",
            ),
        ]

    def __str__(self) -> str:
        return f"Hashtag {self.hashtag_id} on post {self.post_id}"


class Comment(TimeStampedModel):
    """A comment on a post, or a reply to a top-level comment.

    Replies are one level deep: ``parent`` is always a top-level comment.
    Threads are read in ``(coalesce(parent, id), id)`` order, so a top-level
    comment is followed by its replies and pages can be cut anywhere.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    hashtags = models.ManyToManyField(Hashtag, blank=True, related_name="comments")
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    # ``update()`` sends ``rows_updating``, so FAQ entries made from the
    # changed rows narrow with them (``answers.receivers``).
    objects = SignalledUpdateQuerySet["Comment"].as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                "post",
                Coalesce("parent", "id"),
                "id",
                name="comment_thread_order",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")),
                name="comment_not_own_parent",
            )
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on post {self.post_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class PostRevision(models.Model):
    """The text a post had before one edit or its deletion."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    # A blog post's or announcement's heading before the edit; empty for a
    # short post.
    title = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_by_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Revision {self.pk} of post {self.post_id}"


class CommentRevision(models.Model):
    """The text a comment had before one edit or its deletion."""

    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="revisions"
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
        return f"Revision {self.pk} of comment {self.comment_id}"


class Reaction(models.Model):
    class Kind(models.TextChoices):
        LIKE = "like", "Like"
        CELEBRATE = "celebrate", "Celebrate"
        INSIGHTFUL = "insightful", "Insightful"
        THANKS = "thanks", "Thanks"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post", "person", "kind"], name="reaction_once_per_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=["like", "celebrate", "insightful", "thanks"]
                ),
                name="reaction_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on post {self.post_id}"

    @classmethod
    def counter_field(cls, kind: str) -> str:
        """Return the ``Post`` column that counts the reactions of ``kind``."""
        if kind not in cls.Kind.values:
            raise ValueError(f"{kind!r} is not a reaction kind.")
        return f"{kind}_count"


class Bookmark(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "post"], name="bookmark_once_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"Bookmark of post {self.post_id}"


class HelpfulMark(models.Model):
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="helpful_marks"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "post"], name="helpful_once_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"Helpful mark on post {self.post_id}"


class Mention(models.Model):
    """A person notified because a post, a comment or a Q&A text mentions them.

    Rows are the record of who was already notified, so an edit notifies
    only people who are new, and they feed the per-author rate limit. A
    mention in a question, an answer or a Q&A comment has no post; its
    ``subject_key`` names the text ("question:12", "answer:5",
    "qa-comment:7"), as its notification does.
    """

    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions"
    )
    subject_key = models.CharField(max_length=40, blank=True, default="")
    comment = models.ForeignKey(
        Comment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="mentions",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post", "person"],
                condition=models.Q(comment__isnull=True),
                name="mention_once_per_post",
            ),
            models.UniqueConstraint(
                fields=["comment", "person"],
                condition=models.Q(comment__isnull=False),
                name="mention_once_per_comment",
            ),
            models.UniqueConstraint(
                fields=["subject_key", "person"],
                condition=models.Q(post__isnull=True),
                name="mention_once_per_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(post__isnull=False) | ~models.Q(subject_key=""),
                name="mention_has_post_or_subject",
            ),
        ]
        indexes = [models.Index(fields=["author", "created_at"])]

    def __str__(self) -> str:
        where = f"post {self.post_id}" if self.post_id else self.subject_key
        return f"Mention of {self.person_id} in {where}"


class Follow(models.Model):
    """A person following exactly one of: a person, a hashtag, a community.

    Following a community shows its posts in the home feed of a person who
    may read it; following does not grant access, so a private community
    still needs membership.
    """

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followers",
    )
    hashtag = models.ForeignKey(
        Hashtag,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followers",
    )
    community = models.ForeignKey(
        "communities.Community",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followers",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        person__isnull=False,
                        hashtag__isnull=True,
                        community__isnull=True,
                    )
                    | models.Q(
                        person__isnull=True,
                        hashtag__isnull=False,
                        community__isnull=True,
                    )
                    | models.Q(
                        person__isnull=True,
                        hashtag__isnull=True,
                        community__isnull=False,
                    )
                ),
                name="follow_exactly_one_target",
            ),
            models.CheckConstraint(
                condition=~models.Q(person=models.F("follower")),
                name="follow_not_oneself",
            ),
            models.UniqueConstraint(
                fields=["follower", "person"],
                condition=models.Q(person__isnull=False),
                name="follow_person_once",
            ),
            models.UniqueConstraint(
                fields=["follower", "hashtag"],
                condition=models.Q(hashtag__isnull=False),
                name="follow_hashtag_once",
            ),
            models.UniqueConstraint(
                fields=["follower", "community"],
                condition=models.Q(community__isnull=False),
                name="follow_community_once",
            ),
        ]
        indexes = [
            models.Index(fields=["person"], name="follow_by_person"),
            models.Index(fields=["hashtag"], name="follow_by_hashtag"),
        ]

    def __str__(self) -> str:
        return f"Follow {self.pk} by {self.follower_id}"


class AnnouncementRead(models.Model):
    """A person has read an announcement, so it leaves the top of their feed."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reads")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "post"], name="announcement_read_once"
            )
        ]

    def __str__(self) -> str:
        return f"Read of announcement {self.post_id}"


class PostAttachment(models.Model):
    """An image or a file attached to a post, served only to the post's readers.

    The stored name is built from ids and the content's digest, never from
    the uploader's file name, and the type is the one sniffed from the bytes.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField()
    stored_name = models.CharField(max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["post", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "position"], name="attachment_position_once"
            ),
            models.CheckConstraint(
                condition=models.Q(size__gt=0), name="attachment_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"Attachment {self.position} of post {self.post_id}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
