"""An FAQ entry follows its sources to a narrower audience, on every surface.

Named people: ``outsider`` is an employee in no community, ``member`` belongs
to the private pricing community, ``customer`` is a customer account,
``moderator`` has the moderator role (so owns every FAQ) and ``super_user``
owns the payments FAQ. Each entry's answer carries a distinctive word, so
search can be asked exactly who finds it. The tests commit for real, so the
search index is rewritten after each commit as in production, and each
change made through the ORM runs in one transaction, as a service's would.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import transaction
from django.test import Client
from django.utils import timezone

from answers.models import FaqEntry
from answers.selectors import visible_faq_entries
from answers.services import (
    accept_answer,
    create_faq_entry,
    create_question,
    delete_answer,
    mark_faq_reviewed,
    post_answer,
    promote_answer_to_faq,
)
from assist.models import ApiToken, HelpContext
from assist.selectors import build_help_panel
from assist.tokens import issue_token
from core.models import AuditEvent
from core.testing import signed_in
from notifications.models import Notification
from notifications.subjects import FAQ_HIDDEN, shown_messages
from search.selectors import search
from social.services import delete_comment, delete_post, post_comment, publish_post

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "reconciliation.order.short_payment"
# A customer reads only the portal's contexts, so entries are on this too.
PORTAL_KEY = "portal.order"
WORD = "quillwort"


@pytest.fixture
def promoted(sales_rep, facilitator, payments_community):
    """An FAQ entry promoted from an accepted answer in the open payments community."""
    with transaction.atomic():
        question = create_question(
            author=sales_rep,
            community=payments_community,
            title="How do I book a short payment?",
            context=HelpContext.objects.get(key=KEY),
        )
        answer = post_answer(
            author=facilitator, question=question, body=f"Book it as {WORD}."
        )
        accept_answer(actor=sales_rep, answer=answer)
        entry = promote_answer_to_faq(actor=facilitator, answer=answer)
    return entry


@pytest.fixture
def customer_post(sales_rep, customer_community):
    return publish_post(
        author=sales_rep,
        community=customer_community,
        body=f"Statements arrive monthly, {WORD} included.",
    )


@pytest.fixture
def from_customer_post(facilitator, payments, customer_post):
    """A customer-visible FAQ entry made from a post in the customer community."""
    with transaction.atomic():
        entry = create_faq_entry(
            actor=facilitator,
            source=customer_post,
            question_text="When do statements come?",
            crm_function=payments,
            contexts=list(HelpContext.objects.filter(key__in=[KEY, PORTAL_KEY])),
        )
    return entry


def index_ids(person) -> list[int]:
    page = signed_in(person).get("/questions/faq/")
    assert page.status_code == 200
    return [entry.pk for entry in page.context["page"]]


def page_status(person, entry: FaqEntry) -> int:
    return signed_in(person).get(f"/questions/faq/{entry.pk}/").status_code


def search_ids(person) -> list[int]:
    results = search(person, WORD, page_size=100)
    return [hit.object_id for hit in results.hits if hit.kind == "faq"]


def panel_json_ids(person) -> list[int]:
    key = PORTAL_KEY if person.is_external else KEY
    response = signed_in(person).get("/api/assist/help", {"context": key})
    assert response.status_code == 200
    return [entry["id"] for entry in response.json()["faq_entries"]]


def token_api_ids(person) -> list[int]:
    # An active token's name is unique per person, so each call names its own.
    name = f"CRM screen {ApiToken.objects.filter(owner=person).count() + 1}"
    issued = issue_token(owner=person, name=name, scopes=["help:read"])
    response = Client().get(
        "/api/assist/help",
        {"context": KEY},
        headers={"Authorization": f"Bearer {issued.raw}"},
    )
    assert response.status_code == 200
    return [entry["id"] for entry in response.json()["faq_entries"]]


def surfaces(person, entry: FaqEntry) -> dict[str, bool]:
    """Return, per surface, whether ``person`` reads ``entry`` there."""
    shown = {
        "index": entry.pk in index_ids(person),
        "page": page_status(person, entry) == 200,
        "search": entry.pk in search_ids(person),
        "panel": entry.pk in panel_json_ids(person),
    }
    if not person.is_external:
        shown["api"] = entry.pk in token_api_ids(person)
    return shown


def nowhere(person) -> dict[str, bool]:
    shown = dict.fromkeys(["index", "page", "search", "panel"], False)
    if not person.is_external:
        shown["api"] = False
    return shown


def everywhere(person) -> dict[str, bool]:
    return {name: True for name in nowhere(person)}


class TestQuestionMovedToPrivateCommunity:
    def test_entry_leaves_every_surface(
        self, promoted, private_community, outsider, member, customer
    ):
        # Reading every surface first also fills the cached panels.
        assert surfaces(outsider, promoted) == everywhere(outsider)
        assert surfaces(member, promoted) == everywhere(member)
        question = promoted.source_answer.question
        with transaction.atomic():
            question.community = private_community
            question.save()

        assert surfaces(outsider, promoted) == nowhere(outsider)
        # Members of the private community are not the entry's owners.
        assert surfaces(member, promoted) == nowhere(member)
        assert surfaces(customer, promoted) == nowhere(customer)

    def test_owners_still_read_and_find_it(
        self, promoted, private_community, moderator, super_user
    ):
        question = promoted.source_answer.question
        with transaction.atomic():
            question.community = private_community
            question.save()

        # The help panel shows a held entry to its owners' own sessions, never
        # through an API token, which may serve a whole embedding tool.
        for owner in (moderator, super_user):
            assert surfaces(owner, promoted) == {
                "index": True,
                "page": True,
                "search": True,
                "panel": True,
                "api": False,
            }
        page = signed_in(super_user).get(f"/questions/faq/{promoted.pk}/")
        assert "A source moved to a narrower audience" in page.context["review_reasons"]
        assert b"Only its owners can read it" in page.content

    def test_stored_audience_flag_and_audit(self, promoted, private_community):
        question = promoted.source_answer.question
        with transaction.atomic():
            question.community = private_community
            question.save()

        promoted.refresh_from_db()
        assert promoted.owners_only is True
        assert promoted.customer_visible is False
        assert promoted.review_flag == FaqEntry.ReviewFlag.SOURCE_NARROWED
        event = AuditEvent.objects.get(action="faq.audience_narrowed")
        assert event.object_id == str(promoted.pk)
        assert event.before == {"customer_visible": False, "owners_only": False}
        assert event.after == {
            "customer_visible": False,
            "owners_only": True,
            "review_flag": "source_narrowed",
        }

    def test_function_owners_are_notified(
        self, promoted, private_community, super_user, outsider
    ):
        question = promoted.source_answer.question
        with transaction.atomic():
            question.community = private_community
            question.save()

        notice = Notification.objects.get(
            recipient=super_user, kind=Notification.Kind.FAQ_NEEDS_REVIEW
        )
        assert notice.message == (
            "An FAQ entry needs review because a source's audience changed: "
            "How do I book a short payment?"
        )
        assert notice.url == f"/questions/faq/{promoted.pk}/"
        assert shown_messages(super_user, [notice]) == {notice.pk: notice.message}
        assert not Notification.objects.filter(
            recipient=outsider, kind=Notification.Kind.FAQ_NEEDS_REVIEW
        ).exists()

    def test_moving_back_does_not_widen(
        self, promoted, private_community, payments_community, outsider
    ):
        question = promoted.source_answer.question
        with transaction.atomic():
            question.community = private_community
            question.save()
        with transaction.atomic():
            question.community = payments_community
            question.save()

        promoted.refresh_from_db()
        assert promoted.owners_only is True
        assert surfaces(outsider, promoted) == nowhere(outsider)

    def test_only_a_committed_move_narrows(self, promoted, private_community, outsider):
        question = promoted.source_answer.question
        with pytest.raises(RuntimeError), transaction.atomic():
            question.community = private_community
            question.save()
            raise RuntimeError("undo")

        promoted.refresh_from_db()
        assert promoted.owners_only is False
        assert page_status(outsider, promoted) == 200
        with transaction.atomic():
            question.community = private_community
            question.save()
        assert page_status(outsider, promoted) == 404


class TestCommunityVisibilityNarrowed:
    def test_community_made_private_holds_entry(
        self, promoted, payments_community, outsider, moderator
    ):
        assert promoted.pk in panel_json_ids(outsider)
        with transaction.atomic():
            payments_community.visibility = payments_community.Visibility.PRIVATE
            payments_community.save()

        assert surfaces(outsider, promoted) == nowhere(outsider)
        assert page_status(moderator, promoted) == 200

    def test_customer_community_made_internal(
        self, from_customer_post, customer_community, customer, outsider
    ):
        assert surfaces(customer, from_customer_post) == everywhere(customer)
        with transaction.atomic():
            customer_community.visibility = customer_community.Visibility.OPEN
            customer_community.save()

        from_customer_post.refresh_from_db()
        assert from_customer_post.customer_visible is False
        assert from_customer_post.owners_only is False
        assert surfaces(customer, from_customer_post) == nowhere(customer)
        assert surfaces(outsider, from_customer_post) == everywhere(outsider)

    def test_customer_source_author_sees_neutral_notice(
        self, from_customer_post, customer_community, customer_post, customer
    ):
        # A customer who wrote the source got a notice that it became an FAQ entry.
        customer_post.author = customer
        customer_post.save()
        notice = Notification.objects.create(
            recipient=customer,
            kind=Notification.Kind.FAQ_PROMOTED,
            message="Your post is now in the FAQ: When do statements come?",
            url=f"/questions/faq/{from_customer_post.pk}/",
            subject_key=f"faq:{from_customer_post.pk}",
        )
        assert shown_messages(customer, [notice]) == {notice.pk: notice.message}
        with transaction.atomic():
            customer_community.visibility = customer_community.Visibility.OPEN
            customer_community.save()

        assert shown_messages(customer, [notice]) == {notice.pk: FAQ_HIDDEN}


class TestSourcePostMovedOrDeleted:
    def test_post_moved_to_private_community(
        self, from_customer_post, customer_post, private_community, outsider
    ):
        with transaction.atomic():
            customer_post.community = private_community
            customer_post.save()

        from_customer_post.refresh_from_db()
        assert from_customer_post.owners_only is True
        assert surfaces(outsider, from_customer_post) == nowhere(outsider)

    def test_deleted_post_holds_entry(
        self, from_customer_post, customer_post, sales_rep, outsider, customer
    ):
        with transaction.atomic():
            delete_post(actor=sales_rep, post=customer_post)

        from_customer_post.refresh_from_db()
        assert from_customer_post.owners_only is True
        assert from_customer_post.review_flag == FaqEntry.ReviewFlag.SOURCE_WITHDRAWN
        assert surfaces(outsider, from_customer_post) == nowhere(outsider)
        assert surfaces(customer, from_customer_post) == nowhere(customer)
        event = AuditEvent.objects.get(action="faq.audience_narrowed")
        assert event.actor == sales_rep

    def test_deleted_comment_holds_entry(
        self, facilitator, payments, customer_post, sales_rep, customer
    ):
        comment = post_comment(
            author=sales_rep, post=customer_post, body=f"Ask for the {WORD} form."
        )
        with transaction.atomic():
            entry = create_faq_entry(
                actor=facilitator,
                source=comment,
                question_text="Which form?",
                crm_function=payments,
                contexts=list(HelpContext.objects.filter(key__in=[KEY, PORTAL_KEY])),
            )
        assert surfaces(customer, entry) == everywhere(customer)
        with transaction.atomic():
            delete_comment(actor=sales_rep, comment=comment)

        assert surfaces(customer, entry) == nowhere(customer)
        entry.refresh_from_db()
        assert entry.owners_only is True


class TestAcceptedAnswerDeleted:
    def test_entry_is_held_and_owners_told_once(
        self, promoted, facilitator, outsider, super_user
    ):
        with transaction.atomic():
            delete_answer(actor=facilitator, answer=promoted.source_answer)

        promoted.refresh_from_db()
        assert promoted.owners_only is True
        assert promoted.review_flag == FaqEntry.ReviewFlag.SOURCE_DELETED
        assert surfaces(outsider, promoted) == nowhere(outsider)
        notices = Notification.objects.filter(
            recipient=super_user, kind=Notification.Kind.FAQ_NEEDS_REVIEW
        )
        assert [notice.message for notice in notices] == [
            "An FAQ entry needs review because a source was deleted: "
            "How do I book a short payment?"
        ]


class TestReviewLiftsOnlyWhatSourcesAllow:
    def test_review_after_deletion_publishes_again(
        self, promoted, facilitator, moderator, outsider
    ):
        with transaction.atomic():
            delete_answer(actor=facilitator, answer=promoted.source_answer)
        with transaction.atomic():
            mark_faq_reviewed(actor=moderator, entry=promoted)

        promoted.refresh_from_db()
        assert promoted.owners_only is False
        assert promoted.review_flag == ""
        assert surfaces(outsider, promoted) == everywhere(outsider)
        event = AuditEvent.objects.get(action="faq.reviewed")
        assert event.before["owners_only"] is True
        assert event.after["owners_only"] is False

    def test_review_keeps_hold_while_source_is_private(
        self, promoted, private_community, moderator, outsider
    ):
        question = promoted.source_answer.question
        with transaction.atomic():
            question.community = private_community
            question.save()
        assert page_status(outsider, promoted) == 404
        with transaction.atomic():
            mark_faq_reviewed(actor=moderator, entry=promoted)

        promoted.refresh_from_db()
        assert promoted.owners_only is True
        assert promoted.review_flag == ""
        assert surfaces(outsider, promoted) == nowhere(outsider)

    def test_review_never_makes_entry_customer_visible(
        self, from_customer_post, customer_community, moderator, customer
    ):
        with transaction.atomic():
            customer_community.visibility = customer_community.Visibility.OPEN
            customer_community.save()
        with transaction.atomic():
            customer_community.visibility = customer_community.Visibility.CUSTOMER
            customer_community.save()
        with transaction.atomic():
            mark_faq_reviewed(actor=moderator, entry=from_customer_post)

        from_customer_post.refresh_from_db()
        assert from_customer_post.customer_visible is False
        assert surfaces(customer, from_customer_post) == nowhere(customer)


class TestCustomerCompanySetOnQuestion:
    def test_customer_visible_entry_becomes_internal(
        self,
        sales_rep,
        facilitator,
        customer_community,
        customer,
        customer_party,
    ):
        with transaction.atomic():
            question = create_question(
                author=sales_rep,
                community=customer_community,
                title="Why is my statement late?",
                context=HelpContext.objects.get(key=KEY),
            )
            answer = post_answer(
                author=facilitator, question=question, body=f"The {WORD} run is late."
            )
            accept_answer(actor=sales_rep, answer=answer)
            entry = promote_answer_to_faq(actor=facilitator, answer=answer)
            entry.contexts.add(HelpContext.objects.get(key=PORTAL_KEY))
        assert surfaces(customer, entry) == everywhere(customer)
        with transaction.atomic():
            question.customer = customer_party
            question.save()

        entry.refresh_from_db()
        assert entry.customer_visible is False
        assert entry.review_flag == FaqEntry.ReviewFlag.SOURCE_NARROWED
        assert surfaces(customer, entry) == nowhere(customer)


def test_cached_panel_follows_narrowing(promoted, payments_community, outsider):
    panel = build_help_panel(viewer=outsider, key=KEY)
    assert [item.pk for item in panel.faq_entries] == [promoted.pk]
    with transaction.atomic():
        payments_community.visibility = payments_community.Visibility.PRIVATE
        payments_community.save()

    panel = build_help_panel(viewer=outsider, key=KEY)
    assert panel.faq_entries == []


def test_migration_holds_entry_whose_source_went_before_it(
    from_customer_post, customer_post, customer
):
    # Before entries followed their sources, a deletion left the entry as it
    # was. The base manager's plain queryset stores one without the receivers.
    type(customer_post)._base_manager.filter(pk=customer_post.pk).update(
        deleted_at=timezone.now()
    )
    assert visible_faq_entries(customer).filter(pk=from_customer_post.pk).exists()
    migration = importlib.import_module(
        "answers.migrations.0009_narrow_existing_faq_entries"
    )

    with transaction.atomic():
        migration.narrow_existing_entries(django_apps, None)

    entry = FaqEntry.objects.get(pk=from_customer_post.pk)
    assert entry.owners_only
    assert not entry.customer_visible
    assert entry.review_flag == FaqEntry.ReviewFlag.SOURCE_WITHDRAWN
    assert not visible_faq_entries(customer).filter(pk=entry.pk).exists()
    assert AuditEvent.objects.filter(
        action="faq.audience_narrowed", object_id=str(entry.pk)
    ).exists()
    assert not Notification.objects.filter(
        kind=Notification.Kind.FAQ_NEEDS_REVIEW
    ).exists()
