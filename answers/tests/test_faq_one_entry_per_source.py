"""A post or a comment becomes one FAQ entry, as an accepted answer does.

``super_user`` (Petra) owns the payments FAQ; ``sales_rep`` (Sally) wrote
the post and ``outsider`` (Otto) the comment. Once an entry exists, the
post page links it in place of "Make FAQ entry", and a second save from
the same source is refused with a link to the entry. Deleting the entry
frees the source again.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from answers.models import FaqEntry
from answers.services import create_faq_entry
from answers.services.faq_sources import AlreadyInFaqError
from social.services import post_comment, publish_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(sales_rep, payments_community):
    return publish_post(
        author=sales_rep,
        community=payments_community,
        body="Five checks before you write off a short payment.",
    )


@pytest.fixture
def comment(post, outsider):
    return post_comment(author=outsider, post=post, body="Check the bank fee first.")


def _make(actor, source, payments) -> FaqEntry:
    return create_faq_entry(
        actor=actor,
        source=source,
        question_text="How do I check a short payment?",
        crm_function=payments,
    )


def _post_link(signed_in, person, post) -> str:
    url = f"/questions/faq/source-link/?post={post.pk}"
    html: str = signed_in(person).get(url).content.decode()
    return html


@pytest.mark.parametrize("kind", ["post", "comment"])
def test_second_entry_rejected_with_link(kind, post, comment, super_user, payments):
    source = post if kind == "post" else comment
    first = _make(super_user, source, payments)

    with pytest.raises(AlreadyInFaqError) as refused:
        _make(super_user, source, payments)

    assert refused.value.entry_id == first.pk
    assert f"/questions/faq/{first.pk}/" in refused.value.messages[0]
    assert FaqEntry.objects.count() == 1


def test_form_links_the_entry_and_saves_nothing(signed_in, post, super_user, payments):
    first = _make(super_user, post, payments)
    client = signed_in(super_user)

    shown = client.get(f"/questions/faq/new/?post={post.pk}")
    saved = client.post(
        f"/questions/faq/new/?post={post.pk}",
        {
            "question_text": "Again?",
            "answer_text": "Again.",
            "crm_function": payments.pk,
        },
    )

    link = f'href="/questions/faq/{first.pk}/" data-testid="existing-faq-entry"'
    assert shown.status_code == 409
    assert link in shown.content.decode()
    assert 'name="answer_text"' not in shown.content.decode()
    assert saved.status_code == 409
    assert link in saved.content.decode()
    assert FaqEntry.objects.count() == 1


def test_post_page_links_entry(signed_in, post, super_user, sales_rep, payments):
    assert 'data-testid="make-faq-entry"' in _post_link(signed_in, super_user, post)

    entry = _make(super_user, post, payments)

    for person in (super_user, sales_rep):
        html = _post_link(signed_in, person, post)
        assert 'data-testid="make-faq-entry"' not in html
        assert f'href="/questions/faq/{entry.pk}/" data-testid="in-faq"' in html


def test_comment_links_entry(signed_in, post, comment, super_user, payments):
    offer = f'href="/questions/faq/new/?comment={comment.pk}"'
    client = signed_in(super_user)
    assert offer in client.get(f"/posts/{post.pk}/").content.decode()

    entry = _make(super_user, comment, payments)

    html = client.get(f"/posts/{post.pk}/").content.decode()
    assert offer not in html
    assert f'href="/questions/faq/{entry.pk}/" data-testid="in-faq"' in html


def test_comment_links_fixed_queries(
    signed_in, post, comment, outsider, super_user, payments
):
    _make(super_user, comment, payments)
    client = signed_in(super_user)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/posts/{post.pk}/")
    for number in range(4):
        more = post_comment(author=outsider, post=post, body=f"Tip {number}.")
        _make(super_user, more, payments)
    with CaptureQueriesContext(connection) as five:
        html = client.get(f"/posts/{post.pk}/").content.decode()

    assert html.count('data-testid="in-faq"') == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_held_entry_link_hidden(signed_in, post, super_user, sales_rep, payments):
    entry = _make(super_user, post, payments)
    FaqEntry.objects.filter(pk=entry.pk).update(owners_only=True)

    html = _post_link(signed_in, sales_rep, post)

    assert f"/questions/faq/{entry.pk}/" not in html
    assert 'data-testid="make-faq-entry"' not in html


@pytest.mark.parametrize("kind", ["post", "comment"])
def test_deleting_the_entry_frees_the_source(
    kind, signed_in, post, comment, super_user, payments
):
    source = post if kind == "post" else comment
    _make(super_user, source, payments).delete()

    again = _make(super_user, source, payments)

    assert FaqEntry.objects.get() == again
    if kind == "post":
        html = _post_link(signed_in, super_user, post)
        assert f'href="/questions/faq/{again.pk}/" data-testid="in-faq"' in html


@pytest.mark.django_db(transaction=True)
def test_concurrent_curators_make_one_entry(post, super_user, payments):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            barrier.wait()
            _make(super_user, post, payments)
            outcomes.append("made")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert FaqEntry.objects.count() == 1
    assert sorted(outcomes) == ["made", "refused"]
