"""One FAQ entry per post or comment: find it, and reject a second one.

An accepted answer becomes one FAQ entry (``FaqEntry.source_answer``). A
post or a comment follows the same rule: once an entry was made from it,
the pages link that entry in place of "Make FAQ entry", and a second entry
from it is rejected with a message that names the first. When the entry is
deleted its source rows go with it (``FaqSource.entry`` cascades), so the
source may become an entry again.
"""

from django.core.exceptions import ValidationError

from answers.models import FaqSource
from social.models import Comment, Post


class AlreadyInFaqError(ValidationError):
    """A post or comment that is a source of an FAQ entry already."""

    def __init__(self, source: Post | Comment, entry_id: int) -> None:
        kind = "comment" if isinstance(source, Comment) else "post"
        super().__init__(
            f"This {kind} is already FAQ entry {entry_id} "
            f"(/questions/faq/{entry_id}/): open that entry and edit it "
            "instead of making a second one."
        )
        self.entry_id = entry_id


def faq_entry_id_of(source: Post | Comment) -> int | None:
    """Return the id of the first FAQ entry made from ``source``, or None."""
    rows = FaqSource.objects.filter(
        **{"comment" if isinstance(source, Comment) else "post": source}
    )
    return rows.order_by("entry_id").values_list("entry_id", flat=True).first()


def lock_unused_source(source: Post | Comment) -> None:
    """Lock ``source``'s row, then raise if an FAQ entry was made from it.

    The lock makes two curators saving the same source at once wait for
    each other, so the second one sees the first one's entry. Call it inside
    the transaction that saves the new entry.
    """
    model = Comment if isinstance(source, Comment) else Post
    model.objects.select_for_update().filter(pk=source.pk).first()
    entry_id = faq_entry_id_of(source)
    if entry_id is not None:
        raise AlreadyInFaqError(source, entry_id)


def comment_entry_ids(post_id: int) -> dict[int, int]:
    """Map each comment on the post to the first FAQ entry made from it."""
    rows = (
        FaqSource.objects.filter(comment__post_id=post_id)
        .order_by("-entry_id")
        .values_list("comment_id", "entry_id")
    )
    # Newest first, so the first entry of each comment is written last.
    return dict(rows)
