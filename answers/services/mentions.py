"""@mentions in questions, answers and Q&A comments, with the post rules.

``social.services.mentions`` holds the rules: group names are rejected with
the same message, the same cap and per-author rate limit apply, and only
people who may see the question are notified, once per text. The mention
is checked before anything is written (``checked_mentions``) and notified
after the row exists (``notify_qa_mentions``), in the write's transaction.
"""

from accounts.models import User
from answers.models import Question
from answers.selectors import visible_questions
from core.markdown import Rendered
from social.services.mentions import (
    SubjectMentionTarget,
    check_mention_cap,
    notify_new_mentions,
    resolve_mentions,
)


def checked_mentions(rendered: Rendered, *, text_kind: str) -> list[User]:
    """Return the people ``rendered`` mentions; raise for a group or too many."""
    people = resolve_mentions(rendered.mentions)
    check_mention_cap(people, text_kind=text_kind)
    return people


def notify_qa_mentions(
    *,
    author: User,
    question: Question,
    people: list[User],
    subject_key: str,
    url: str,
    text_kind: str,
) -> list[User]:
    """Notify the people in ``people`` who may see ``question`` and were not yet."""
    if not people:
        return []
    community = question.community.name
    target = SubjectMentionTarget(
        subject_key=subject_key,
        url=url,
        can_see=lambda person: (
            visible_questions(person).filter(pk=question.pk).exists()
        ),
    )
    return notify_new_mentions(
        author=author,
        target=target,
        people=people,
        message=lambda name: f"{name} mentioned you in {text_kind} in {community}.",
    )
