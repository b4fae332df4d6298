"""The CRM function of an FAQ entry: where curation starts it, and moving it.

The function decides the entry's owners: its super-users, with learning
facilitators and moderators standing in. ``super_user`` (Petra) owns the
payments FAQ only, ``facilitator`` (Fran) owns every FAQ.
"""

import pytest

from accounts.models import CrmFunction, LearnerGroup
from answers.models import FaqEntry
from answers.services import create_faq_entry
from communities.models import Community
from core.models import AuditEvent
from social.services import post_comment, publish_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoicing() -> CrmFunction:
    return CrmFunction.objects.get(slug="invoicing")


@pytest.fixture
def payments_post(sales_rep, payments_community):
    return publish_post(
        author=sales_rep, community=payments_community, body="Short-pay tip."
    )


@pytest.fixture
def lounge_post(sales_rep):
    """A post in an open community that serves no CRM function."""
    lounge = Community.objects.create(
        slug="lounge", name="Lounge", visibility=Community.Visibility.OPEN
    )
    return publish_post(author=sales_rep, community=lounge, body="Lunch at one?")


@pytest.fixture
def entry(super_user, payments_post, payments):
    return create_faq_entry(
        actor=super_user,
        source=payments_post,
        question_text="Is a small short payment a bank fee?",
        crm_function=payments,
    )


def _edit(client, entry, **fields):
    data = {"question_text": entry.question, "answer_text": entry.answer, **fields}
    return client.post(f"/questions/faq/{entry.pk}/edit/", data)


class TestNewEntryStartsFromSource:
    def test_post_starts_on_its_community_function(
        self, signed_in, facilitator, payments_post, payments
    ):
        response = signed_in(facilitator).get(
            f"/questions/faq/new/?post={payments_post.pk}"
        )
        html = response.content.decode()
        assert response.context["form"].initial["crm_function"] == payments
        assert f'<option value="{payments.pk}" selected>Payments</option>' in html

    def test_comment_starts_on_its_post_function(
        self, signed_in, facilitator, outsider, payments_post, payments
    ):
        comment = post_comment(author=outsider, post=payments_post, body="Code BF.")
        response = signed_in(facilitator).get(
            f"/questions/faq/new/?comment={comment.pk}"
        )
        assert response.context["form"].initial["crm_function"] == payments

    def test_no_fitting_function_starts_empty(
        self, signed_in, facilitator, lounge_post
    ):
        response = signed_in(facilitator).get(
            f"/questions/faq/new/?post={lounge_post.pk}"
        )
        html = response.content.decode()
        assert response.context["form"].initial["crm_function"] is None
        assert '<option value="" selected>Pick a CRM function</option>' in html

    def test_missing_function_is_rejected(self, signed_in, facilitator, lounge_post):
        response = signed_in(facilitator).post(
            f"/questions/faq/new/?post={lounge_post.pk}",
            {"question_text": "Lunch?", "answer_text": "At one."},
        )
        assert response.status_code == 422
        assert (
            "Pick the CRM function whose FAQ gets the entry."
            in response.content.decode()
        )
        assert FaqEntry.objects.count() == 0

    def test_only_owned_functions_are_offered(
        self, signed_in, super_user, payments_post, payments
    ):
        response = signed_in(super_user).get(
            f"/questions/faq/new/?post={payments_post.pk}"
        )
        offered = list(response.context["form"].fields["crm_function"].queryset)
        assert offered == [payments]


class TestEditFunction:
    def test_edit_form_shows_current_function(
        self, signed_in, facilitator, entry, payments
    ):
        html = signed_in(facilitator).get(f"/questions/faq/{entry.pk}/edit/")
        assert (
            f'<option value="{payments.pk}" selected>Payments</option>'
            in html.content.decode()
        )

    def test_move_hands_entry_to_new_owners(
        self, signed_in, facilitator, super_user, entry, invoicing
    ):
        response = _edit(signed_in(facilitator), entry, crm_function=invoicing.pk)
        entry.refresh_from_db()
        assert response.status_code == 302
        assert entry.crm_function == invoicing
        # The payments super-user no longer owns the entry.
        page = signed_in(super_user).get(f"/questions/faq/{entry.pk}/edit/")
        assert page.status_code == 403

    def test_move_records_audit_event(self, signed_in, facilitator, entry, invoicing):
        _edit(signed_in(facilitator), entry, crm_function=invoicing.pk)
        event = AuditEvent.objects.get(action="faq.function_changed")
        assert event.before == {"crm_function": "payments"}
        assert event.after == {"crm_function": "invoicing"}
        assert event.actor == facilitator

    def test_move_to_unowned_function_is_rejected(
        self, signed_in, super_user, entry, invoicing, payments
    ):
        response = _edit(signed_in(super_user), entry, crm_function=invoicing.pk)
        entry.refresh_from_db()
        assert response.status_code == 422
        assert "That CRM function is not one whose FAQ you own" in (
            response.content.decode()
        )
        assert entry.crm_function == payments
        assert not AuditEvent.objects.filter(action="faq.function_changed").exists()

    def test_super_user_cannot_make_entry_general(
        self, signed_in, super_user, entry, payments
    ):
        response = _edit(signed_in(super_user), entry, crm_function="")
        entry.refresh_from_db()
        assert response.status_code == 422
        assert "Pick the CRM function whose FAQ keeps the entry." in (
            response.content.decode()
        )
        assert entry.crm_function == payments

    def test_facilitator_may_make_entry_general(self, signed_in, facilitator, entry):
        response = _edit(signed_in(facilitator), entry, crm_function="")
        entry.refresh_from_db()
        assert response.status_code == 302
        assert entry.crm_function is None

    @pytest.mark.parametrize("who", ["facilitator", "super_user"])
    def test_post_without_field_keeps_function(
        self, signed_in, request, who, entry, payments
    ):
        client = signed_in(request.getfixturevalue(who))
        response = _edit(client, entry, question_text="Bank fee?")
        entry.refresh_from_db()
        assert response.status_code == 302
        assert entry.question == "Bank fee?"
        assert entry.crm_function == payments
        assert not AuditEvent.objects.filter(action="faq.function_changed").exists()

    def test_edit_form_keeps_learner_groups(self, signed_in, facilitator, entry):
        group = LearnerGroup.objects.order_by("pk").first()
        assert group is not None
        entry.learner_groups.set([group])
        html = signed_in(facilitator).get(f"/questions/faq/{entry.pk}/edit/")
        assert f'name="learner_groups" value="{group.pk}"' in html.content.decode()
