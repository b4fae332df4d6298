"""Subjects of notifications that the recipient may no longer be able to open.

A notification's message is written once, when the event happens, and often
contains the subject's title. The recipient may lose access later: removed
from a private community, the question moved or deleted, the role changed.
Every surface that shows a stored message (the notification list and the
e-mail) passes it through ``shown_messages``. That checks the subject with
the one visibility rule of its object. When the recipient may not open the
subject, a neutral text without the title takes the message's place.

The subject comes from ``subject_key`` ("question:12", "comment:7", ...).
FAQ review notices are keyed by their audit event, so their FAQ entry is
read from the URL. Community notices (membership requests, invitations, role
changes, removals) are about the recipient's own membership and name only
the community, so they keep their message. A pin notice is about a post and
is keyed by it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Notification

FAQ_URL = re.compile(r"^/questions/faq/(\d+)/")


@dataclass(frozen=True)
class SubjectRule:
    """How to check one kind of subject, and the text shown when it is hidden."""

    hidden_text: str
    visible_ids: Callable[[User, set[int]], Iterable[int]]


def _questions(viewer: User, ids: set[int]) -> Iterable[int]:
    from answers.selectors import visible_questions

    return visible_questions(viewer).filter(pk__in=ids).values_list("pk", flat=True)


def _answers(viewer: User, ids: set[int]) -> Iterable[int]:
    from answers.models import Answer
    from answers.selectors import visible_questions

    return Answer.objects.filter(
        pk__in=ids, question__in=visible_questions(viewer)
    ).values_list("pk", flat=True)


def _question_comments(viewer: User, ids: set[int]) -> Iterable[int]:
    from answers.models import QuestionComment
    from answers.selectors import visible_questions

    return QuestionComment.objects.filter(
        pk__in=ids, question__in=visible_questions(viewer)
    ).values_list("pk", flat=True)


def _faq_entries(viewer: User, ids: set[int]) -> Iterable[int]:
    from answers.selectors import visible_faq_entries

    return visible_faq_entries(viewer).filter(pk__in=ids).values_list("pk", flat=True)


def _posts(viewer: User, ids: set[int]) -> Iterable[int]:
    from social.selectors import visible_posts

    return visible_posts(viewer).filter(pk__in=ids).values_list("pk", flat=True)


def _comments(viewer: User, ids: set[int]) -> Iterable[int]:
    from social.models import Comment
    from social.selectors import visible_posts

    return Comment.objects.filter(
        pk__in=ids, post__in=visible_posts(viewer)
    ).values_list("pk", flat=True)


def _cases(viewer: User) -> QuerySet[Any, Any]:
    if viewer.is_external:
        from portal.selectors import customer_cases

        return customer_cases(viewer).values("pk")
    from reconciliation.selectors import visible_cases

    return visible_cases(viewer).values("pk")


def _case_ids(viewer: User, ids: set[int]) -> Iterable[int]:
    from reconciliation.models import Discrepancy

    return (
        Discrepancy.objects.filter(pk__in=ids)
        .filter(pk__in=_cases(viewer))
        .values_list("pk", flat=True)
    )


def _approvals(viewer: User, ids: set[int]) -> Iterable[int]:
    from reconciliation.models import Approval

    return Approval.objects.filter(pk__in=ids, case__in=_cases(viewer)).values_list(
        "pk", flat=True
    )


def _proposals(viewer: User, ids: set[int]) -> Iterable[int]:
    from portal.models import ResolutionProposal

    return ResolutionProposal.objects.filter(
        pk__in=ids, case__in=_cases(viewer)
    ).values_list("pk", flat=True)


def _problem_reports(viewer: User, ids: set[int]) -> Iterable[int]:
    from portal.models import ProblemReport

    return ProblemReport.objects.filter(
        pk__in=ids, case__in=_cases(viewer)
    ).values_list("pk", flat=True)


def _shipments(viewer: User, ids: set[int]) -> Iterable[int]:
    from reconciliation.models import Shipment
    from reconciliation.selectors import visible_orders

    return Shipment.objects.filter(
        pk__in=ids, order__in=visible_orders(viewer).values("pk")
    ).values_list("pk", flat=True)


QUESTION_HIDDEN = "A question you can no longer open"
POST_HIDDEN = "A post you can no longer open"
FAQ_HIDDEN = "An FAQ entry you can no longer open"
CASE_HIDDEN = "A case you can no longer open"
SHIPMENT_HIDDEN = "A shipment you can no longer open"

# subject_key prefix -> rule. The number after the prefix is the object's id.
RULES: dict[str, SubjectRule] = {
    "question": SubjectRule(QUESTION_HIDDEN, _questions),
    "question-closed": SubjectRule(QUESTION_HIDDEN, _questions),
    "question-reopened": SubjectRule(QUESTION_HIDDEN, _questions),
    "question-escalated": SubjectRule(QUESTION_HIDDEN, _questions),
    "answer": SubjectRule(QUESTION_HIDDEN, _answers),
    "answer-unaccepted": SubjectRule(QUESTION_HIDDEN, _answers),
    "qa-comment": SubjectRule(QUESTION_HIDDEN, _question_comments),
    "faq": SubjectRule(FAQ_HIDDEN, _faq_entries),
    "post": SubjectRule(POST_HIDDEN, _posts),
    "comment": SubjectRule(POST_HIDDEN, _comments),
    "case": SubjectRule(CASE_HIDDEN, _case_ids),
    "approval": SubjectRule(CASE_HIDDEN, _approvals),
    "proposal": SubjectRule(CASE_HIDDEN, _proposals),
    "problem": SubjectRule(CASE_HIDDEN, _problem_reports),
    "shipment": SubjectRule(SHIPMENT_HIDDEN, _shipments),
}
# Keyed by the audit event, so the FAQ entry's id comes from the URL.
FAQ_REVIEW_PREFIX = "faq-review"


def subject_of(notification: Notification) -> tuple[str, int] | None:
    """Return the rule's prefix and the object's id, or None for community notices."""
    prefix, _, rest = notification.subject_key.partition(":")
    if prefix == FAQ_REVIEW_PREFIX:
        match = FAQ_URL.match(notification.url)
        return ("faq", int(match.group(1))) if match else ("faq", 0)
    if prefix not in RULES:
        return None
    number = rest.partition(":")[0]
    # Only ASCII digits name an id. Anything else names no object.
    if not (number.isascii() and number.isdecimal()):
        return (prefix, 0)
    return (prefix, int(number))


def openable_ids(viewer: User, notifications: Iterable[Notification]) -> set[int]:
    """Return the ids of the notifications whose subject ``viewer`` may open now.

    Community notices have no checked subject and are always included. One
    query runs per kind of subject.
    """
    rows = list(notifications)
    ids_by_prefix: dict[str, set[int]] = defaultdict(set)
    for notification in rows:
        subject = subject_of(notification)
        if subject is not None:
            ids_by_prefix[subject[0]].add(subject[1])
    visible = {
        prefix: set(RULES[prefix].visible_ids(viewer, ids))
        for prefix, ids in ids_by_prefix.items()
    }
    openable = set()
    for notification in rows:
        subject = subject_of(notification)
        if subject is None or subject[1] in visible[subject[0]]:
            openable.add(notification.pk)
    return openable


def shown_messages(
    viewer: User, notifications: Iterable[Notification]
) -> dict[int, str]:
    """Return the text to show for each notification, by notification id.

    A notification whose subject ``viewer`` may not open (or that no longer
    exists) gets its rule's neutral text. One query runs per kind of subject.
    """
    rows = list(notifications)
    openable = openable_ids(viewer, rows)
    texts = {}
    for notification in rows:
        subject = subject_of(notification)
        if subject is None or notification.pk in openable:
            texts[notification.pk] = notification.message
        else:
            texts[notification.pk] = RULES[subject[0]].hidden_text
    return texts


# Notices about the recipient's own membership: they name only the community,
# which the recipient already knew, so no rule checks them.
COMMUNITY_NOTICE_PREFIXES = frozenset({"membership-request", "invitation", "audit"})


def readable_rows(rows: Iterable[Notification]) -> list[Notification]:
    """Return the unsaved notifications whose recipient may open the subject.

    ``notify`` calls it before writing, so nobody is told the title or the
    link of an object they may not read. It runs one query per recipient of
    a checked subject. Raises ``ValueError`` for a ``subject_key`` prefix that
    has no rule in ``RULES`` and is not a community notice.
    """
    kept = []
    for row in rows:
        subject = subject_of(row)
        if subject is None:
            prefix = row.subject_key.partition(":")[0]
            if prefix not in COMMUNITY_NOTICE_PREFIXES:
                raise ValueError(
                    f"No visibility rule for subject key {row.subject_key!r}: "
                    "add its prefix to notifications.subjects.RULES."
                )
            kept.append(row)
            continue
        prefix, number = subject
        if number in set(RULES[prefix].visible_ids(row.recipient, {number})):
            kept.append(row)
    return kept
