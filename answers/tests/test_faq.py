"""FAQ curation: sources, owners, review state, releases and the function desks."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import CrmFunction
from answers.models import FaqEntry, FaqSource, Question
from answers.selectors import entries_needing_review, review_reasons, with_review_state
from answers.services import (
    accept_answer,
    add_faq_source,
    create_faq_entry,
    create_question,
    delete_answer,
    edit_faq_entry,
    mark_faq_reviewed,
    post_answer,
    promote_answer_to_faq,
    record_release,
)
from assist.models import HelpContext
from core.models import AuditEvent
from social.services import post_comment, publish_post

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"
# The start of the day these tests backdate a review to.
JAN_FIRST = timezone.make_aware(datetime.datetime(2026, 1, 1))


def context(key: str) -> HelpContext:
    return HelpContext.objects.get(key=key)


@pytest.fixture
def open_post(sales_rep, payments_community):
    return publish_post(
        author=sales_rep,
        community=payments_community,
        body="Short-pay tip: under 1 % is a bank fee.",
    )


@pytest.fixture
def private_post(facilitator, private_community):
    return publish_post(
        author=facilitator, community=private_community, body="Price list v7"
    )


@pytest.fixture
def entry(super_user, open_post, payments):
    return create_faq_entry(
        actor=super_user,
        source=open_post,
        question_text="Is a small short payment a bank fee?",
        crm_function=payments,
        contexts=[context(SHORT_PAYMENT)],
    )


class TestSources:
    def test_entry_from_post_keeps_link_and_text(self, entry, open_post, super_user):
        source = FaqSource.objects.get(entry=entry)
        assert (source.kind, source.post_id, source.added_by) == (
            "post",
            open_post.pk,
            super_user,
        )
        assert entry.answer == "Short-pay tip: under 1 % is a bank fee."
        assert entry.customer_visible is False
        assert entry.review_due_on == timezone.localdate() + datetime.timedelta(180)
        event = AuditEvent.objects.get(action="faq.promoted")
        assert event.after == {"post": open_post.pk, "contexts": [SHORT_PAYMENT]}

    def test_entry_from_comment(self, open_post, outsider, super_user, payments):
        comment = post_comment(author=outsider, post=open_post, body="Use code BF.")
        entry = create_faq_entry(
            actor=super_user,
            source=comment,
            question_text="Which write-off code?",
            crm_function=payments,
        )
        assert FaqSource.objects.get(entry=entry).comment == comment

    def test_entry_from_blog_post(
        self, sales_rep, payments_community, super_user, payments
    ):
        from social.models import Post

        blog = publish_post(
            author=sales_rep, community=payments_community, body="Long read."
        )
        Post.objects.filter(pk=blog.pk).update(kind="blog", title="Month-end")
        blog.refresh_from_db()
        entry = create_faq_entry(
            actor=super_user,
            source=blog,
            question_text="Month-end checklist?",
            crm_function=payments,
        )
        assert FaqSource.objects.get(entry=entry).post == blog

    def test_private_source_is_rejected(self, private_post, facilitator, payments):
        with pytest.raises(ValidationError, match="A post in a private community"):
            create_faq_entry(
                actor=facilitator,
                source=private_post,
                question_text="Price list?",
                crm_function=payments,
            )
        assert FaqEntry.objects.count() == 0

    def test_hidden_source_is_rejected(self, private_post, moderator, payments):
        with pytest.raises(ValidationError, match="A post you cannot see"):
            create_faq_entry(
                actor=moderator,
                source=private_post,
                question_text="Price list?",
                crm_function=payments,
            )

    def test_outsider_and_other_super_users_may_not_create(
        self, open_post, outsider, super_user
    ):
        invoicing = CrmFunction.objects.get(slug="invoicing")
        with pytest.raises(PermissionDenied, match="super-user of Payments"):
            create_faq_entry(
                actor=outsider,
                source=open_post,
                question_text="Q?",
                crm_function=CrmFunction.objects.get(slug="payments"),
            )
        with pytest.raises(PermissionDenied, match="super-user of Invoicing"):
            create_faq_entry(
                actor=super_user,
                source=open_post,
                question_text="Q?",
                crm_function=invoicing,
            )

    def test_second_source_once(self, entry, open_post, outsider, super_user):
        comment = post_comment(author=outsider, post=open_post, body="Agreed.")
        add_faq_source(actor=super_user, entry=entry, source=comment)
        with pytest.raises(ValidationError, match="already a source of the entry"):
            add_faq_source(actor=super_user, entry=entry, source=comment)
        assert entry.sources.count() == 2

    def test_customer_space_source_makes_customer_entry(
        self, sales_rep, customer_community, facilitator, payments
    ):
        post = publish_post(
            author=sales_rep, community=customer_community, body="Statements monthly."
        )
        entry = create_faq_entry(
            actor=facilitator,
            source=post,
            question_text="When do statements come?",
            crm_function=payments,
        )
        assert entry.customer_visible is True

    def test_promoted_answer_has_answer_source(
        self, sales_rep, super_user, facilitator, payments_community
    ):
        question = create_question(
            author=sales_rep, community=payments_community, title="Fee?"
        )
        answer = post_answer(author=super_user, question=question, body="Yes.")
        accept_answer(actor=sales_rep, answer=answer)
        entry = promote_answer_to_faq(actor=facilitator, answer=answer)
        assert list(entry.sources.values_list("kind", "answer_id")) == [
            ("answer", answer.pk)
        ]
        assert entry.last_reviewed_on == timezone.localdate()


class TestSourceVisibilityOnEntryPage:
    def test_internal_source_makes_entry_internal(
        self,
        signed_in,
        sales_rep,
        customer,
        customer_community,
        facilitator,
        payments,
        payments_community,
    ):
        post = publish_post(
            author=sales_rep, community=customer_community, body="Statements monthly."
        )
        entry = create_faq_entry(
            actor=facilitator,
            source=post,
            question_text="When do statements come?",
            crm_function=payments,
        )
        internal = publish_post(
            author=sales_rep, community=payments_community, body="Internal note."
        )
        add_faq_source(actor=facilitator, entry=entry, source=internal)

        customer_page = signed_in(customer).get(f"/questions/faq/{entry.pk}/")
        employee_page = signed_in(sales_rep).get(f"/questions/faq/{entry.pk}/")
        entry.refresh_from_db()
        assert customer_page.status_code == 404
        assert b"Internal note." not in customer_page.content
        assert [s.url for s in employee_page.context["sources"]] == [
            f"/posts/{post.pk}/",
            f"/posts/{internal.pk}/",
        ]
        assert entry.customer_visible is False
        # The owner narrowed it on purpose, so it is not flagged.
        assert entry.review_flag == ""

    def test_internal_entry_is_404_for_customer(self, signed_in, entry, customer):
        assert signed_in(customer).get(f"/questions/faq/{entry.pk}/").status_code == 404

    def test_owner_tools_only_for_owners(self, signed_in, entry, outsider, super_user):
        assert (
            b"For the owners"
            not in signed_in(outsider).get(f"/questions/faq/{entry.pk}/").content
        )
        assert (
            b"For the owners"
            in signed_in(super_user).get(f"/questions/faq/{entry.pk}/").content
        )


class TestReviewState:
    def test_fresh_entry_needs_no_review(self, entry, super_user, payments):
        assert list(entries_needing_review(super_user, payments)) == []

    def test_due_date_passing_needs_review(self, entry, super_user, payments):
        later = timezone.localdate() + datetime.timedelta(days=180)
        due = list(entries_needing_review(super_user, payments, day=later))
        assert [e.pk for e in due] == [entry.pk]
        shown = date_format(later, "DATE_FORMAT")
        assert review_reasons(due[0]) == [f"Its review was due on {shown}"]

    @override_settings(ANSWERS_FAQ_REVIEW_DAYS=30)
    def test_review_days_come_from_setting(self, entry, super_user):
        mark_faq_reviewed(actor=super_user, entry=entry)
        entry.refresh_from_db()
        assert entry.review_due_on == timezone.localdate() + datetime.timedelta(30)

    def test_release_of_same_screen_needs_review(
        self, entry, facilitator, super_user, payments
    ):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        record_release(
            actor=facilitator,
            title="CRM 4.2",
            released_on=tomorrow,
            context_keys=[SHORT_PAYMENT],
        )
        assert list(entries_needing_review(super_user, payments)) == []
        due = list(entries_needing_review(super_user, payments, day=tomorrow))
        assert [e.pk for e in due] == [entry.pk]
        shown = date_format(tomorrow, "DATE_FORMAT")
        assert review_reasons(due[0], day=tomorrow) == [
            f"A release changed its screen since the last review: CRM 4.2 ({shown})"
        ]

    def test_release_of_child_screen_flags_parent_entry(
        self, super_user, open_post, payments, facilitator
    ):
        parent_entry = create_faq_entry(
            actor=super_user,
            source=open_post,
            question_text="Order screen basics?",
            crm_function=payments,
            contexts=[context("reconciliation.order")],
        )
        FaqEntry.objects.filter(pk=parent_entry.pk).update(
            last_reviewed_on=datetime.date(2026, 1, 1), last_reviewed_at=JAN_FIRST
        )
        record_release(
            actor=facilitator,
            title="CRM 4.1",
            released_on=datetime.date(2026, 2, 1),
            context_keys=[SHORT_PAYMENT],
        )
        flagged = with_review_state(FaqEntry.objects.filter(pk=parent_entry.pk)).get()
        assert flagged.screen_changed is True

    def test_sibling_or_parent_change_ignored(
        self, entry, facilitator, super_user, payments
    ):
        FaqEntry.objects.filter(pk=entry.pk).update(
            last_reviewed_on=datetime.date(2026, 1, 1), last_reviewed_at=JAN_FIRST
        )
        record_release(
            actor=facilitator,
            title="CRM 4.1",
            released_on=datetime.date(2026, 2, 1),
            context_keys=["reconciliation.order.over_payment", "reconciliation.order"],
        )
        assert list(entries_needing_review(super_user, payments)) == []

    def test_review_after_release_clears_it(
        self, entry, facilitator, super_user, payments
    ):
        FaqEntry.objects.filter(pk=entry.pk).update(
            last_reviewed_on=datetime.date(2026, 1, 1), last_reviewed_at=JAN_FIRST
        )
        record_release(
            actor=facilitator,
            title="CRM 4.1",
            released_on=datetime.date(2026, 2, 1),
            context_keys=[SHORT_PAYMENT],
        )
        assert [e.pk for e in entries_needing_review(super_user, payments)] == [
            entry.pk
        ]
        mark_faq_reviewed(actor=super_user, entry=entry)
        assert list(entries_needing_review(super_user, payments)) == []
        event = AuditEvent.objects.get(action="faq.reviewed")
        assert event.before["last_reviewed_on"] == "2026-01-01"

    def test_deleted_source_answer_needs_review(
        self, sales_rep, super_user, facilitator, payments_community, payments
    ):
        question = create_question(
            author=sales_rep, community=payments_community, title="Fee?"
        )
        answer = post_answer(author=super_user, question=question, body="Yes.")
        accept_answer(actor=sales_rep, answer=answer)
        entry = promote_answer_to_faq(actor=facilitator, answer=answer)
        delete_answer(actor=super_user, answer=answer)
        due = list(entries_needing_review(super_user, payments))
        assert [e.pk for e in due] == [entry.pk]
        assert review_reasons(due[0]) == ["Its accepted answer was deleted"]

    def test_edit_counts_as_review(self, entry, super_user, payments):
        FaqEntry.objects.filter(pk=entry.pk).update(
            review_due_on=datetime.date(2026, 1, 1), review_flag="source_edited"
        )
        edit_faq_entry(
            actor=super_user,
            entry=entry,
            question_text="Is a short payment under 1 % a bank fee?",
            answer_text="Yes: write it off with code BF.",
        )
        entry.refresh_from_db()
        assert entry.review_flag == ""
        assert entry.answer_html == "<p>Yes: write it off with code BF.</p>\n"
        assert list(entries_needing_review(super_user, payments)) == []

    def test_outsider_may_not_review_or_edit(self, entry, outsider):
        with pytest.raises(PermissionDenied, match="Only the owners of this FAQ"):
            mark_faq_reviewed(actor=outsider, entry=entry)
        with pytest.raises(PermissionDenied, match="Only the owners of this FAQ"):
            edit_faq_entry(
                actor=outsider, entry=entry, question_text="x", answer_text="y"
            )


class TestReleases:
    def test_only_facilitators_record(self, super_user):
        with pytest.raises(PermissionDenied, match="Only a learning facilitator"):
            record_release(
                actor=super_user,
                title="CRM 5",
                released_on=datetime.date(2026, 3, 1),
                context_keys=[SHORT_PAYMENT],
            )

    def test_unknown_key_is_named(self, facilitator):
        with pytest.raises(ValidationError, match=r"Unknown help context 'crm\.nope'"):
            record_release(
                actor=facilitator,
                title="CRM 5",
                released_on=datetime.date(2026, 3, 1),
                context_keys=[SHORT_PAYMENT, "crm.nope"],
            )

    def test_page_records_for_facilitator(self, signed_in, facilitator):
        response = signed_in(facilitator).post(
            "/questions/releases/",
            {
                "title": "CRM 5",
                "released_on": "2026-03-01",
                "contexts": [SHORT_PAYMENT, "reconciliation.order"],
            },
        )
        assert response.status_code == 302
        event = AuditEvent.objects.get(action="release.recorded")
        assert event.after["released_on"] == "2026-03-01"
        assert sorted(event.after["contexts"]) == [
            "reconciliation.order",
            SHORT_PAYMENT,
        ]

    def test_bad_date_is_named(self, signed_in, facilitator):
        response = signed_in(facilitator).post(
            "/questions/releases/",
            {"title": "CRM 5", "released_on": "1.3.2026", "contexts": [SHORT_PAYMENT]},
        )
        assert response.status_code == 422
        assert "Enter the release date as YYYY-MM-DD." in response.content.decode()

    def test_super_user_post_is_403_and_customer_404(
        self, signed_in, super_user, customer
    ):
        data = {"title": "X", "released_on": "2026-03-01", "contexts": [SHORT_PAYMENT]}
        assert (
            signed_in(super_user).post("/questions/releases/", data).status_code == 403
        )
        assert signed_in(customer).get("/questions/releases/").status_code == 404


class TestFunctionDesks:
    def test_review_page_for_owner(self, signed_in, entry, super_user):
        FaqEntry.objects.filter(pk=entry.pk).update(
            review_due_on=datetime.date(2026, 1, 1)
        )
        response = signed_in(super_user).get("/questions/functions/payments/review/")
        assert response.status_code == 200
        assert [e.pk for e in response.context["page"]] == [entry.pk]

    def test_review_button_sets_next_date(self, signed_in, entry, super_user):
        FaqEntry.objects.filter(pk=entry.pk).update(
            review_due_on=datetime.date(2026, 1, 1)
        )
        response = signed_in(super_user).post(
            f"/questions/faq/{entry.pk}/reviewed/",
            {"next": "/questions/functions/payments/review/"},
        )
        assert response["Location"] == "/questions/functions/payments/review/"
        entry.refresh_from_db()
        assert entry.review_due_on == timezone.localdate() + datetime.timedelta(180)
        assert entry.reviewed_by == super_user

    def test_review_redirect_ignores_other_hosts(self, signed_in, entry, super_user):
        response = signed_in(super_user).post(
            f"/questions/faq/{entry.pk}/reviewed/", {"next": "https://evil.example/"}
        )
        assert response["Location"] == f"/questions/faq/{entry.pk}/"

    @pytest.mark.parametrize("who", ["outsider", "customer", "member"])
    def test_desks_are_403_for_non_owners(self, signed_in, who, request, payments):
        person = request.getfixturevalue(who)
        client = signed_in(person)
        assert client.get("/questions/functions/payments/review/").status_code == 403
        assert (
            client.get("/questions/functions/payments/unanswered/").status_code == 403
        )

    def test_unknown_function_is_404(self, signed_in, super_user):
        response = signed_in(super_user).get("/questions/functions/nope/review/")
        assert response.status_code == 404

    @pytest.mark.parametrize("who", ["moderator", "facilitator", "super_user"])
    def test_desks_open_for_owners_and_stand_ins(
        self, signed_in, who, request, payments
    ):
        person = request.getfixturevalue(who)
        response = signed_in(person).get("/questions/functions/payments/unanswered/")
        assert response.status_code == 200

    def test_unanswered_lists_old_visible_questions_oldest_first(
        self,
        signed_in,
        sales_rep,
        super_user,
        payments_community,
        private_community,
        facilitator,
    ):
        old = create_question(
            author=sales_rep, community=payments_community, title="Old"
        )
        older = create_question(
            author=sales_rep, community=payments_community, title="Older"
        )
        fresh = create_question(
            author=sales_rep, community=payments_community, title="Fresh"
        )
        answered = create_question(
            author=sales_rep, community=payments_community, title="Answered"
        )
        tombstoned = create_question(
            author=sales_rep, community=payments_community, title="Only deleted answer"
        )
        private = create_question(
            author=facilitator, community=private_community, title="Private"
        )
        private.crm_function = old.crm_function
        private.save()
        now = timezone.now()
        for question, hours in [
            (old, 30),
            (older, 50),
            (fresh, 2),
            (answered, 40),
            (tombstoned, 35),
            (private, 60),
        ]:
            Question.objects.filter(pk=question.pk).update(
                created_at=now - datetime.timedelta(hours=hours)
            )
        post_answer(author=super_user, question=answered, body="Done.")
        deleted_answer = post_answer(
            author=super_user, question=tombstoned, body="Oops."
        )
        delete_answer(actor=super_user, answer=deleted_answer)

        response = signed_in(super_user).get(
            "/questions/functions/payments/unanswered/"
        )
        titles = [q.title for q in response.context["page"]]
        assert titles == ["Older", "Only deleted answer", "Old"]

    @override_settings(ANSWERS_UNANSWERED_AFTER_HOURS=1)
    def test_threshold_comes_from_setting(
        self, signed_in, sales_rep, super_user, payments_community
    ):
        question = create_question(
            author=sales_rep, community=payments_community, title="Recent"
        )
        Question.objects.filter(pk=question.pk).update(
            created_at=timezone.now() - datetime.timedelta(hours=2)
        )
        response = signed_in(super_user).get(
            "/questions/functions/payments/unanswered/"
        )
        assert [q.pk for q in response.context["page"]] == [question.pk]


class TestPages:
    def test_new_entry_page_from_post(self, signed_in, open_post, super_user, payments):
        response = signed_in(super_user).post(
            f"/questions/faq/new/?post={open_post.pk}",
            {
                "question_text": "Bank fee?",
                "answer_text": "Yes.",
                "crm_function": payments.pk,
                "contexts": [context(SHORT_PAYMENT).pk],
            },
        )
        entry = FaqEntry.objects.get()
        assert response["Location"] == f"/questions/faq/{entry.pk}/"
        assert list(entry.contexts.values_list("key", flat=True)) == [SHORT_PAYMENT]

    def test_new_entry_page_for_hidden_post_is_404(
        self, signed_in, private_post, super_user
    ):
        response = signed_in(super_user).get(
            f"/questions/faq/new/?post={private_post.pk}"
        )
        assert response.status_code == 404

    def test_new_entry_page_for_customer_is_403(
        self, signed_in, customer, sales_rep, customer_community
    ):
        post = publish_post(author=sales_rep, community=customer_community, body="Hi")
        response = signed_in(customer).get(f"/questions/faq/new/?post={post.pk}")
        assert response.status_code == 403

    def test_new_entry_page_needs_one_source(self, signed_in, super_user):
        assert signed_in(super_user).get("/questions/faq/new/").status_code == 404

    @pytest.mark.parametrize("name", ["post", "comment"])
    @pytest.mark.parametrize("value", ["abc", "\u00b2", "\uff11", "0", "9" * 30])
    def test_bad_source_id_is_400(self, signed_in, super_user, name, value):
        client = signed_in(super_user)
        for path in ("/questions/faq/new/", "/questions/faq/source-link/"):
            response = client.get(path, {name: value})
            assert response.status_code == 400, path
            assert response.content.decode() == (
                f"{name}={value!r} is not an id: use a whole number from 1 to "
                "9223372036854775807, in the digits 0 to 9."
            )

    def test_post_page_loads_the_link_lazily(self, signed_in, open_post, outsider):
        html = signed_in(outsider).get(f"/posts/{open_post.pk}/").content.decode()
        assert (
            f'hx-get="/questions/faq/source-link/?post={open_post.pk}" '
            'hx-trigger="load"'
        ) in html

    def test_source_link_for_curators_only(
        self, signed_in, open_post, super_user, outsider, moderator
    ):
        link = (
            f'<a href="/questions/faq/new/?post={open_post.pk}" '
            'data-testid="make-faq-entry">Make FAQ entry</a>'
        )
        url = f"/questions/faq/source-link/?post={open_post.pk}"
        assert link in signed_in(super_user).get(url).content.decode()
        assert link in signed_in(moderator).get(url).content.decode()
        assert signed_in(outsider).get(url).content.strip() == b""

    def test_source_link_for_comment(self, signed_in, open_post, outsider, super_user):
        comment = post_comment(author=outsider, post=open_post, body="Code BF.")
        url = f"/questions/faq/source-link/?comment={comment.pk}"
        html = signed_in(super_user).get(url).content.decode()
        assert f'href="/questions/faq/new/?comment={comment.pk}"' in html

    def test_source_link_for_hidden_post_is_404(
        self, signed_in, private_post, super_user
    ):
        url = f"/questions/faq/source-link/?post={private_post.pk}"
        assert signed_in(super_user).get(url).status_code == 404

    def test_edit_page_for_owner(self, signed_in, entry, super_user):
        response = signed_in(super_user).post(
            f"/questions/faq/{entry.pk}/edit/",
            {"question_text": "New?", "answer_text": "New answer."},
        )
        assert response.status_code == 302
        entry.refresh_from_db()
        assert entry.question == "New?"
        assert list(entry.contexts.all()) == []

    def test_edit_page_is_403_for_outsider(self, signed_in, entry, outsider):
        assert (
            signed_in(outsider).get(f"/questions/faq/{entry.pk}/edit/").status_code
            == 403
        )


def test_question_list_links_own_desks(signed_in, super_user, outsider, customer):
    response = signed_in(super_user).get("/questions/")
    assert [f.slug for f in response.context["desks"]] == ["payments"]
    assert b'href="/questions/functions/payments/unanswered/"' in response.content
    assert signed_in(outsider).get("/questions/").context["desks"] == []
    assert signed_in(customer).get("/questions/").context["desks"] == []


def test_new_entry_form_names_its_source(signed_in, open_post, outsider, super_user):
    comment = post_comment(author=outsider, post=open_post, body="Code BF.")
    client = signed_in(super_user)
    from_post = client.get(f"/questions/faq/new/?post={open_post.pk}")
    from_comment = client.get(f"/questions/faq/new/?comment={comment.pk}")
    assert "Made from a post by Sally Tester" in from_post.content.decode()
    assert "Made from a comment by Otto Tester" in from_comment.content.decode()
    assert from_comment.context["form"].initial == {
        "question_text": "Code BF.",
        "answer_text": "Code BF.",
        "crm_function": CrmFunction.objects.get(slug="payments"),
    }


def test_release_list_without_form_for_super_user(signed_in, super_user, facilitator):
    record_release(
        actor=facilitator,
        title="CRM 4.2",
        released_on=datetime.date(2026, 3, 1),
        context_keys=[SHORT_PAYMENT],
    )
    response = signed_in(super_user).get("/questions/releases/")
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "CRM 4.2" in response.content.decode()
    assert SHORT_PAYMENT in response.content.decode()
