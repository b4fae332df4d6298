"""Creating a community through the service and the "New community" form."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from communities.models import Community, Membership
from communities.services import create_community
from communities.tests.conftest import signed_in
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

PURPOSE = "Share what works when matching payments."


def create(creator, name="Payments desk", **fields):
    fields.setdefault("purpose", PURPOSE)
    fields.setdefault("visibility", Community.Visibility.OPEN)
    return create_community(creator=creator, name=name, **fields)


def error_of(excinfo):
    return excinfo.value.message_dict


def test_creator_becomes_owner(outsider, payments):
    community = create(outsider, crm_functions=[payments])

    assert community.slug == "payments-desk"
    assert community.created_by == outsider
    assert list(community.crm_functions.all()) == [payments]
    membership = Membership.objects.get(community=community)
    assert membership.person == outsider
    assert membership.role == Membership.Role.OWNER


def test_creation_is_audited(outsider):
    community = create(outsider, conversation_starters=["Your best tip?"])

    event = AuditEvent.objects.get(action="community.created")
    assert event.object_id == str(community.pk)
    assert event.actor == outsider
    assert event.after["slug"] == "payments-desk"
    assert event.after["conversation_starters"] == ["Your best tip?"]


def test_customer_cannot_create(customer):
    with pytest.raises(PermissionDenied) as excinfo:
        create(customer)
    assert str(excinfo.value) == "Customer accounts cannot create communities."
    assert Community.objects.count() == 0


@pytest.mark.parametrize("name", ["", "   ", "\u200b\u200e"])
def test_empty_name(outsider, name):
    with pytest.raises(ValidationError) as excinfo:
        create(outsider, name=name)
    assert error_of(excinfo) == {
        "name": ["The community name is empty: give it a name people will recognise."]
    }


def test_too_long_name(outsider):
    with pytest.raises(ValidationError) as excinfo:
        create(outsider, name="x" * 121)
    assert error_of(excinfo) == {
        "name": ["The community name has 121 characters; shorten it to 120 or fewer."]
    }


def test_name_at_limit_is_accepted(outsider):
    assert len(create(outsider, name="x" * 120).name) == 120


def test_duplicate_name_differs_only_in_case(outsider, sales_rep):
    create(outsider, name="Payments desk")
    with pytest.raises(ValidationError) as excinfo:
        create(sales_rep, name="  PAYMENTS   desk ")
    assert error_of(excinfo) == {
        "name": [
            "A community named 'PAYMENTS desk' already exists: pick another "
            "name, or join that one."
        ]
    }
    assert Community.objects.count() == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [("Ärger im Lager", "ÄRGER IM LAGER"), ("Straße", "STRASSE"), ("Ｐａｙ", "pay")],
)
def test_duplicate_name_in_any_script(outsider, sales_rep, first, second):
    create(outsider, name=first)
    with pytest.raises(ValidationError) as excinfo:
        create(sales_rep, name=second)
    assert error_of(excinfo) == {
        "name": [
            f"A community named {second!r} already exists: pick another name, or "
            "join that one."
        ]
    }
    assert Community.objects.count() == 1


def test_database_keeps_names_unique_ignoring_case():
    Community.objects.create(slug="aerger", name="Ärger")

    with pytest.raises(IntegrityError), transaction.atomic():
        Community.objects.create(slug="aerger-2", name="ärger")
    with pytest.raises(IntegrityError), transaction.atomic():
        Community.objects.bulk_create([Community(slug="aerger-3", name="ÄRGER")])
    other = Community.objects.create(slug="lager", name="Lager")
    with pytest.raises(IntegrityError), transaction.atomic():
        Community.objects.filter(pk=other.pk).update(name="ÄrGeR")
    assert sorted(Community.objects.values_list("name_key", flat=True)) == [
        "lager",
        "ärger",
    ]


def test_name_key_follows_a_renamed_community():
    community = Community.objects.create(slug="lager", name="Lager")

    community.name = "Straße"
    community.save(update_fields=["name"])
    Community.objects.bulk_create([Community(slug="kasse", name="KASSE")])

    assert dict(Community.objects.values_list("slug", "name_key")) == {
        "lager": "strasse",
        "kasse": "kasse",
    }


def test_duplicate_of_hidden_private_name(facilitator, outsider, private_community):
    with pytest.raises(ValidationError) as excinfo:
        create(outsider, name="Pricing internal")
    assert error_of(excinfo) == {
        "name": ["The name 'Pricing internal' is already taken: pick another name."]
    }


def test_empty_purpose(outsider):
    with pytest.raises(ValidationError) as excinfo:
        create(outsider, purpose=" \n ")
    assert error_of(excinfo) == {
        "purpose": [
            "The purpose is empty: say in a sentence what the community is for."
        ]
    }


def test_too_long_purpose(outsider):
    with pytest.raises(ValidationError) as excinfo:
        create(outsider, purpose="p" * 1001)
    assert error_of(excinfo) == {
        "purpose": ["The purpose has 1001 characters; shorten it to 1000 or fewer."]
    }


def test_unknown_visibility(outsider):
    with pytest.raises(ValidationError) as excinfo:
        create(outsider, visibility="secret")
    assert error_of(excinfo) == {
        "visibility": [
            "Unknown visibility 'secret': choose one of open, private, customer."
        ]
    }


def test_starters_are_cleaned_and_deduplicated(outsider):
    community = create(
        outsider,
        conversation_starters=["  Best tip?  ", "", "best TIP?", "Worst screen?"],
    )
    assert community.conversation_starters == ["Best tip?", "Worst screen?"]


def test_too_many_starters(outsider):
    with pytest.raises(ValidationError) as excinfo:
        create(outsider, conversation_starters=[f"Prompt {n}?" for n in range(6)])
    assert error_of(excinfo) == {
        "conversation_starters": [
            "There are 6 conversation starters; the limit is 5. Keep the ones "
            "most likely to get a reply."
        ]
    }


def test_too_long_starter(outsider):
    starter = "Why " + "y" * 200
    with pytest.raises(ValidationError) as excinfo:
        create(outsider, conversation_starters=[starter])
    assert error_of(excinfo) == {
        "conversation_starters": [
            f"The conversation starter {starter[:40]!r}... has 204 characters; "
            "shorten it to 200 or fewer."
        ]
    }


def test_slug_collisions_count_up(outsider, payments_community):
    # The fixture community already has the slug "payments".
    first = create(outsider, name="Payments!")
    second = create(outsider, name="Payments?")
    assert first.slug == "payments-2"
    assert second.slug == "payments-3"


def test_non_ascii_name_gets_readable_slug(outsider):
    community = create(outsider, name="Оплата заказов")
    assert community.slug == "оплата-заказов"
    response = signed_in(outsider).get(community_path(community))
    assert response.status_code == 200


def test_reserved_page_name_is_not_a_slug(outsider):
    assert create(outsider, name="New").slug == "new-2"


def test_emoji_name_falls_back(outsider):
    assert create(outsider, name="☕").slug == "community"
    assert create(outsider, name="☕☕").slug == "community-2"


def community_path(community) -> str:
    from django.urls import reverse

    return reverse("communities:community_detail", args=[community.slug])


# --- The form ---


def form_data(**fields):
    data = {
        "name": "Payments desk",
        "purpose": PURPOSE,
        "visibility": "open",
        "conversation_starters": "What is your best tip?\nWhich screen confuses you?",
    }
    data.update(fields)
    return data


def test_form_creates_and_redirects(outsider, payments):
    response = signed_in(outsider).post(
        "/communities/new/", form_data(crm_functions=[payments.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == "/communities/payments-desk/"
    community = Community.objects.get()
    assert community.conversation_starters == [
        "What is your best tip?",
        "Which screen confuses you?",
    ]
    assert list(community.crm_functions.all()) == [payments]


def test_form_page_renders(outsider):
    response = signed_in(outsider).get("/communities/new/")
    assert response.status_code == 200
    assert b"Create community" in response.content


def test_form_shows_duplicate_name(outsider, payments_community):
    response = signed_in(outsider).post("/communities/new/", form_data(name="payments"))
    assert response.status_code == 422
    assert (
        "A community named &#x27;payments&#x27; already exists"
        in response.content.decode()
    )
    assert Community.objects.count() == 1


def test_form_shows_empty_name(outsider):
    response = signed_in(outsider).post("/communities/new/", form_data(name=" "))
    assert response.status_code == 422
    assert "The community name is empty" in response.content.decode()
    assert Community.objects.count() == 0


def test_form_shows_too_long_name(outsider):
    response = signed_in(outsider).post("/communities/new/", form_data(name="n" * 130))
    assert response.status_code == 422
    assert (
        "The community name has 130 characters; shorten it to 120 or fewer."
        in response.content.decode()
    )


def test_form_names_bad_visibility(outsider):
    response = signed_in(outsider).post(
        "/communities/new/", form_data(visibility="secret")
    )
    assert response.status_code == 422
    assert (
        "&#x27;secret&#x27; is not a choice for the visibility: pick one from "
        "the list." in response.content.decode()
    )
    assert Community.objects.count() == 0


def test_form_rejects_unknown_function(outsider):
    response = signed_in(outsider).post(
        "/communities/new/", form_data(crm_functions=["999999"])
    )
    assert response.status_code == 422
    assert (
        "&#x27;999999&#x27; is not a choice for the CRM functions: pick one from "
        "the list." in response.content.decode()
    )


def test_customer_gets_403_for_form(customer):
    client = signed_in(customer)
    assert client.get("/communities/new/").status_code == 403
    assert client.post("/communities/new/", form_data()).status_code == 403
    assert Community.objects.count() == 0


def test_signed_out_form_redirects_to_login(client):
    response = client.get("/communities/new/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/communities/new/"


def test_name_and_purpose_are_escaped(outsider):
    signed_in(outsider).post(
        "/communities/new/",
        form_data(
            name="<script>alert(1)</script>",
            purpose='<img src=x onerror="alert(2)">',
            conversation_starters="<b>bold?</b>",
        ),
    )
    community = Community.objects.get()
    for path in ("/communities/", community_path(community)):
        content = signed_in(outsider).get(path).content.decode()
        assert "<script>alert(1)" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
        assert "<img src=x" not in content
    page = signed_in(outsider).get(community_path(community)).content.decode()
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page


def test_slug_taken_between_check_and_insert(outsider, payments_community, monkeypatch):
    from communities import services, slugs

    calls = []

    def stale_then_fresh(base, taken):
        # The first call acts as if a concurrent creator had not yet committed
        # "payments", so the insert hits the unique constraint and retries.
        calls.append(base)
        if len(calls) == 1:
            return "payments"
        return slugs.unique_slug(base, taken)

    monkeypatch.setattr(services, "unique_slug", stale_then_fresh)
    community = create(outsider, name="Payments!")

    assert community.slug == "payments-2"
    assert calls == ["payments", "payments"]
    assert Community.objects.filter(slug="payments-2").count() == 1
