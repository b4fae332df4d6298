"""Profile pages, profile edits, endorsements, super-users and customer visibility.

Named people: ``outsider`` (otto) is an employee in no community, ``customer``
(carla) a customer account, ``member`` (mia) belongs to the private pricing
community, ``moderator`` (mo) moderates it, ``manager`` (max) has the manager
role.
"""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import views
from accounts.models import (
    Endorsement,
    PersonSkill,
    Role,
    Skill,
    SuperUserAssignment,
    User,
)
from accounts.profiles import (
    set_endorsement,
    set_super_user,
    set_visible_to_customers,
    update_profile,
)
from accounts.skills import MAX_SKILLS, clean_skills, normalize_skill, split_skills
from communities.models import Membership
from conftest import make_person
from core.models import AuditEvent
from social.models import Follow, Post
from social.services import post_comment, publish_post

pytestmark = pytest.mark.django_db


def signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def page_text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def manager(db) -> User:
    return make_person("max", Role.MANAGER, group="operations")


@pytest.fixture
def member(private_community, manager) -> User:
    person = make_person("mia", Role.SALES_REP, group="sales")
    person.title = "Key account rep"
    person.manager = manager
    person.save()
    Membership.objects.create(community=private_community, person=person)
    return person


@pytest.fixture
def moderator(private_community) -> User:
    person = make_person("mo", Role.FINANCE_CLERK, group="operations")
    Membership.objects.create(
        community=private_community, person=person, role=Membership.Role.MODERATOR
    )
    return person


def give_skills(person: User, *skills: str) -> None:
    update_profile(
        actor=person,
        person=person,
        headline=person.headline,
        about=person.about,
        skills=list(skills),
    )


class TestSkillNames:
    def test_normalize_folds_width_and_case(self):
        assert normalize_skill("  ＳＱＬ  Queries ") == "sql queries"
        assert normalize_skill("Straße") == "strasse"
        assert normalize_skill("Cash\u200bapplication") == "cashapplication"

    def test_split_takes_commas_and_lines(self):
        assert split_skills("Payments, SQL\nCash application") == [
            "Payments",
            " SQL",
            "Cash application",
        ]

    def test_clean_drops_blanks_and_repeats(self):
        skills = clean_skills(["Payments", " ", "PAYMENTS", "Credit notes"])
        assert [(s.name, s.display_name) for s in skills] == [
            ("payments", "Payments"),
            ("credit notes", "Credit notes"),
        ]

    def test_clean_rejects_too_many(self):
        with pytest.raises(ValidationError) as error:
            clean_skills([f"Skill {n}" for n in range(MAX_SKILLS + 1)])
        assert error.value.messages == [
            "The profile lists 21 skills; the limit is 20: keep the ones "
            "colleagues should find you for."
        ]

    def test_clean_rejects_too_long(self):
        with pytest.raises(ValidationError) as error:
            clean_skills(["x" * 51])
        assert error.value.messages == [
            f"The skill {'x' * 40!r} is 51 characters long; the limit is 50: "
            "use a shorter name."
        ]

    def test_clean_rejects_expansion_past_limit(self):
        # U+FDFA is one character that NFKC turns into 18.
        with pytest.raises(ValidationError) as error:
            clean_skills(["\ufdfa" * 3])
        assert "is 54 characters long; the limit is 50" in error.value.messages[0]

    def test_clean_rejects_punctuation_only(self):
        with pytest.raises(ValidationError) as error:
            clean_skills(["--"])
        assert error.value.messages == [
            "The skill '--' has no letters or digits: name it in words, such as "
            "'Cash application'."
        ]


class TestUpdateProfile:
    def test_about_mention_stays_plain(self, outsider):
        # Saving a profile notifies nobody, so no name looks like a mention.
        update_profile(
            actor=outsider,
            person=outsider,
            headline="",
            about="Ask @margaret first.",
            skills=[],
        )
        outsider.refresh_from_db()
        assert outsider.about_html == "<p>Ask @margaret first.</p>\n"

    def test_saves_fields_skills_and_audit(self, outsider):
        update_profile(
            actor=outsider,
            person=outsider,
            headline="  Pallets and  returns ",
            about="I handle **returns**. <script>alert(1)</script>",
            skills=["Returns", "Backorders"],
            visible_to_customers=True,
        )
        outsider.refresh_from_db()
        assert outsider.headline == "Pallets and returns"
        assert outsider.about_html == (
            "<p>I handle <strong>returns</strong>. "
            "&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
        )
        assert outsider.visible_to_customers is True
        assert list(
            PersonSkill.objects.filter(person=outsider).values_list(
                "skill__display_name", flat=True
            )
        ) == ["Returns", "Backorders"]
        event = AuditEvent.objects.get(action="profile.updated")
        assert event.after["skills"] == ["returns", "backorders"]

    def test_first_spelling_is_kept(self, outsider, sales_rep):
        give_skills(sales_rep, "SQL")
        give_skills(outsider, "sql")
        assert list(Skill.objects.values_list("name", "display_name")) == [
            ("sql", "SQL")
        ]

    def test_dropping_skill_drops_its_endorsements(self, outsider, sales_rep):
        give_skills(sales_rep, "Payments", "Returns")
        set_endorsement(
            endorser=outsider, person=sales_rep, skill_name="payments", active=True
        )
        set_endorsement(
            endorser=outsider, person=sales_rep, skill_name="returns", active=True
        )
        give_skills(sales_rep, "Returns")
        assert list(Endorsement.objects.values_list("skill__name", flat=True)) == [
            "returns"
        ]

    def test_bad_input_writes_nothing(self, outsider):
        give_skills(outsider, "Returns")
        with pytest.raises(ValidationError):
            update_profile(
                actor=outsider,
                person=outsider,
                headline="New headline",
                about="",
                skills=["Fine", "y" * 60],
            )
        outsider.refresh_from_db()
        assert outsider.headline == ""
        assert list(
            PersonSkill.objects.filter(person=outsider).values_list(
                "skill__name", flat=True
            )
        ) == ["returns"]

    def test_headline_too_long(self, outsider):
        with pytest.raises(ValidationError) as error:
            update_profile(
                actor=outsider, person=outsider, headline="h" * 161, about="", skills=[]
            )
        assert error.value.messages == [
            "The headline is 161 characters long; the limit is 160: keep it to "
            "one line."
        ]

    def test_only_the_person_edits(self, outsider, sales_rep):
        with pytest.raises(PermissionDenied):
            update_profile(
                actor=outsider, person=sales_rep, headline="", about="", skills=[]
            )

    def test_customer_cannot_set_visibility(self, customer):
        with pytest.raises(ValidationError) as error:
            update_profile(
                actor=customer,
                person=customer,
                headline="",
                about="",
                skills=[],
                visible_to_customers=True,
            )
        assert error.value.messages == [
            "Customer accounts cannot be shown to other customers: only staff "
            "profiles have that setting."
        ]


class TestEndorsements:
    def test_endorse_once_then_take_back(self, outsider, sales_rep):
        give_skills(sales_rep, "Payments")
        assert set_endorsement(
            endorser=outsider, person=sales_rep, skill_name="PAYMENTS", active=True
        )
        assert not set_endorsement(
            endorser=outsider, person=sales_rep, skill_name="payments", active=True
        )
        assert Endorsement.objects.count() == 1
        assert set_endorsement(
            endorser=outsider, person=sales_rep, skill_name="payments", active=False
        )
        assert Endorsement.objects.count() == 0
        actions = list(
            AuditEvent.objects.filter(action__startswith="skill.").values_list(
                "action", flat=True
            )
        )
        assert sorted(actions) == ["skill.endorsed", "skill.endorsement_withdrawn"]

    def test_self_endorsement_rejected(self, sales_rep):
        give_skills(sales_rep, "Payments")
        with pytest.raises(ValidationError) as error:
            set_endorsement(
                endorser=sales_rep, person=sales_rep, skill_name="payments", active=True
            )
        assert error.value.messages == [
            "You cannot endorse your own skills: ask a colleague who has seen "
            "your work."
        ]

    def test_unlisted_skill_rejected(self, outsider, sales_rep):
        give_skills(sales_rep, "Payments")
        with pytest.raises(ValidationError) as error:
            set_endorsement(
                endorser=outsider, person=sales_rep, skill_name=" Sql ", active=True
            )
        assert error.value.messages == [
            "Sally Tester does not list the skill 'Sql': endorse one of the skills "
            "on their profile."
        ]

    def test_customer_cannot_endorse(self, customer, sales_rep):
        give_skills(sales_rep, "Payments")
        User.objects.filter(pk=sales_rep.pk).update(visible_to_customers=True)
        with pytest.raises(PermissionDenied):
            set_endorsement(
                endorser=customer, person=sales_rep, skill_name="payments", active=True
            )

    def test_customer_cannot_be_endorsed(self, outsider, customer):
        give_skills(customer, "Ordering")
        with pytest.raises(ValidationError) as error:
            set_endorsement(
                endorser=outsider, person=customer, skill_name="ordering", active=True
            )
        assert error.value.messages == [
            "Carla Tester is a customer account: only colleagues' skills can be "
            "endorsed."
        ]

    def test_database_rejects_duplicate(self, outsider, sales_rep):
        skill = Skill.objects.create(name="payments", display_name="Payments")
        Endorsement.objects.create(endorser=outsider, person=sales_rep, skill=skill)
        with pytest.raises(IntegrityError), transaction.atomic():
            Endorsement.objects.create(endorser=outsider, person=sales_rep, skill=skill)

    def test_database_rejects_self(self, sales_rep):
        skill = Skill.objects.create(name="payments", display_name="Payments")
        with pytest.raises(IntegrityError), transaction.atomic():
            Endorsement.objects.create(
                endorser=sales_rep, person=sales_rep, skill=skill
            )


@pytest.mark.django_db(transaction=True)
def test_concurrent_endorse_leaves_one_row(outsider, sales_rep):
    """Eight threads endorse the same skill for the same person at once."""
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db()
    give_skills(sales_rep, "Payments")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    results: list[bool] = []

    def click() -> None:
        try:
            barrier.wait()
            results.append(
                set_endorsement(
                    endorser=outsider,
                    person=sales_rep,
                    skill_name="payments",
                    active=True,
                )
            )
        except BaseException as error:  # collected for the assert below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
    assert Endorsement.objects.count() == 1
    assert AuditEvent.objects.filter(action="skill.endorsed").count() == 1


class TestSuperUsers:
    def test_manager_names_and_removes(self, manager, outsider, payments):
        assert set_super_user(
            actor=manager, person=outsider, crm_function=payments, active=True
        )
        assert not set_super_user(
            actor=manager, person=outsider, crm_function=payments, active=True
        )
        assignment = SuperUserAssignment.objects.get(person=outsider)
        assert assignment.named_by == manager
        assert set_super_user(
            actor=manager, person=outsider, crm_function=payments, active=False
        )
        assert not SuperUserAssignment.objects.filter(person=outsider).exists()

    def test_facilitator_may_name(self, facilitator, outsider, payments):
        assert set_super_user(
            actor=facilitator, person=outsider, crm_function=payments, active=True
        )

    def test_other_roles_may_not(self, sales_rep, outsider, payments):
        with pytest.raises(PermissionDenied):
            set_super_user(
                actor=sales_rep, person=outsider, crm_function=payments, active=True
            )

    def test_customer_cannot_be_super_user(self, manager, customer, payments):
        with pytest.raises(ValidationError) as error:
            set_super_user(
                actor=manager, person=customer, crm_function=payments, active=True
            )
        assert error.value.messages == [
            "Carla Tester is a customer account: only staff can be super-users."
        ]

    def test_page_button_names_super_user(self, manager, outsider):
        response = signed_in(manager).post(
            "/people/otto/super-user/", {"function": "payments", "active": "1"}
        )
        assert response.status_code == 302
        assert SuperUserAssignment.objects.filter(
            person=outsider, crm_function__slug="payments"
        ).exists()
        html = page_text(signed_in(outsider), "/people/otto/")
        assert "Super-user · Payments" in html

    def test_page_button_unknown_function(self, manager, outsider):
        client = signed_in(manager)
        client.post("/people/otto/super-user/", {"function": "nope", "active": "1"})
        html = page_text(client, "/people/otto/")
        assert "No CRM function has the slug &#x27;nope&#x27;: pick one below." in html

    def test_page_button_forbidden_for_clerk(self, sales_rep, outsider):
        response = signed_in(sales_rep).post(
            "/people/otto/super-user/", {"function": "payments", "active": "1"}
        )
        assert response.status_code == 403
        assert not SuperUserAssignment.objects.exists()

    def test_manage_section_only_for_managers(self, manager, sales_rep, outsider):
        assert 'data-testid="manage-profile"' in page_text(
            signed_in(manager), "/people/otto/"
        )
        assert 'data-testid="manage-profile"' not in page_text(
            signed_in(sales_rep), "/people/otto/"
        )


class TestVisibilityFlag:
    def test_person_sets_own_flag(self, outsider):
        assert set_visible_to_customers(actor=outsider, person=outsider, visible=True)
        assert not set_visible_to_customers(
            actor=outsider, person=outsider, visible=True
        )

    def test_line_manager_sets_flag(self, manager, member):
        response = signed_in(manager).post("/people/mia/visibility/", {"active": "1"})
        assert response.status_code == 302
        member.refresh_from_db()
        assert member.visible_to_customers is True
        assert AuditEvent.objects.filter(action="profile.visibility_changed").count()

    def test_colleague_cannot_set_flag(self, outsider, sales_rep):
        response = signed_in(outsider).post(
            "/people/sally/visibility/", {"active": "1"}
        )
        assert response.status_code == 403
        sales_rep.refresh_from_db()
        assert sales_rep.visible_to_customers is False

    def test_bad_active_value_message(self, outsider):
        client = signed_in(outsider)
        client.post("/people/otto/visibility/", {"active": "yes"})
        html = page_text(client, "/people/otto/")
        assert (
            "The &#x27;active&#x27; value &#x27;yes&#x27; is invalid: send 1 or 0."
            in html
        )


@pytest.fixture
def visible_staff(member: User, payments) -> User:
    """Mia, shown to customers, with everything a profile can carry."""
    give_skills(member, "Key accounts", "Credit notes")
    member.headline = "Ask me about key accounts"
    member.visible_to_customers = True
    member.save()
    member.crm_functions.add(payments)
    SuperUserAssignment.objects.create(person=member, crm_function=payments)
    return member


class TestCustomerView:
    def test_public_fields_only(self, customer, visible_staff, outsider, sales_rep):
        set_endorsement(
            endorser=outsider,
            person=visible_staff,
            skill_name="key accounts",
            active=True,
        )
        Follow.objects.create(follower=sales_rep, person=visible_staff)
        html = page_text(signed_in(customer), "/people/mia/")

        for public in (
            "Mia Tester",
            "Key account rep",
            "Sales representative",
            "Ask me about key accounts",
            "Key accounts",
            "Credit notes",
            "Super-user · Payments",
            "1 endorsement",
        ):
            assert public in html
        for internal in (
            "mia@example.com",  # e-mail
            "Sales</dd>",  # learner group
            "Max Tester",  # manager
            "Otto Tester",  # endorser
            "Sally Tester",  # follower
            "internal-facts",
            "Followers",
        ):
            assert internal not in html

    def test_employee_sees_internal_fields(self, outsider, visible_staff, sales_rep):
        set_endorsement(
            endorser=outsider,
            person=visible_staff,
            skill_name="key accounts",
            active=True,
        )
        Follow.objects.create(follower=sales_rep, person=visible_staff)
        html = page_text(signed_in(outsider), "/people/mia/")
        assert "mia@example.com" in html
        assert "<dd>Sales</dd>" in html
        assert "<dd>Max Tester</dd>" in html
        assert "· Otto Tester" in html
        assert '<dd data-testid="follower-count">1</dd>' in html
        assert "<p>Sally Tester</p>" in html

    def test_hidden_staff_is_404(self, customer, outsider):
        response = signed_in(customer).get("/people/otto/")
        assert response.status_code == 404
        assert "Otto" not in response.content.decode()

    def test_customer_sees_own_profile(self, customer):
        html = page_text(signed_in(customer), "/people/carla/")
        assert "carla@example.com" in html
        assert "Customer" in html

    def test_other_customer_is_404(self, customer, other_party):
        make_person("olga", Role.CUSTOMER, customer=other_party, group="customers")
        assert signed_in(customer).get("/people/olga/").status_code == 404

    def test_customer_gets_no_endorse_button(self, customer, visible_staff):
        html = page_text(signed_in(customer), "/people/mia/")
        assert 'data-testid="endorse"' not in html

    def test_signed_out_redirects_to_login(self, visible_staff):
        response = Client().get("/people/mia/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


class TestRecentActivity:
    @pytest.fixture
    def posts(self, member, private_community, payments_community, facilitator):
        secret_blog = Post.objects.create(
            community=private_community,
            kind=Post.Kind.BLOG,
            title="Secret margin plan",
            author=member,
            author_name=member.display_name,
            body="Margins for 1999",
            body_html="<p>Margins for 1999</p>",
        )
        publish_post(
            author=member, community=private_community, body="Price list v7 draft"
        )
        owner_post = publish_post(
            author=facilitator, community=private_community, body="Owner note"
        )
        post_comment(author=member, post=owner_post, body="Hidden reply text")
        publish_post(author=member, community=payments_community, body="Short-pay tip")
        return secret_blog

    def test_outsider_sees_no_private_activity(self, outsider, posts):
        html = page_text(signed_in(outsider), "/people/mia/")
        assert "Short-pay tip" in html
        for private in (
            "Secret margin plan",
            "Margins for 1999",
            "Price list v7",
            "Hidden reply text",
            "Pricing internal",
            f"/posts/{posts.pk}/",
        ):
            assert private not in html
        assert html.count('data-testid="activity-item"') == 1

    def test_moderator_sees_private_activity(self, moderator, posts):
        html = page_text(signed_in(moderator), "/people/mia/")
        for shown in (
            "Secret margin plan",
            "Margins for 1999",
            "Price list v7 draft",
            "Hidden reply text",
            "Pricing internal",
            "Short-pay tip",
        ):
            assert shown in html
        assert html.count('data-testid="activity-item"') == 4

    def test_member_sees_own_private_activity(self, member, posts):
        html = page_text(signed_in(member), "/people/mia/")
        assert "Secret margin plan" in html
        assert html.count('data-testid="activity-item"') == 4

    def test_customer_sees_only_customer_space(
        self, customer, visible_staff, posts, customer_community
    ):
        publish_post(
            author=visible_staff, community=customer_community, body="Hello customers"
        )
        html = page_text(signed_in(customer), "/people/mia/")
        assert "Hello customers" in html
        assert "Short-pay tip" not in html
        assert "Payments</a>" not in html
        assert html.count('data-testid="activity-item"') == 1

    def test_snippet_is_cut_server_side(self, outsider, member, payments_community):
        body = "word " * 100 + "TAILEND"
        publish_post(author=member, community=payments_community, body=body)
        html = page_text(signed_in(outsider), "/people/mia/")
        assert "TAILEND" not in html
        assert "word word…" in html


class TestProfileEditPage:
    def test_get_shows_current_values(self, outsider):
        give_skills(outsider, "Returns", "Backorders")
        html = page_text(signed_in(outsider), "/people/otto/edit/")
        assert "Returns\nBackorders</textarea>" in html

    def test_post_saves_and_redirects(self, outsider):
        response = signed_in(outsider).post(
            "/people/otto/edit/",
            {
                "headline": "Returns desk",
                "about": "Ask me about *returns*",
                "skills": "Returns, Backorders",
                "visible_to_customers": "on",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == "/people/otto/"
        outsider.refresh_from_db()
        assert outsider.headline == "Returns desk"
        assert outsider.visible_to_customers is True
        html = page_text(signed_in(outsider), "/people/otto/")
        assert "<p>Ask me about <em>returns</em></p>" in html

    def test_bad_input_is_422_with_message(self, outsider):
        response = signed_in(outsider).post(
            "/people/otto/edit/",
            {"headline": "Kept?", "about": "", "skills": "Ok, " + "z" * 55},
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert (
            f"The skill &#x27;{'z' * 40}&#x27; is 55 characters long; the limit "
            "is 50: use a shorter name."
        ) in html
        outsider.refresh_from_db()
        assert outsider.headline == ""

    def test_other_person_gets_403(self, outsider, sales_rep):
        assert signed_in(outsider).get("/people/sally/edit/").status_code == 403

    def test_customer_form_has_no_visibility_box(self, customer):
        html = page_text(signed_in(customer), "/people/carla/edit/")
        assert "visible_to_customers" not in html


class TestEndorsePage:
    def test_endorse_button_round_trip(self, outsider, sales_rep):
        give_skills(sales_rep, "Payments")
        client = signed_in(outsider)
        response = client.post(
            "/people/sally/endorse/", {"skill": "payments", "active": "1"}
        )
        assert response.status_code == 302
        html = page_text(client, "/people/sally/")
        assert "You endorsed Sally Tester for Payments." in html
        assert "1 endorsement" in html
        assert "Take back endorsement" in html

    def test_missing_skill_shows_message(self, outsider, sales_rep):
        client = signed_in(outsider)
        client.post("/people/sally/endorse/", {"active": "1"})
        html = page_text(client, "/people/sally/")
        assert (
            "The request names no skill: send the skill&#x27;s name in "
            "&#x27;skill&#x27;." in html
        )

    def test_self_endorse_shows_message(self, sales_rep):
        give_skills(sales_rep, "Payments")
        client = signed_in(sales_rep)
        client.post("/people/sally/endorse/", {"skill": "payments", "active": "1"})
        html = page_text(client, "/people/sally/")
        assert "You cannot endorse your own skills" in html
        assert Endorsement.objects.count() == 0

    def test_hidden_person_is_404(self, customer, sales_rep):
        response = signed_in(customer).post(
            "/people/sally/endorse/", {"skill": "payments", "active": "1"}
        )
        assert response.status_code == 404


class TestFollowButton:
    def test_button_follows_and_returns(self, outsider, sales_rep):
        client = signed_in(outsider)
        html = page_text(client, "/people/sally/")
        assert 'action="/follows/person/sally/"' in html
        assert '<input type="hidden" name="active" value="1">' in html

        response = client.post(
            "/follows/person/sally/", {"active": "1", "next": "/people/sally/"}
        )
        assert response.status_code == 302
        assert response["Location"] == "/people/sally/"
        assert Follow.objects.filter(follower=outsider, person=sales_rep).count() == 1

        html = page_text(client, "/people/sally/")
        assert ">Unfollow</button>" in html
        assert '<dd data-testid="follower-count">1</dd>' in html

    def test_no_button_on_own_profile(self, outsider):
        html = page_text(signed_in(outsider), "/people/otto/")
        assert 'data-testid="follow-person"' not in html

    def test_no_button_without_route(self, outsider, sales_rep, monkeypatch):
        monkeypatch.setattr(views, "FOLLOW_PERSON_URL_NAME", "follows:missing")
        html = page_text(signed_in(outsider), "/people/sally/")
        assert 'data-testid="follow-person"' not in html


def profile_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def test_profile_queries_constant_over_content(outsider, sales_rep, payments_community):
    colleagues = [make_person(f"peer{n}", Role.WAREHOUSE) for n in range(4)]
    give_skills(sales_rep, "One")
    give_skills(outsider, *[f"Skill {n}" for n in range(8)])
    for peer in colleagues:
        Follow.objects.create(follower=peer, person=outsider)
        for n in range(8):
            set_endorsement(
                endorser=peer, person=outsider, skill_name=f"skill {n}", active=True
            )
    for n in range(5):
        publish_post(author=outsider, community=payments_community, body=f"Tip {n}")
    client = signed_in(sales_rep)
    client.get("/people/sally/")  # the session is read and cached on the first request

    small = profile_queries(client, "/people/sally/")
    large = profile_queries(client, "/people/otto/")

    assert small == large
    # Session, viewer, unread count; the person, the person again with three
    # prefetches, endorsements, follower count and names, own follow, posts,
    # comments.
    assert large == 14
