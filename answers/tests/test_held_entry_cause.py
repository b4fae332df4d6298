"""A held FAQ entry's page states the cause of the hold that applies, once.

``sales_rep`` (Sally) asks, ``super_user`` (Petra, owner of the payments
FAQ) answers and promotes the answer. The page's "Only its owners can read
it" line gives a generic cause only when no review reason is listed, and
speaks of a private community only when a source is in one.
"""

import html
import re

import pytest

from answers.services import (
    accept_answer,
    create_question,
    delete_answer,
    post_answer,
    promote_answer_to_faq,
)
from communities.models import Community

pytestmark = pytest.mark.django_db

PRIVATE_CAUSE = "A source is in a private community"
GENERIC_CAUSE = "A source was deleted."
PUBLISHES = '"Reviewed" publishes it again.'


@pytest.fixture
def promoted(sales_rep, super_user, payments_community):
    question = create_question(
        author=sales_rep,
        community=payments_community,
        title="How do I write off a short payment?",
    )
    answer = post_answer(author=super_user, question=question, body="Open a case.")
    accept_answer(actor=sales_rep, answer=answer)
    return promote_answer_to_faq(actor=super_user, answer=answer), answer


def _owners_line(signed_in, owner, entry) -> str:
    page = signed_in(owner).get(f"/questions/faq/{entry.pk}/").content.decode()
    line = re.search(r'<p data-testid="owners-only">(.*?)</p>', page, re.S)
    assert line is not None, "the page does not say the entry is held"
    return html.unescape(re.sub(r"<[^>]+>", "", line.group(1)))


def test_deleted_answer_hold_names_no_private_community(
    signed_in, super_user, promoted
):
    entry, answer = promoted
    delete_answer(actor=super_user, answer=answer)

    line = _owners_line(signed_in, super_user, entry)
    page = signed_in(super_user).get(f"/questions/faq/{entry.pk}/").content.decode()

    assert "private community" not in line
    assert GENERIC_CAUSE not in line
    assert 'data-testid="review-reasons"' in page
    assert PUBLISHES in line


def test_hold_without_listed_reason_gives_the_generic_cause(
    signed_in, super_user, promoted
):
    entry, _answer = promoted
    type(entry).objects.filter(pk=entry.pk).update(owners_only=True, review_flag="")

    line = _owners_line(signed_in, super_user, entry)

    assert GENERIC_CAUSE in line
    assert PUBLISHES in line


def test_private_community_hold_says_so(
    signed_in, super_user, payments_community, promoted
):
    entry, _answer = promoted
    payments_community.visibility = Community.Visibility.PRIVATE
    payments_community.save()
    entry.refresh_from_db()
    assert entry.owners_only is True

    line = _owners_line(signed_in, super_user, entry)

    assert PRIVATE_CAUSE in line
    assert "publishes it again" not in line
