"""Checks and helpers shared by the answers services."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import CrmFunction
from answers.conf import faq_review_days
from answers.models import Question
from assist.models import HelpContext
from communities.models import Community
from core.forms import empty_message, too_long_message
from core.markdown import Hashtag as ParsedHashtag
from core.markdown import render_markdown
from core.text import clean_line, clean_text
from notifications.models import Notification
from social.models import Hashtag
from social.services.posts import store_hashtags

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 20_000
MAX_COMMENT_LENGTH = 2_000
MAX_TAGS_PER_QUESTION = 30

KIND_ANSWER_UNACCEPTED = Notification.Kind.ANSWER_UNACCEPTED
KIND_QUESTION_CLOSED = Notification.Kind.QUESTION_CLOSED
KIND_QA_COMMENT = Notification.Kind.QA_COMMENT_POSTED
KIND_FAQ_NEEDS_REVIEW = Notification.Kind.FAQ_NEEDS_REVIEW


def clean_title(title: str, *, what: str = "question") -> str:
    cleaned = clean_line(title)
    if not cleaned:
        raise ValidationError(f"The {what} is empty: write what you want to know.")
    if len(cleaned) > MAX_TITLE_LENGTH:
        raise ValidationError(
            f"The {what} is {len(cleaned)} characters long; keep it to "
            f"{MAX_TITLE_LENGTH} and put the details in the description."
        )
    return cleaned


def clean_body(
    body: str, *, required: bool, what: str, limit: int = MAX_BODY_LENGTH
) -> str:
    cleaned = clean_text(body)
    if required and not cleaned:
        raise ValidationError(empty_message(f"The {what}", "write at least one word"))
    if len(cleaned) > limit:
        raise ValidationError(too_long_message(f"The {what}", len(cleaned), limit))
    return cleaned


def function_of_context(context: HelpContext | None) -> CrmFunction | None:
    """Return the CRM function of ``context``, inherited from its nearest ancestor."""
    while context is not None:
        if context.crm_function_id is not None:
            return context.crm_function
        context = context.parent
    return None


def function_for_question(
    context: HelpContext | None, community: Community
) -> CrmFunction | None:
    """Return the function a question belongs to: its screen's, else its community's.

    A community serving several functions gives none, because picking one
    would route the question to the wrong super-users.
    """
    from_context = function_of_context(context)
    if from_context is not None:
        return from_context
    functions = list(community.crm_functions.all()[:2])
    return functions[0] if len(functions) == 1 else None


def parse_question_tags(title: str, body: str) -> list[ParsedHashtag]:
    """Return the hashtags of the title and the body, first spelling kept."""
    found = render_markdown(title).hashtags + render_markdown(body).hashtags
    unique = list({tag.name: tag for tag in reversed(found)}.values())
    unique.reverse()
    if len(unique) > MAX_TAGS_PER_QUESTION:
        raise ValidationError(
            f"The question has {len(unique)} different hashtags; the limit is "
            f"{MAX_TAGS_PER_QUESTION}. Keep the ones people will search for."
        )
    return unique


def save_tags(parsed: list[ParsedHashtag]) -> list[Hashtag]:
    return store_hashtags(parsed) if parsed else []


def today() -> datetime.date:
    """Return today's date in the company's timezone (``TIME_ZONE``)."""
    return timezone.localdate()


def next_review_date(start: datetime.date | None = None) -> datetime.date:
    return (start or today()) + datetime.timedelta(days=faq_review_days())


def question_url(question: Question) -> str:
    return f"/questions/{question.pk}/"
