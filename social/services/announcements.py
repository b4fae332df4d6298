"""Mark announcements read, so they leave the top of a reader's feed."""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from social.models import AnnouncementRead, Post

logger = logging.getLogger(__name__)


def mark_announcement_read(*, person: User, post: Post) -> bool:
    """Record that ``person`` read the announcement; return whether it was new.

    The caller checks that ``person`` may see ``post``. A second read, or two
    racing ones, leave one row, held by the unique constraint. Reads are not
    audited: they change what one person sees, nothing anyone else reads.
    """
    if post.kind != Post.Kind.ANNOUNCEMENT:
        raise ValidationError("Only announcements are marked read.")
    try:
        with transaction.atomic():
            AnnouncementRead.objects.create(person=person, post=post)
    except IntegrityError:
        return False
    logger.info("announcement read: post=%s person=%s", post.pk, person.pk)
    return True
