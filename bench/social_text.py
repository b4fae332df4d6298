"""Text for generated posts: sentences, hashtags, and their rendered HTML.

The sentences use only letters, digits, spaces, commas and full stops, so
the HTML can be built here without running the Markdown renderer a million
times. The test of the generator renders a sample with
``core.markdown.render_markdown`` and compares.
"""

import random
from urllib.parse import quote

TAG_WORDS = (
    "reconciliation", "shortpayment", "backorder", "creditnote", "invoicing",
    "payments", "disputes", "tolerance", "writeoff", "shipping", "returns",
    "onboarding", "tips", "howto", "orderentry", "fulfilment", "bankline",
    "matching", "exceptions", "residual", "statement", "currency", "rounding",
    "duplicates", "customers", "warehouse", "training", "quarterclose",
    "bestpractice", "faq", "sandbox", "superuser", "checklist", "automation",
    "reports", "audit", "approvals", "deadlines", "quality", "feedback",
    "labs", "demo", "kudos", "question", "release", "policy", "pricing",
    "discounts", "freight", "carriers", "partials", "allocation", "overdue",
    "remittance", "aging", "escalation", "handover", "process", "shortcut",
    "lessons",
)  # fmt: skip

OPENERS = (
    "Quick tip", "Heads up", "Today I learned", "Question for the team",
    "Small win", "Reminder", "From the warehouse", "From finance",
    "Lesson from this week", "Worth knowing",
)  # fmt: skip
SUBJECTS = (
    "the short payment on order {n}", "a backorder for customer {n}",
    "the credit note queue", "matching bank line {n}", "the tolerance rule",
    "partial shipments", "the dispute inbox", "invoice {n}",
    "the remittance advice from customer {n}", "the aging report",
    "write off approvals", "the order list filters", "shipment {n}",
    "the month end checklist", "duplicate supplier invoices",
)  # fmt: skip
DETAILS = (
    "closes in two clicks once the residual is under the tolerance",
    "needs the warehouse to confirm the quantities first",
    "is faster from the case page than from the order",
    "goes to the payments super users when it is over the limit",
    "should carry the customer reference, or matching misses it",
    "is easier when the credit note is linked before the payment",
    "keeps coming back when the rounding rule is off by one cent",
    "was solved by splitting the allocation across two invoices",
    "has a short demo in the library now",
    "takes a reason, so write it for the auditors",
    "can wait for the weekly run unless the customer asks",
    "is the first thing to check when a statement does not balance",
)  # fmt: skip


def tag_display_names(count: int) -> list[str]:
    """Return ``count`` distinct tag spellings, the most common first."""
    names = [word.capitalize() for word in TAG_WORDS]
    for first in TAG_WORDS:
        for second in TAG_WORDS:
            if len(names) >= count:
                return names[:count]
            if first != second:
                names.append(first.capitalize() + second.capitalize())
    number = 1
    while len(names) < count:
        names.append(f"Topic{number}")
        number += 1
    return names[:count]


def _tag_link(spelling: str, name: str) -> str:
    return (
        f'<a href="/tags/{quote(name, safe="")}/" class="hashtag" '
        f'rel="nofollow noopener noreferrer">#{spelling}</a>'
    )


def sentence(rng: random.Random) -> str:
    subject = rng.choice(SUBJECTS).format(n=rng.randint(10000, 99999))
    return f"{rng.choice(OPENERS)}, {subject} {rng.choice(DETAILS)}."


def paragraph_with_tags(
    rng: random.Random, tags: list[tuple[str, str]], sentences: int
) -> tuple[str, str]:
    """Return (Markdown, HTML) of one paragraph ending in ``tags``.

    ``tags`` contains (spelling, normalized name) pairs.
    """
    text = " ".join(sentence(rng) for _ in range(sentences))
    if not tags:
        return text, f"<p>{text}</p>\n"
    source = text + " " + " ".join(f"#{spelling}" for spelling, _ in tags)
    links = " ".join(_tag_link(spelling, name) for spelling, name in tags)
    return source, f"<p>{text} {links}</p>\n"


def post_text(
    rng: random.Random, tags: list[tuple[str, str]], *, long_form: bool
) -> tuple[str, str]:
    """Return (body, body_html) of a post; long-form posts get paragraphs."""
    if not long_form:
        return paragraph_with_tags(rng, tags, rng.choice((1, 1, 1, 2)))
    parts = [paragraph_with_tags(rng, [], 3) for _ in range(rng.randint(2, 4))]
    parts.append(paragraph_with_tags(rng, tags, 2))
    body = "\n\n".join(source for source, _ in parts)
    return body, "".join(html for _, html in parts)


def title(rng: random.Random) -> str:
    subject = rng.choice(SUBJECTS).format(n=rng.randint(10000, 99999))
    return f"How we handle {subject}"
