"""Markdown rendering, sanitizing, and the hashtags and mentions read from it."""

from html.parser import HTMLParser

import pytest

from core.markdown import normalize_tag, render_markdown, tag_url


def tag_names(source: str) -> list[str]:
    return [tag.name for tag in render_markdown(source).hashtags]


class ElementCollector(HTMLParser):
    """Collect the real elements and attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = ElementCollector()
    collector.feed(html)
    collector.close()
    return collector.elements


def hrefs_and_srcs(html: str) -> list[str]:
    return [
        value or ""
        for _, attrs in elements(html)
        for name, value in attrs.items()
        if name in {"href", "src"}
    ]


class TestHashtags:
    def test_non_ascii_tags_are_whole_words(self):
        rendered = render_markdown(
            "Notes from #tłumaczenia, #Übersetzung and #研修会 today"
        )
        assert [tag.display_name for tag in rendered.hashtags] == [
            "tłumaczenia",
            "Übersetzung",
            "研修会",
        ]
        assert 'href="/tags/t%C5%82umaczenia/"' in rendered.html
        assert 'href="/tags/%E7%A0%94%E4%BF%AE%E4%BC%9A/"' in rendered.html

    def test_format_characters_are_removed(self):
        assert tag_names("#\u200bonboarding and #onboard\u200ding") == ["onboarding"]

    def test_tag_of_only_invisible_characters_is_no_tag(self):
        assert tag_names("look #\u200b\u200e here") == []

    def test_full_width_and_case_resolve_to_one_tag(self):
        rendered = render_markdown("#Onboarding #ＯＮＢＯＡＲＤＩＮＧ #onboarding")
        assert [tag.name for tag in rendered.hashtags] == ["onboarding"]
        assert rendered.hashtags[0].display_name == "Onboarding"

    def test_accents_are_not_folded(self):
        assert tag_names("#Zähler #Zahler") == ["zähler", "zahler"]

    def test_post_tag_appears_once(self):
        assert tag_names("#Über and again #über") == ["über"]

    def test_no_tag_in_code_or_links(self):
        source = "`#code` and [#linked](https://example.com/#frag)\n\n```\n#fenced\n```"
        assert tag_names(source) == []

    def test_numbers_and_entities_are_not_tags(self):
        assert tag_names("issue #12, C# and a&#b") == []

    def test_normalization_is_shared_by_links(self):
        assert normalize_tag("ＯＮＢＯＡＲＤＩＮＧ") == "onboarding"
        assert tag_url("Übersetzung") == "/tags/%C3%BCbersetzung/"


class TestMentions:
    def test_email_and_url_are_not_mentions(self):
        rendered = render_markdown(
            "write to support@sam.example.com or https://social.example.com/@sam/12345"
        )
        assert rendered.mentions == []
        assert hrefs_and_srcs(rendered.html) == [
            "mailto:support@sam.example.com",
            "https://social.example.com/@sam/12345",
        ]

    def test_link_text_is_one_anchor_and_no_mention(self):
        rendered = render_markdown("[@sam](https://wiki.example.com/team)")
        assert rendered.mentions == []
        assert rendered.html.count("<a ") == 1

    def test_parenthesized_mention_counts(self):
        assert render_markdown("(@sam)").mentions == ["sam"]

    def test_code_does_not_mention(self):
        source = "```\n@Entity\n@Override\n```\n\nand `@sam`"
        assert render_markdown(source).mentions == []

    def test_quote_does_not_mention_again(self):
        rendered = render_markdown("> @sam said @all should look\n\nThanks @kim")
        assert rendered.mentions == ["kim"]


DANGEROUS_LINKS = [
    "[x](javascript:alert(1))",
    "[x](jAvAsCrIpT:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](javascript&#x3A;alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<b>x</b>)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "![i](javascript:alert(1))",
    "[two\nlines]( javascript:alert(1))",
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114'
    '&#0000105&#0000112&#0000116&#0000058alert(1)">x</a>',
    "[x](java\tscript:alert(1))",
]


class TestSanitizing:
    @pytest.mark.parametrize("source", DANGEROUS_LINKS)
    def test_no_dangerous_url_scheme(self, source):
        html = render_markdown(source).html
        for url in hrefs_and_srcs(html):
            assert url.startswith(("http://", "https://", "mailto:", "/")), url

    def test_link_text_survives_as_text(self):
        html = render_markdown("[click me](javascript:alert(1))").html
        assert "click me" in html
        assert "href" not in html

    @pytest.mark.parametrize(
        "source",
        [
            '![A](B "<C D="E" onerror=alert(1) >")',
            '![" onerror="alert(1)](0)',
            'end <img src="" onerror=alert(1) ',
            "<iframe\nonload=alert(1)//",
        ],
    )
    def test_no_event_handler_attributes(self, source):
        found = elements(render_markdown(source).html)
        for tag, attrs in found:
            assert tag in {"p", "img"}
            assert not [name for name in attrs if name.startswith("on")]

    def test_raw_html_is_shown_as_text(self):
        html = render_markdown("<script>alert(1)</script>").html
        assert "<script" not in html
        assert "&lt;script&gt;" in html

    def test_image_keeps_only_intended_attributes(self):
        html = render_markdown('![chart](https://example.com/c.png "Q3")').html
        assert html == (
            '<p><img src="https://example.com/c.png" alt="chart" title="Q3"></p>\n'
        )


def test_mentions_off_leaves_names_plain():
    rendered = render_markdown("Ask @margaret about #refunds", mentions=False)

    assert rendered.mentions == []
    assert rendered.html == (
        '<p>Ask @margaret about <a href="/tags/refunds/" class="hashtag" '
        'rel="nofollow noopener noreferrer">#refunds</a></p>\n'
    )
