"""A followed tag's spelling shows only to readers who may see a post with it.

Named people: ``facilitator`` (Fran, owner of the private pricing community),
``member`` (Mia, a member of it), ``outsider`` (Otto, an employee in no
community) and ``customer`` (Carla, a customer account). Fran tags a post
in the private community; the others guess the tag in lower case.
"""

import pytest
from django.test import Client

from social.models import Hashtag
from social.services import publish_post
from social.services.follows import hashtag_for_follow, set_hashtag_follow

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PRIVATE_SPELLING = "AcmeTakeoverQ3"


@pytest.fixture
def private_tag_post(facilitator, private_community):
    return publish_post(
        author=facilitator,
        community=private_community,
        body=f"plans #{PRIVATE_SPELLING} confidential",
    )


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_follow_button_hides_a_private_spelling(request, who, private_tag_post):
    client = _client(request.getfixturevalue(who))

    response = client.post(
        "/follows/tag/acmetakeoverq3/", {"active": "1"}, headers=HTMX
    )

    assert response.status_code == 200
    assert PRIVATE_SPELLING not in response.content.decode()
    assert "#acmetakeoverq3" in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_follows_list_and_api_hide_a_private_spelling(request, who, private_tag_post):
    person = request.getfixturevalue(who)
    set_hashtag_follow(
        follower=person, hashtag=hashtag_for_follow("acmetakeoverq3"), active=True
    )
    client = _client(person)

    page = client.get("/follows/").content.decode()
    api = client.get("/api/social/follows").json()

    assert PRIVATE_SPELLING not in page
    assert "#acmetakeoverq3" in page
    assert api["hashtags"] == [
        {"name": "acmetakeoverq3", "display_name": "acmetakeoverq3"}
    ]


def test_member_reads_the_spelling_everywhere(member, private_tag_post):
    set_hashtag_follow(
        follower=member, hashtag=hashtag_for_follow("acmetakeoverq3"), active=True
    )
    client = _client(member)

    button = client.post("/follows/tag/acmetakeoverq3/", {"active": "1"}, headers=HTMX)
    page = client.get("/follows/").content.decode()
    api = client.get("/api/social/follows").json()

    assert f"#{PRIVATE_SPELLING}" in button.content.decode()
    assert f"#{PRIVATE_SPELLING}" in page
    assert api["hashtags"][0]["display_name"] == PRIVATE_SPELLING


def test_spelling_hidden_after_post_deleted(member, private_tag_post):
    private_tag_post.deleted_at = private_tag_post.created_at
    private_tag_post.save(update_fields=["deleted_at"])
    set_hashtag_follow(
        follower=member, hashtag=hashtag_for_follow("acmetakeoverq3"), active=True
    )

    api = _client(member).get("/api/social/follows").json()

    assert api["hashtags"][0]["display_name"] == "acmetakeoverq3"


def test_first_follower_does_not_set_the_spelling(
    outsider, sales_rep, payments_community
):
    _client(outsider).put("/api/social/follows/tags/ShoutyTag")
    assert Hashtag.objects.get(name="shoutytag").display_name == ""

    publish_post(author=sales_rep, community=payments_community, body="#shoutyTAG x")

    assert Hashtag.objects.get(name="shoutytag").display_name == "shoutyTAG"
    api = _client(outsider).get("/api/social/follows").json()
    assert api["hashtags"] == [{"name": "shoutytag", "display_name": "shoutyTAG"}]


@pytest.mark.parametrize("path", ["/tags/%25/", "/tags/../", "/tags/%E2%80%8B/"])
def test_tag_page_invalid_name_404(outsider, path):
    response = _client(outsider).get(path)

    assert response.status_code == 404
    assert b"Follow" not in response.content


def test_tag_page_404_message_matches_follow(outsider):
    client = _client(outsider)

    page = client.get("/tags/%25/")
    follow = client.put("/api/social/follows/tags/%25")

    assert page.status_code == 404
    assert follow.status_code == 422
    assert page.context["exception"] == follow.json()["detail"]


def test_tag_page_valid_name_renders(outsider):
    response = _client(outsider).get("/tags/Onboarding/")

    assert response.status_code == 200
    assert b"#onboarding" in response.content
