"""Resolve @mentions, enforce the mention limits, and notify mentioned people.

Mentions come from ``render_markdown``, which skips code, link text and
block quotes. A mentioned person is notified only when they may see the
text, once per post, comment, question, answer or Q&A comment, and an edit
notifies only people the earlier text did not already notify. Posts,
comments and Q&A share these rules: the group names, the cap, the
per-author rate limit (one count over all of them) and the messages.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.authors import shown_name
from accounts.models import CrmFunction, LearnerGroup, User
from core.text import fold_case
from notifications.models import Notification
from notifications.services import notify
from social.models import Comment, Mention, Post
from social.selectors import visible_posts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MentionTarget:
    """The post a mention lives in, and the comment when it is in one."""

    post: Post
    comment: Comment | None = None

    @property
    def subject_key(self) -> str:
        if self.comment is not None:
            return f"comment:{self.comment.pk}"
        return f"post:{self.post.pk}"

    @property
    def url(self) -> str:
        if self.comment is not None:
            return f"/posts/{self.post.pk}/comments/{self.comment.pk}/"
        return f"/posts/{self.post.pk}/"


@dataclass(frozen=True)
class SubjectMentionTarget:
    """A Q&A text a mention lives in, and who may read it.

    ``subject_key`` is the notification's ("question:12", "answer:5",
    "qa-comment:7"); ``can_see`` is the one visibility rule of the question.
    """

    subject_key: str
    url: str
    can_see: Callable[[User], bool]


# Names people type to reach a whole group. A person with such a username is
# mentioned as that person; otherwise the name is rejected, never dropped.
GROUP_MENTION_NAMES = frozenset(
    {"all", "everyone", "here", "channel", "team", "staff", "employees"}
    | {"all-employees", "all_employees", "customers", "all-customers"}
)


def _group_names(names: set[str]) -> list[str]:
    """Return the names in ``names`` that name a group rather than a person."""
    if not names:
        return []
    variants = {name.replace("-", "_") for name in names} | names
    groups = set(
        LearnerGroup.objects.filter(slug__in=variants).values_list("slug", flat=True)
    ) | set(
        CrmFunction.objects.filter(slug__in=variants).values_list("slug", flat=True)
    )
    return sorted(
        name
        for name in names
        if name in GROUP_MENTION_NAMES or name.replace("-", "_") in groups
    )


def resolve_mentions(usernames: list[str]) -> list[User]:
    """Return the active people named by ``usernames``, matched case-insensitively.

    Raise ValidationError for a name that is a group (``@all-employees``,
    a learner group or a CRM function) and no person's username: there are
    no group mentions, and silently notifying nobody would mislead the author.
    """
    if not usernames:
        return []
    people: list[User] = list(
        User.objects.listed()
        .filter(
            username_key__in={fold_case(name) for name in usernames}, is_active=True
        )
        .order_by("username_key")
    )
    found = {person.username_key for person in people}
    groups = _group_names(
        {name.lower() for name in usernames if fold_case(name) not in found}
    )
    if groups:
        named = ", ".join(f"@{name}" for name in groups)
        what = "names a group, not a person" if len(groups) == 1 else "name groups"
        raise ValidationError(
            f"{named} {what}, and group mentions are not "
            "supported, so nobody would be notified. Mention people by username "
            f"(at most {settings.SOCIAL_MAX_MENTIONS}), or ask an executive or a "
            "learning facilitator to publish an announcement."
        )
    return people


def check_mention_cap(people: list[User], *, text_kind: str) -> None:
    """Reject text that mentions more distinct people than the configured cap."""
    limit = settings.SOCIAL_MAX_MENTIONS
    if len(people) > limit:
        raise ValidationError(
            f"The {text_kind} mentions {len(people)} people; the limit is {limit}. "
            "Mention fewer people, or post in a community they belong to."
        )


def _check_rate_limit(author: User, new_count: int) -> None:
    """Reject mentions that would take ``author`` past the per-window limit.

    The caller holds a lock on the author's row, so two concurrent writes by
    one author cannot both pass the check with the same count.
    """
    limit = settings.SOCIAL_MENTION_RATE_LIMIT
    minutes = settings.SOCIAL_MENTION_RATE_WINDOW_MINUTES
    since = timezone.now() - timedelta(minutes=minutes)
    recent = Mention.objects.filter(author=author, created_at__gte=since).count()
    if recent + new_count > limit:
        logger.warning(
            "mention rate limit reached: author=%s recent=%s new=%s limit=%s",
            author.pk,
            recent,
            new_count,
            limit,
        )
        raise ValidationError(
            f"You have mentioned {recent} people in the last {minutes} minutes "
            f"and this would add {new_count}; the limit is {limit}. Wait before "
            "mentioning more people, or remove some mentions."
        )


def _people_who_see(post: Post, people: list[User]) -> list[User]:
    # NOTE: one query per person; the mention cap bounds the count.
    return [
        person for person in people if visible_posts(person).filter(pk=post.pk).exists()
    ]


def _mention_row(
    target: MentionTarget | SubjectMentionTarget, person: User, author: User
) -> Mention:
    if isinstance(target, MentionTarget):
        return Mention(
            post=target.post, comment=target.comment, person=person, author=author
        )
    return Mention(subject_key=target.subject_key, person=person, author=author)


def notify_new_mentions(
    *,
    author: User,
    target: MentionTarget | SubjectMentionTarget,
    people: list[User],
    message: Callable[[str], str],
) -> list[User]:
    """Record and notify the people in ``people`` not yet notified for ``target``.

    Call it inside the write's transaction, after ``check_mention_cap``.
    ``message`` makes the text from the author's name as each person may
    read it (``shown_name``: a customer reads a hidden staff member's role).
    Returns the people notified now.
    """
    if isinstance(target, MentionTarget):
        already = Mention.objects.filter(post=target.post, comment=target.comment)
    else:
        already = Mention.objects.filter(
            post__isnull=True, subject_key=target.subject_key
        )
    already_ids = set(already.values_list("person_id", flat=True))
    candidates = [
        person
        for person in people
        if person.pk not in already_ids and person.pk != author.pk
    ]
    if isinstance(target, MentionTarget):
        new_people = _people_who_see(target.post, candidates)
    else:
        # NOTE: one query per person; the mention cap bounds the count.
        new_people = [person for person in candidates if target.can_see(person)]
    if not new_people:
        return []

    User.objects.select_for_update().filter(pk=author.pk).first()
    _check_rate_limit(author, len(new_people))
    Mention.objects.bulk_create(
        [_mention_row(target, person, author) for person in new_people],
        ignore_conflicts=True,
    )
    # NOTE: one query per customer account; the mention cap bounds the count.
    by_name: dict[str, list[User]] = {}
    for person in new_people:
        by_name.setdefault(shown_name(person, author), []).append(person)
    for name, recipients in by_name.items():
        notify(
            recipients=recipients,
            kind=Notification.Kind.MENTIONED,
            actor=author,
            message=message(name),
            url=target.url,
            subject_key=target.subject_key,
        )
    logger.info(
        "mentions notified: subject=%s author=%s people=%s",
        target.subject_key,
        author.pk,
        len(new_people),
    )
    return new_people
