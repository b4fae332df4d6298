"""Settings of the answers app, with their defaults.

Each value is read when it is used, so tests can override it with
``override_settings``. Set them in ``commonplace/settings.py`` to change them.
"""

from django.conf import settings

# Days from a review (or the entry's creation) until an FAQ entry is due again.
DEFAULT_FAQ_REVIEW_DAYS = 180
# Hours a question may wait for a first answer before it is listed as
# unanswered for its CRM function's super-users. Counted in clock hours,
# not working hours, so a question asked on Friday evening shows on Saturday.
DEFAULT_UNANSWERED_AFTER_HOURS = 24
# Questions and FAQ entries suggested while a person types a question.
DEFAULT_SUGGESTION_LIMIT = 5
DEFAULT_PAGE_SIZE = 25


def faq_review_days() -> int:
    return int(getattr(settings, "ANSWERS_FAQ_REVIEW_DAYS", DEFAULT_FAQ_REVIEW_DAYS))


def unanswered_after_hours() -> int:
    return int(
        getattr(
            settings, "ANSWERS_UNANSWERED_AFTER_HOURS", DEFAULT_UNANSWERED_AFTER_HOURS
        )
    )


def suggestion_limit() -> int:
    return int(getattr(settings, "ANSWERS_SUGGESTION_LIMIT", DEFAULT_SUGGESTION_LIMIT))


def page_size() -> int:
    return int(getattr(settings, "ANSWERS_PAGE_SIZE", DEFAULT_PAGE_SIZE))
