"""Attacks on every page, JSON endpoint and write path, as each kind of viewer.

Each test plays one attacker (signed out, outsider, customer, member, curator)
against one surface and asserts the exact response. Tests marked ``xfail`` pin a
bug that is still open: the reason names the bug, and ``strict=True`` makes the
suite fail once the bug is fixed, so the marker gets removed with the fix.
"""

import html
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client

from accounts.models import Role
from answers.models import Answer, FaqEntry, Question
from answers.services import accept_answer, create_question, post_answer
from assist.models import HelpContext
from assist.services import ask_from_context
from communities.models import Community, Membership
from conftest import make_person
from library.models import Document
from notifications.models import Notification
from reconciliation.models import Discrepancy, Party
from social.models import Hashtag, Post
from social.services import publish_post

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"
PRIVATE_TITLE = "Floor price for the ALFKI renewal"
UNKNOWN_CONTEXT_DETAIL = (
    "Unknown help context {key!r}: use a key a CRM screen declares, "
    "such as 'reconciliation.order'."
)
# Text made only of invisible characters: a zero-width space, a mix of
# zero-width space, left-to-right mark and byte order mark, a soft hyphen, and
# the C0 controls BEL and ESC. None of them is whitespace to str.strip().
INVISIBLE_TEXTS = ["\u200b", "\u200b\u200e\ufeff", "\u00ad", "\x07\x1b"]


def signed_in(person, **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(person)
    return client


def flash_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def alert_text(response) -> str:
    """Return the unescaped text of the first ``role="alert"`` element."""
    match = re.search(r'role="alert">(.*?)</p>', response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else ""


def ask_htmx(client: Client, **fields: str):
    data = {"context": SHORT_PAYMENT, "title": "Write off 0.40 or dispute it?"}
    data.update(fields)
    return client.post("/assist/ask/", data, HTTP_HX_REQUEST="true")


class DangerousMarkupFinder(HTMLParser):
    """Collect elements and attributes in rendered HTML that could run script.

    The page's own htmx bundle, loaded from /static/, is the one allowed
    script element.
    """

    ACTIVE_TAGS = frozenset({"script", "iframe", "object", "embed", "svg", "math"})
    URL_ATTRIBUTES = frozenset(
        {"href", "src", "action", "formaction", "hx-get", "hx-post", "srcdoc"}
    )
    BAD_SCHEMES = ("javascript:", "vbscript:", "data:")

    def __init__(self) -> None:
        super().__init__()
        self.findings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        is_own_script = tag == "script" and values.get("src", "").startswith("/static/")
        if tag in self.ACTIVE_TAGS and not is_own_script:
            self.findings.append(f"<{tag}>")
        for name, value in values.items():
            if name.startswith(("on", "hx-on")):
                self.findings.append(f"<{tag} {name}>")
            # The parser has already decoded entities, and browsers also
            # ignore controls and spaces inside a scheme.
            squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
            if name in self.URL_ATTRIBUTES and squeezed.startswith(self.BAD_SCHEMES):
                self.findings.append(f"<{tag} {name}={value!r}>")


def dangerous_markup(text: str) -> list[str]:
    finder = DangerousMarkupFinder()
    finder.feed(text)
    finder.close()
    return finder.findings


@pytest.fixture
def member(sales_rep, private_community):
    """Sally, a plain member of the private community."""
    Membership.objects.create(
        community=private_community, person=sales_rep, role=Membership.Role.MEMBER
    )
    return sales_rep


@pytest.fixture
def moderator(db):
    return make_person("mona", Role.MODERATOR, group="customer_service")


@pytest.fixture
def private_question(facilitator, private_community) -> Question:
    return create_question(
        author=facilitator,
        community=private_community,
        title=PRIVATE_TITLE,
        body="Never below 12 percent.",
        context=HelpContext.objects.get(key="reconciliation.order"),
    )


@pytest.fixture
def private_answer(facilitator, private_question) -> Answer:
    return post_answer(
        author=facilitator, question=private_question, body="Ask Paula first."
    )


@pytest.fixture
def open_question(sales_rep, payments_community) -> Question:
    return create_question(
        author=sales_rep,
        community=payments_community,
        title="Short payment on 10250, write off?",
        context=HelpContext.objects.get(key=SHORT_PAYMENT),
    )


@pytest.fixture
def open_answer(outsider, open_question) -> Answer:
    return post_answer(author=outsider, question=open_question, body="Dispute it.")


@pytest.fixture
def child_party(company, customer_party) -> Party:
    return Party.objects.create(
        company=company,
        code="ALFKI-B",
        name="Alfreds Berlin",
        currency_id="USD",
        parent=customer_party,
    )


# --- Object routes: hidden objects return 404 and never name themselves ---


class TestPrivateQuestionRoutes:
    def test_outsider_gets_404_everywhere(
        self, outsider, private_question, private_answer
    ):
        client = signed_in(outsider)
        pk = private_question.pk
        responses = {
            "page": client.get(f"/questions/{pk}/"),
            "api": client.get(f"/api/answers/questions/{pk}"),
            "answer": client.post(f"/questions/{pk}/answers/", {"body": "hi"}),
            "accept": client.post(f"/questions/answers/{private_answer.pk}/accept/"),
            "promote": client.post(f"/questions/answers/{private_answer.pk}/promote/"),
            "community": client.get("/communities/pricing-internal/"),
            "post": client.post("/communities/pricing-internal/posts/", {"body": "x"}),
        }
        assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(
            responses, 404
        )
        for response in responses.values():
            assert PRIVATE_TITLE.encode() not in response.content
            assert b"Pricing internal" not in response.content
        assert private_question.answers.count() == 1
        assert Post.objects.count() == 0

    def test_api_404_names_only_the_id(self, outsider, private_question):
        response = signed_in(outsider).get(
            f"/api/answers/questions/{private_question.pk}"
        )
        assert response.json() == {
            "detail": f"No question {private_question.pk} found among those you may see."
        }

    def test_neighbouring_ids_are_404(self, customer, private_question):
        client = signed_in(customer)
        for pk in (private_question.pk - 1, private_question.pk + 1, 2**70):
            assert client.get(f"/questions/{pk}/").status_code == 404
            assert client.get(f"/api/answers/questions/{pk}").status_code == 404

    def test_customer_gets_404(self, customer, private_question, open_question):
        client = signed_in(customer)
        for question in (private_question, open_question):
            page = client.get(f"/questions/{question.pk}/")
            api = client.get(f"/api/answers/questions/{question.pk}")
            assert page.status_code == 404
            assert api.status_code == 404
            assert question.title.encode() not in page.content + api.content

    def test_member_reads_page_and_api(self, member, private_question):
        client = signed_in(member)
        assert client.get(f"/questions/{private_question.pk}/").status_code == 200
        api = client.get(f"/api/answers/questions/{private_question.pk}")
        assert api.json()["title"] == PRIVATE_TITLE

    def test_global_moderator_not_member_gets_404(self, moderator, private_question):
        response = signed_in(moderator).get(f"/questions/{private_question.pk}/")
        assert response.status_code == 404

    def test_signed_out_redirect_hides_title(self, private_question):
        response = Client().get(f"/questions/{private_question.pk}/")
        assert response.status_code == 302
        assert response["Location"] == (
            f"/accounts/login/?next=/questions/{private_question.pk}/"
        )
        assert PRIVATE_TITLE.encode() not in response.content

    def test_signed_out_api_is_401(self, private_question):
        response = Client().get(f"/api/answers/questions/{private_question.pk}")
        assert response.status_code == 401
        assert PRIVATE_TITLE.encode() not in response.content


class TestOrderRoutes:
    def test_customer_sees_own_and_child_orders_only(
        self, customer, customer_party, other_party, child_party, make_order
    ):
        make_order("10643", customer_party)
        make_order("10644", other_party)
        make_order("10645", child_party)
        client = signed_in(customer)
        numbers = ["10642", "10643", "10644", "10645", "10646"]
        pages = {
            n: client.get(f"/reconciliation/orders/{n}/").status_code for n in numbers
        }
        apis = {
            n: client.get(f"/api/reconciliation/orders/{n}").status_code
            for n in numbers
        }
        # A customer's own orders open on the portal's order page.
        assert pages == {
            "10642": 404,
            "10643": 302,
            "10644": 404,
            "10645": 302,
            "10646": 404,
        }
        assert apis == {
            "10642": 404,
            "10643": 200,
            "10644": 404,
            "10645": 200,
            "10646": 404,
        }

    def test_other_company_order_404_hides_customer(
        self, customer, other_party, make_order
    ):
        make_order("10644", other_party)
        client = signed_in(customer)
        page = client.get("/reconciliation/orders/10644/")
        api = client.get("/api/reconciliation/orders/10644")
        assert b"Bon app" not in page.content
        assert api.json() == {
            "detail": "No order '10644' found among the orders you may see."
        }

    def test_customer_list_and_api_skip_other_company(
        self, customer, customer_party, other_party, make_order
    ):
        make_order("10643", customer_party)
        make_order("10644", other_party)
        client = signed_in(customer)
        api = client.get("/api/reconciliation/orders", {"limit": 200})
        page = client.get("/reconciliation/orders/", {"q": "10644"})
        assert [order["number"] for order in api.json()] == ["10643"]
        assert b"10644</a>" not in page.content


class TestFaqAndDocumentRoutes:
    @pytest.fixture
    def entries(self):
        internal = FaqEntry.objects.create(
            question="Internal write-off limits", answer="500", answer_html="<p>500</p>"
        )
        public = FaqEntry.objects.create(
            question="When is my invoice due?",
            answer="30 days",
            answer_html="<p>30 days</p>",
            customer_visible=True,
        )
        return internal, public

    @pytest.fixture
    def documents(self):
        internal = Document.objects.create(
            title="Price list 1998", summary="Internal", body="x", body_html="x"
        )
        public = Document.objects.create(
            title="Delivery terms",
            summary="For customers",
            body="x",
            body_html="x",
            customer_visible=True,
        )
        return internal, public

    def test_customer_reaches_only_marked_entries(self, customer, entries):
        internal, public = entries
        client = signed_in(customer)
        statuses = {
            "internal": client.get(f"/questions/faq/{internal.pk}/").status_code,
            "public": client.get(f"/questions/faq/{public.pk}/").status_code,
            "next id": client.get(f"/questions/faq/{public.pk + 1}/").status_code,
        }
        assert statuses == {"internal": 404, "public": 200, "next id": 404}

    def test_customer_reaches_only_marked_documents(self, customer, documents):
        internal, public = documents
        client = signed_in(customer)
        statuses = {
            "internal": client.get(f"/library/{internal.pk}/").status_code,
            "public": client.get(f"/library/{public.pk}/").status_code,
            "next id": client.get(f"/library/{public.pk + 1}/").status_code,
        }
        assert statuses == {"internal": 404, "public": 200, "next id": 404}

    def test_internal_404_page_hides_title(self, customer, entries, documents):
        client = signed_in(customer)
        faq = client.get(f"/questions/faq/{entries[0].pk}/")
        document = client.get(f"/library/{documents[0].pk}/")
        assert b"Internal write-off" not in faq.content
        assert b"Price list" not in document.content

    def test_help_panel_and_api_for_customer(
        self, customer, entries, documents, super_user
    ):
        # A customer reads only the portal's contexts.
        context = HelpContext.objects.get(key="portal.order")
        for item in (*entries, *documents):
            item.contexts.add(context)
        client = signed_in(customer)
        api = client.get("/api/assist/help", {"context": "portal.order"}).json()
        panel = client.get("/assist/panel/", {"context": "portal.order"})
        assert [entry["question"] for entry in api["faq_entries"]] == [
            "When is my invoice due?"
        ]
        assert [document["title"] for document in api["documents"]] == [
            "Delivery terms"
        ]
        assert api["super_users"] == []
        assert b"Internal write-off" not in panel.content
        assert b"Price list" not in panel.content


class TestNotificationsOfOthers:
    @pytest.fixture
    def routed(self, sales_rep, super_user, payments_community) -> Notification:
        ask_from_context(
            asker=sales_rep,
            context_key=SHORT_PAYMENT,
            title="Routed to Petra only",
            body="",
        )
        return Notification.objects.get(recipient=super_user)

    def test_list_shows_only_own(self, outsider, routed):
        response = signed_in(outsider).get("/notifications/")
        assert b"Routed to Petra" not in response.content

    def test_open_is_404_and_stays_unread(self, outsider, routed):
        client = signed_in(outsider)
        for pk in (routed.pk, routed.pk + 1):
            response = client.post(f"/notifications/{pk}/open/")
            assert response.status_code == 404
            assert b"Routed to Petra" not in response.content
        routed.refresh_from_db()
        assert routed.read_at is None

    def test_read_all_touches_only_own(self, outsider, routed):
        signed_in(outsider).post("/notifications/read-all/")
        routed.refresh_from_db()
        assert routed.read_at is None


class TestTagPages:
    def test_outsider_sees_no_private_post(
        self, outsider, facilitator, private_community
    ):
        publish_post(
            author=facilitator, community=private_community, body="#falcon floor 12%"
        )
        response = signed_in(outsider).get("/tags/falcon/")
        assert response.status_code == 200
        assert b"floor 12%" not in response.content
        assert b"Pricing internal" not in response.content

    def test_hidden_tag_reads_like_unused_tag(
        self, outsider, facilitator, private_community
    ):
        publish_post(
            author=facilitator, community=private_community, body="#ProjectFalcon plan"
        )
        response = signed_in(outsider).get("/tags/projectfalcon/")
        assert b"<h1>#projectfalcon</h1>" in response.content
        assert b"ProjectFalcon" not in response.content

    def test_odd_tag_names_do_not_error(self, sales_rep):
        client = signed_in(sales_rep)
        # NUL is removed, so "a%00b" opens the tag "ab"; names that are not
        # tags (signs only, too long, a zero-width space) are 404, not 500.
        expected = {"a%00b": 200, "%25_%25": 404, "x" * 10_000: 404, "%E2%80%8B": 404}
        for name, status in expected.items():
            assert client.get(f"/tags/{name}/").status_code == status

    def test_non_ascii_tag_page_lists_post(self, sales_rep, payments_community):
        publish_post(
            author=sales_rep, community=payments_community, body="#Übersetzung"
        )
        response = signed_in(sales_rep).get("/tags/%C3%9Cbersetzung/")
        assert response.content.count(b'data-testid="post"') == 1

    def test_expanded_tag_fits_its_column(self, sales_rep, payments_community):
        # U+FDFA is one letter that NFKC expands to 18 characters.
        signed_in(sales_rep).post(
            "/communities/payments/posts/", {"body": "#" + "\ufdfa" * 100}
        )
        assert Hashtag._meta.get_field("name").max_length == 100
        lengths = [len(name) for name in Hashtag.objects.values_list("name", flat=True)]
        assert [length for length in lengths if length > 100] == []


# --- Writes: permission, CSRF, methods ---


class TestWritePermissions:
    def test_customer_cannot_post_in_open_space(self, customer, payments_community):
        response = signed_in(customer).post(
            "/communities/payments/posts/", {"body": "hi"}
        )
        assert response.status_code == 404
        assert Post.objects.count() == 0

    def test_member_posts_in_private_space(self, member, private_community):
        response = signed_in(member).post(
            "/communities/pricing-internal/posts/", {"body": "Member tip"}
        )
        assert response.status_code == 302
        assert Post.objects.get().body == "Member tip"

    def test_outsider_cannot_accept(self, outsider, open_question, open_answer):
        # The outsider wrote the answer but did not ask the question.
        response = signed_in(outsider).post(
            f"/questions/answers/{open_answer.pk}/accept/"
        )
        open_question.refresh_from_db()
        assert response.status_code == 403
        assert (
            b"You wrote this answer, so only the asker or a moderator who did not "
            b"write it can accept it or withdraw its acceptance." in response.content
        )
        assert open_question.accepted_answer_id is None

    def test_asker_cannot_promote(self, sales_rep, open_question, open_answer):
        accept_answer(actor=sales_rep, answer=open_answer)
        response = signed_in(sales_rep).post(
            f"/questions/answers/{open_answer.pk}/promote/"
        )
        assert response.status_code == 403
        assert (
            b"Only a learning facilitator, a moderator or a super-user of this "
            b"CRM function can add answers to the FAQ." in response.content
        )
        assert FaqEntry.objects.count() == 0

    def test_unaccepted_answer_is_not_promoted(
        self, facilitator, open_question, open_answer
    ):
        response = signed_in(facilitator).post(
            f"/questions/answers/{open_answer.pk}/promote/"
        )
        assert response.status_code == 302
        assert response["Location"] == f"/questions/{open_question.pk}/"
        assert flash_messages(response) == [
            "Accept this answer first: only accepted answers go to the FAQ."
        ]
        assert FaqEntry.objects.count() == 0

    def test_moderator_accepts_in_open_space(
        self, moderator, open_question, open_answer
    ):
        response = signed_in(moderator).post(
            f"/questions/answers/{open_answer.pk}/accept/"
        )
        open_question.refresh_from_db()
        assert response.status_code == 302
        assert open_question.accepted_answer_id == open_answer.pk


class TestCsrf:
    @pytest.fixture
    def question_and_answer(self, sales_rep, payments_community):
        question = create_question(
            author=sales_rep, community=payments_community, title="Which code?"
        )
        return question, post_answer(author=sales_rep, question=question, body="A")

    def test_posts_without_token_are_403(
        self, sales_rep, question_and_answer, super_user
    ):
        question, answer = question_and_answer
        client = signed_in(sales_rep, enforce_csrf_checks=True)
        routes = [
            ("/communities/payments/posts/", {"body": "forged"}),
            (f"/questions/{question.pk}/answers/", {"body": "forged"}),
            (f"/questions/answers/{answer.pk}/accept/", {}),
            (f"/questions/answers/{answer.pk}/promote/", {}),
            ("/assist/ask/", {"context": SHORT_PAYMENT, "title": "forged"}),
            ("/notifications/read-all/", {}),
            ("/accounts/logout/", {}),
        ]
        statuses = {path: client.post(path, data).status_code for path, data in routes}
        assert statuses == dict.fromkeys(statuses, 403)
        assert Post.objects.count() == 0
        assert Answer.objects.count() == 1
        assert Question.objects.count() == 1
        assert Question.objects.get().accepted_answer_id is None

    def test_login_without_token_is_403(self, sales_rep):
        from conftest import PASSWORD

        response = Client(enforce_csrf_checks=True).post(
            "/accounts/login/", {"username": "sally", "password": PASSWORD}
        )
        assert response.status_code == 403


class TestMethods:
    POST_ONLY = [
        "/communities/payments/posts/",
        "/questions/1/answers/",
        "/questions/answers/1/accept/",
        "/questions/answers/1/promote/",
        "/assist/ask/",
        "/notifications/1/open/",
        "/notifications/read-all/",
        "/accounts/logout/",
    ]

    @pytest.mark.parametrize("path", POST_ONLY)
    def test_get_on_post_only_is_405(self, sales_rep, payments_community, path):
        assert signed_in(sales_rep).get(path).status_code == 405
        assert Client().get(path).status_code == 405

    @pytest.mark.parametrize(
        "path",
        [
            "/healthz",
            f"/assist/panel/?context={SHORT_PAYMENT}",
            f"/api/assist/help?context={SHORT_PAYMENT}",
            "/api/reconciliation/orders",
        ],
    )
    def test_post_on_get_only_is_405(self, sales_rep, path):
        assert signed_in(sales_rep).post(path).status_code == 405


# --- Ask from here: forged fields and redirects ---


class TestAskForgery:
    @pytest.mark.parametrize(
        "key",
        ["nope", "RECONCILIATION.ORDER", "...", "reconciliation.order.", "a\u200b"],
    )
    def test_unknown_context_names_the_key(self, sales_rep, payments_community, key):
        response = ask_htmx(signed_in(sales_rep), context=key)
        assert response.status_code == 422
        assert alert_text(response) == (
            f"Unknown help context {key!r}: reload the page and ask again."
        )
        assert Question.objects.count() == 0

    @pytest.mark.parametrize(
        "target",
        [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "javascript:alert(1)",
            "http:evil.example",
        ],
    )
    def test_offsite_next_goes_home(self, sales_rep, payments_community, target):
        response = signed_in(sales_rep).post(
            "/assist/ask/", {"context": SHORT_PAYMENT, "title": "Hi?", "next": target}
        )
        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_local_next_is_kept(self, sales_rep, payments_community):
        response = signed_in(sales_rep).post(
            "/assist/ask/",
            {"context": SHORT_PAYMENT, "title": "Hi?", "next": "/communities/"},
        )
        assert response["Location"] == "/communities/"

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/"])
    def test_login_next_stays_onsite(self, sales_rep, target):
        response = signed_in(sales_rep).get("/accounts/login/", {"next": target})
        assert response["Location"] == "/"

    def test_record_ref_of_hidden_order_is_rejected(
        self, customer, other_party, make_order, customer_community
    ):
        make_order("10248", other_party)
        response = ask_htmx(
            signed_in(customer), context="portal.order", record_ref="10248"
        )
        assert response.status_code == 422
        assert "10248" in alert_text(response)
        assert Question.objects.count() == 0


class TestQuestionRouting:
    @pytest.mark.parametrize("case", ["no function", "space lists function"])
    def test_employee_question_stays_internal(
        self, sales_rep, customer, payments, customer_community, case
    ):
        if case == "space lists function":
            customer_community.crm_functions.add(payments)
            open_space = Community.objects.create(slug="pay", name="Pay")
            open_space.crm_functions.add(payments)
            context = SHORT_PAYMENT
        else:
            # The root context has no CRM function, so the routing looks for
            # communities without one, and the customer space qualifies.
            context = "reconciliation"
        ask_htmx(signed_in(sales_rep), context=context, title="Our margin on ALFKI")
        page = signed_in(customer).get(f"/communities/{customer_community.slug}/")
        assert b"Our margin on ALFKI" not in page.content
        assert not Question.objects.filter(
            community__visibility=Community.Visibility.CUSTOMER
        ).exists()

    def test_notified_super_user_can_open_question(
        self, sales_rep, super_user, payments
    ):
        private_space = Community.objects.create(
            slug="payments-private",
            name="Payments private",
            visibility=Community.Visibility.PRIVATE,
        )
        private_space.crm_functions.add(payments)
        Membership.objects.create(community=private_space, person=sales_rep)
        ask_htmx(signed_in(sales_rep), title="Credit note for a disputed order")
        client = signed_in(super_user)
        statuses = [
            client.get(notification.url).status_code
            for notification in Notification.objects.filter(recipient=super_user)
        ]
        # Routing elsewhere or notifying no one both pass, but a link to a 404
        # fails.
        assert [status for status in statuses if status != 200] == []

    def test_other_company_does_not_see_order_ref(
        self,
        customer,
        customer_party,
        other_party,
        customer_community,
        super_user,
        make_order,
    ):
        make_order("10643", customer_party)
        ask_htmx(
            signed_in(customer),
            context="portal.order",
            title="Where is my refund?",
            record_ref="10643",
        )
        question = Question.objects.get()
        rival = make_person(
            "bruno", Role.CUSTOMER, customer=other_party, group="customers"
        )
        client = signed_in(rival)
        page = client.get(f"/questions/{question.pk}/")
        api = client.get(f"/api/answers/questions/{question.pk}")
        assert b"10643" not in page.content
        assert b"10643" not in api.content

    def test_private_answer_promoted_stays_private(
        self, facilitator, outsider, private_question, private_answer
    ):
        curator = signed_in(facilitator)
        curator.post(f"/questions/answers/{private_answer.pk}/accept/")
        curator.post(f"/questions/answers/{private_answer.pk}/promote/")
        client = signed_in(outsider)
        panel = client.get("/assist/panel/", {"context": "reconciliation.order"})
        api = client.get("/api/assist/help", {"context": "reconciliation.order"})
        assert PRIVATE_TITLE.encode() not in panel.content
        assert api.json()["faq_entries"] == []
        for entry in FaqEntry.objects.all():
            assert client.get(f"/questions/faq/{entry.pk}/").status_code == 404


# --- Bad input: every bad value gets a message, nothing is half-written ---


class TestBadInput:
    def test_long_post_names_length(self, sales_rep, payments_community):
        response = signed_in(sales_rep).post(
            "/communities/payments/posts/", {"body": "x" * 5001}
        )
        assert response.status_code == 422
        assert alert_text(response) == (
            "The post has 5001 characters; shorten it to 5000 or fewer."
        )
        assert Post.objects.count() == 0

    def test_long_answer_names_length(self, sales_rep, open_question):
        response = signed_in(sales_rep).post(
            f"/questions/{open_question.pk}/answers/", {"body": "x" * 20_001}
        )
        assert response.status_code == 422
        assert alert_text(response) == (
            "The answer has 20001 characters; shorten it to 20000 or fewer."
        )
        assert Answer.objects.count() == 0

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            (
                "title",
                "x" * 201,
                "The question has 201 characters; shorten it to 200 or fewer.",
            ),
            (
                "record_ref",
                "x" * 81,
                "The record has 81 characters; shorten it to 80 or fewer.",
            ),
            (
                "title",
                "a\x00b",
                "The question contains a null character, which text cannot "
                "hold: type it again without pasting.",
            ),
            (
                "context",
                "reconciliation\x00",
                "The help context contains a null character, which text cannot "
                "hold: type it again without pasting.",
            ),
        ],
    )
    def test_ask_rejects_field(
        self, sales_rep, payments_community, field, value, message
    ):
        response = ask_htmx(signed_in(sales_rep), **{field: value})
        assert response.status_code == 422
        assert alert_text(response) == message
        assert Question.objects.count() == 0
        assert Notification.objects.count() == 0

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("   ", "The post is empty: write at least one word."),
            ("\n\t\n", "The post is empty: write at least one word."),
            (
                "a\x00b",
                "The post contains a null character, which text cannot hold: "
                "type it again without pasting.",
            ),
        ],
    )
    def test_post_blank_or_nul_is_422(
        self, sales_rep, payments_community, body, message
    ):
        response = signed_in(sales_rep).post(
            "/communities/payments/posts/", {"body": body}
        )
        assert response.status_code == 422
        assert alert_text(response) == message
        assert Post.objects.count() == 0

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("   ", "The answer is empty: write at least one word."),
            (
                "a\x00b",
                "The answer contains a null character, which text cannot hold: "
                "type it again without pasting.",
            ),
        ],
    )
    def test_answer_blank_or_nul_is_422(self, sales_rep, open_question, body, message):
        response = signed_in(sales_rep).post(
            f"/questions/{open_question.pk}/answers/", {"body": body}
        )
        assert response.status_code == 422
        assert alert_text(response) == message
        assert Answer.objects.count() == 0

    @pytest.mark.parametrize(
        ("field", "value", "named"),
        [
            ("title", "   ", "question"),
            ("title", "a\x00b", "question"),
            ("context", "", "context"),
        ],
    )
    def test_ask_error_names_field(
        self, sales_rep, payments_community, field, value, named
    ):
        response = ask_htmx(signed_in(sales_rep), **{field: value})
        assert named in alert_text(response).lower()

    def test_huge_body_names_the_limit(self, sales_rep, open_question):
        response = signed_in(sales_rep).post(
            f"/questions/{open_question.pk}/answers/", {"body": "x" * 3_000_000}
        )
        assert Answer.objects.count() == 0
        assert response.status_code == 413
        assert b"too large" in response.content.lower()


class TestInvisibleInput:
    """Text that renders as nothing must be rejected like empty text."""

    @pytest.mark.parametrize("body", INVISIBLE_TEXTS)
    def test_post_rejected(self, sales_rep, payments_community, body):
        response = signed_in(sales_rep).post(
            "/communities/payments/posts/", {"body": body}
        )
        assert response.status_code == 422
        assert Post.objects.count() == 0

    @pytest.mark.parametrize("body", INVISIBLE_TEXTS)
    def test_answer_rejected(self, outsider, open_question, body):
        response = signed_in(outsider).post(
            f"/questions/{open_question.pk}/answers/", {"body": body}
        )
        assert response.status_code == 422
        assert Answer.objects.count() == 0
        assert Notification.objects.count() == 0

    @pytest.mark.parametrize("title", INVISIBLE_TEXTS)
    def test_question_title_rejected(
        self, sales_rep, payments_community, super_user, title
    ):
        response = ask_htmx(signed_in(sales_rep), title=title)
        assert response.status_code == 422
        assert Question.objects.count() == 0
        assert Notification.objects.count() == 0

    def test_faq_question_rejected(
        self, facilitator, sales_rep, open_question, open_answer
    ):
        accept_answer(actor=sales_rep, answer=open_answer)
        client = signed_in(facilitator)
        client.post(
            f"/questions/answers/{open_answer.pk}/promote/",
            {"question_text": "\u200b\u200e"},
        )
        # Rejecting the text and falling back to the asked question both pass.
        questions = list(FaqEntry.objects.values_list("question", flat=True))
        assert questions in ([], [open_question.title])


# --- Rendered user content: no script survives on any page ---

HOSTILE_TEXT = (
    "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)>"
)
HOSTILE_MARKDOWN = [
    "[x](javascript:alert(1))",
    "[x](jAvAsCrIpT:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](javascript&#x3A;alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<b>x</b>)",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "![i](javascript:alert(1))",
    "[two\nlines]( javascript:alert(1))",
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114'
    '&#0000105&#0000112&#0000116&#0000058alert(1)">z</a>',
    "[x](java\tscript:alert(1))",
    '![A](B "<C D="E" onerror=alert(1) >")',
    '![" onerror="alert(1)](0)',
    "<iframe\nonload=alert(1)//",
    '![x"><iframe srcdoc=<script>alert(1)</script>>](https://img.example/i.png)',
    "#tag<script>alert(1)</script>",
    '<img src="" onerror=alert(1) ',
]
HOSTILE_RECORD = '"><script>alert(5)</script>'


@pytest.fixture
def hostile_content(
    customer, customer_party, make_order, sales_rep, facilitator, super_user
):
    """Seed hostile text through the forms into every place that shows it."""
    space = Community.objects.create(
        slug="hostile",
        name="Hostile <script>alert(9)</script>",
        purpose="<img src=x onerror=alert(8)>",
        visibility=Community.Visibility.CUSTOMER,
    )
    author = signed_in(sales_rep)
    for body in HOSTILE_MARKDOWN:
        assert (
            author.post(f"/communities/{space.slug}/posts/", {"body": body}).status_code
            == 302
        )

    # An employee's question in the customer space: a customer's own
    # question would stay out of the customer-visible FAQ. The question page
    # names the record only to readers who may see it, so the customer's
    # company has an order with the hostile number. Asking from a screen
    # would also work; the service stores it as data from an import could.
    make_order(HOSTILE_RECORD, customer_party)
    asker = author
    question = create_question(
        author=sales_rep,
        community=space,
        title=HOSTILE_TEXT,
        body="\n\n".join(HOSTILE_MARKDOWN),
        record_ref=HOSTILE_RECORD,
        context=HelpContext.objects.get(key=SHORT_PAYMENT),
    )
    curator = signed_in(facilitator)
    for body in HOSTILE_MARKDOWN:
        curator.post(f"/questions/{question.pk}/answers/", {"body": body})
    first_answer = question.answers.first()
    asker.post(f"/questions/answers/{first_answer.pk}/accept/")
    curator.post(
        f"/questions/answers/{first_answer.pk}/promote/",
        {"question_text": HOSTILE_TEXT},
    )
    return {"space": space, "question": question, "entry": FaqEntry.objects.get()}


class TestRenderedContent:
    PAGES = [
        "/communities/",
        "/communities/{space}/",
        "/tags/tag/",
        "/questions/{question}/",
        "/questions/faq/{entry}/",
        "/assist/panel/?context={panel_key}"
        "&record=%22%3E%3Cscript%3Ealert(6)%3C/script%3E",
        "/notifications/",
    ]

    @pytest.mark.parametrize("page", PAGES)
    def test_page_has_no_active_markup(
        self, hostile_content, customer, sales_rep, facilitator, super_user, page
    ):
        # A customer reads only the portal's contexts, so the entry is on
        # one of them too and the customer's panel uses it.
        hostile_content["entry"].contexts.add(
            HelpContext.objects.get(key="portal.order")
        )
        findings = {}
        for person in (customer, sales_rep, facilitator, super_user):
            path = page.format(
                space=hostile_content["space"].slug,
                question=hostile_content["question"].pk,
                entry=hostile_content["entry"].pk,
                panel_key="portal.order" if person.is_external else SHORT_PAYMENT,
            )
            response = signed_in(person).get(path)
            assert response.status_code == 200, (person.username, path)
            findings[person.username] = dangerous_markup(response.content.decode())
        assert findings == {username: [] for username in findings}

    def test_hostile_title_is_shown_as_text(self, hostile_content, customer):
        question = hostile_content["question"]
        response = signed_in(customer).get(f"/questions/{question.pk}/")
        assert html.escape(HOSTILE_TEXT).encode() in response.content
        assert html.escape(HOSTILE_RECORD).encode() in response.content

    def test_question_api_html_is_clean(self, hostile_content, customer):
        question = hostile_content["question"]
        body = signed_in(customer).get(f"/api/answers/questions/{question.pk}").json()
        fragments = [body["body_html"]] + [
            answer["body_html"] for answer in body["answers"]
        ]
        assert len(fragments) == 1 + len(HOSTILE_MARKDOWN)
        assert [dangerous_markup(fragment) for fragment in fragments] == [
            [] for _ in fragments
        ]

    def test_help_api_html_is_clean(self, hostile_content, customer):
        # A customer reads only the portal's contexts.
        hostile_content["entry"].contexts.add(
            HelpContext.objects.get(key="portal.order")
        )
        body = (
            signed_in(customer)
            .get("/api/assist/help", {"context": "portal.order"})
            .json()
        )
        assert [entry["question"] for entry in body["faq_entries"]] == [HOSTILE_TEXT]
        assert dangerous_markup(body["faq_entries"][0]["answer_html"]) == []


# --- Query parameters on lists and the JSON API ---


class TestOrderListParameters:
    @pytest.fixture
    def fifty_one_orders(self, customer_party, make_order):
        for index in range(51):
            make_order(f"{11000 + index}", customer_party)

    @pytest.mark.parametrize(
        ("page", "shown"),
        [
            ("-1", "Page 2 of 2"),
            ("0", "Page 2 of 2"),
            ("abc", "Page 1 of 2"),
            ("99999", "Page 2 of 2"),
        ],
    )
    def test_bad_page_falls_back(self, sales_rep, fifty_one_orders, page, shown):
        response = signed_in(sales_rep).get("/reconciliation/orders/", {"page": page})
        assert response.status_code == 200
        assert shown.encode() in response.content

    def test_script_status_is_ignored(self, sales_rep, fifty_one_orders):
        response = signed_in(sales_rep).get(
            "/reconciliation/orders/", {"status": "<script>alert(1)</script>"}
        )
        assert response.status_code == 200
        assert b"51 orders" in response.content
        assert dangerous_markup(response.content.decode()) == []

    def test_long_query_is_cut_to_100(self, sales_rep):
        response = signed_in(sales_rep).get(
            "/reconciliation/orders/", {"q": "x" * 10_000}
        )
        assert response.status_code == 200
        assert f'value="{"x" * 100}"'.encode() in response.content
        assert ("x" * 101).encode() not in response.content

    @pytest.mark.parametrize(
        ("term", "found"), [("_", ["A_1"]), ("%", ["50%"]), ("\\", [])]
    )
    def test_like_wildcards_match_literally(
        self, sales_rep, customer_party, make_order, term, found
    ):
        for number in ("A_1", "AB1", "50%", "500"):
            make_order(number, customer_party)
        response = signed_in(sales_rep).get("/reconciliation/orders/", {"q": term})
        listed = re.findall(
            r'href="/reconciliation/orders/([^/"]+)/"', response.content.decode()
        )
        assert [unquote(number) for number in listed] == found


class TestOrderApiParameters:
    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ({"limit": 0}, "limit=0 is out of range: use 1 to 200."),
            ({"limit": 100_000}, "limit=100000 is out of range: use 1 to 200."),
            ({"offset": -5}, "offset=-5 is negative: use 0 or more."),
        ],
    )
    def test_out_of_range_is_422(self, sales_rep, params, detail):
        response = signed_in(sales_rep).get("/api/reconciliation/orders", params)
        assert response.status_code == 422
        assert response.json() == {"detail": detail}

    def test_non_integer_limit_is_422(self, sales_rep):
        response = signed_in(sales_rep).get(
            "/api/reconciliation/orders", {"limit": "abc"}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]

    def test_huge_offset_is_422(self, sales_rep):
        client = signed_in(sales_rep, raise_request_exception=False)
        response = client.get("/api/reconciliation/orders", {"offset": 10**20})
        assert response.status_code == 422
        assert "offset=100000000000000000000" in response.json()["detail"]

    def test_unknown_status_is_422(self, sales_rep, customer_party, make_order):
        make_order("10643", customer_party)
        response = signed_in(sales_rep).get(
            "/api/reconciliation/orders", {"status": "<script>"}
        )
        assert response.status_code == 422
        assert "<script>" in response.json()["detail"]


class TestCustomerDiscrepancyHints:
    @pytest.fixture
    def short_paid_order(self, customer_party, make_order):
        make_order("10644", customer_party)
        order = make_order("10643", customer_party, recon_status="exception")
        Discrepancy.objects.create(
            company=order.company,
            order=order,
            code="SHORT_PAYMENT",
            severity="medium",
            owner_role="finance_clerk",
            explanation="Internal note",
            rule="payment.short@1",
            fingerprint="attack-surface",
        )
        return order

    def test_list_hides_open_count(self, customer, short_paid_order):
        response = signed_in(customer).get("/reconciliation/orders/")
        assert b"(1 open)" not in response.content

    def test_code_filter_reveals_nothing(self, customer, short_paid_order):
        response = signed_in(customer).get(
            "/reconciliation/orders/", {"code": "SHORT_PAYMENT"}, follow=True
        )
        listed = re.findall(
            r'href="/reconciliation/portal/orders/([^/"]+)/"', response.content.decode()
        )
        assert listed == ["10644", "10643"]


# --- Help context keys ---


class TestHelpContextKeys:
    @pytest.mark.parametrize(
        "key",
        [
            "reconciliation.nope",
            ".",
            "...",
            "Reconciliation.Order",
            "RECONCILIATION",
            "reconciliation.order.",
            ".reconciliation",
            "reconciliation\u200b.order",
            "%",
            "reconciliation.order.%",
            "reconciliation_order",
        ],
    )
    def test_unknown_key_is_404(self, sales_rep, key):
        client = signed_in(sales_rep)
        api = client.get("/api/assist/help", {"context": key})
        panel = client.get("/assist/panel/", {"context": key})
        assert api.status_code == 404
        assert api.json() == {"detail": UNKNOWN_CONTEXT_DETAIL.format(key=key)}
        assert panel.status_code == 404

    @pytest.mark.parametrize(
        "key",
        [
            "reconciliation." + "x" * 10_000,
            "reconciliation order",
            "reconciliation\t.order",
            "reconciliation\x7f",
        ],
    )
    def test_cache_unsafe_key_is_404(self, sales_rep, key):
        # Django 6.1 warns about cache keys over 250 characters or with
        # whitespace or control characters, and its memcached backends raise
        # InvalidCacheKey for them, so a cache must not key on the raw value.
        client = signed_in(sales_rep, raise_request_exception=False)
        api = client.get("/api/assist/help", {"context": key})
        panel = client.get("/assist/panel/", {"context": key})
        assert api.status_code == 404
        shown = key if len(key) <= 120 else f"{key[:120]}..."
        assert api.json() == {"detail": UNKNOWN_CONTEXT_DETAIL.format(key=shown)}
        assert panel.status_code == 404

    def test_empty_key_is_404(self, sales_rep):
        client = signed_in(sales_rep)
        assert client.get("/api/assist/help", {"context": ""}).status_code == 404
        assert client.get("/assist/panel/").status_code == 404

    def test_declared_key_is_case_sensitive(self, sales_rep):
        client = signed_in(sales_rep)
        assert (
            client.get(
                "/api/assist/help", {"context": "reconciliation.order"}
            ).status_code
            == 200
        )
        assert (
            client.get(
                "/api/assist/help", {"context": "reconciliation.ORDER"}
            ).status_code
            == 404
        )

    def test_long_dotted_key_costs_linear_work(self, sales_rep):
        key = "a." * 5_000
        bound_characters = 0

        def count_parameters(execute, sql, params, many, context):
            nonlocal bound_characters
            bound_characters += sum(len(str(value)) for value in params or ())
            return execute(sql, params, many, context)

        client = signed_in(sales_rep)
        with connection.execute_wrapper(count_parameters):
            response = client.get("/api/assist/help", {"context": key})
        assert response.status_code == 404
        # A linear lookup binds about the key once. The current one binds every
        # prefix, about 25 million characters for this key.
        assert bound_characters <= 2 * len(key)
