"""Hashtags that end in ``+`` or ``#``: ``#C``, ``#C++`` and ``#C#`` are three tags."""

import pytest

from core.markdown import render_markdown
from core.testing import signed_in
from library.tags import tag_key as library_tag_key
from social.models import Hashtag
from social.services import publish_post
from social.services.follows import hashtag_for_follow

pytestmark = pytest.mark.django_db


def tag_names(source: str) -> list[str]:
    return [tag.name for tag in render_markdown(source).hashtags]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("#C++ and #C# and #C", ["c++", "c#", "c"]),
        ("#F#, #g++.", ["f#", "g++"]),
        ("#a+b", ["a"]),
        ("#x++++ is too long a run", ["x"]),
        ("#c_++", ["c"]),
        ("#C#D", ["c"]),
    ],
)
def test_parser_keeps_trailing_sign_run(source, expected):
    assert tag_names(source) == expected


def test_hashtag_and_library_keys_agree():
    for name in ["C++", "C#", "Zähler", "ＯＮＢＯＡＲＤＩＮＧ"]:
        parsed = render_markdown(f"#{name}").hashtags
        assert [tag.name for tag in parsed] == [library_tag_key(name)]


def test_links_keep_signs_url_encoded():
    html = render_markdown("#C++ and #C#").html

    assert 'href="/tags/c%2B%2B/"' in html
    assert 'href="/tags/c%23/"' in html
    assert ">#C++</a>" in html
    assert ">#C#</a>" in html


def test_three_tag_pages_stay_apart(sales_rep, payments_community):
    publish_post(author=sales_rep, community=payments_community, body="Plain #C")
    publish_post(author=sales_rep, community=payments_community, body="Try #C++")
    publish_post(author=sales_rep, community=payments_community, body="Try #C#")
    client = signed_in(sales_rep)

    pages = {
        address: [post.body for post in client.get(address).context["posts"]]
        for address in ("/tags/c/", "/tags/c%2B%2B/", "/tags/c%23/", "/tags/C++/")
    }

    assert pages["/tags/c/"] == ["Plain #C"]
    assert pages["/tags/c%2B%2B/"] == ["Try #C++"]
    assert pages["/tags/c%23/"] == ["Try #C#"]
    assert pages["/tags/C++/"] == ["Try #C++"]
    assert Hashtag.objects.get(name="c++").display_name == "C++"


def test_existing_plain_tag_keeps_working(sales_rep, payments_community):
    publish_post(author=sales_rep, community=payments_community, body="#Cash first")

    response = signed_in(sales_rep).get("/tags/cash/")

    assert [post.body for post in response.context["posts"]] == ["#Cash first"]


def test_follow_accepts_sign_tags():
    hashtag = hashtag_for_follow("#C#")

    # A follow stores no spelling: the first post that carries the tag does.
    assert (hashtag.name, hashtag.display_name) == ("c#", "")
    assert hashtag_for_follow("c#").pk == hashtag.pk
    assert hashtag_for_follow("C++").name == "c++"
