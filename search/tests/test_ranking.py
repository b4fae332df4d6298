"""What a new user sees first: people against content, headings of untitled posts."""

from django.db import connection

from accounts.models import PersonSkill, Role, Skill
from answers.models import FaqEntry
from conftest import make_person
from search.indexing import reindex_all
from search.selectors import search
from search.sources import readable_title
from social.services import publish_post


def _unrelated_faq_entries(count):
    # bm25 gives a word found in most of a tiny index almost no weight, so
    # a ranking test needs other entries, as a real index has.
    for number in range(count):
        FaqEntry.objects.create(
            question=f"Filler question {number}",
            answer="Nothing related.",
            answer_html="<p>Nothing related.</p>",
        )


def test_topic_word_ranks_content_above_person(outsider, db):
    person = make_person("fiona", Role.SALES_REP, group="sales")
    person.title = "Receivables clerk"
    person.save()
    skill = Skill.objects.create(name="short payments", display_name="Short payments")
    PersonSkill.objects.create(person=person, skill=skill)
    faq = FaqEntry.objects.create(
        question="Why does an invoice close by itself?",
        answer="Larger differences open a short payment case.",
        answer_html="<p>Larger differences open a short payment case.</p>",
    )
    _unrelated_faq_entries(8)
    reindex_all(sources=["person", "faq"])
    hits = search(outsider, "short payment").hits
    assert [(hit.kind, hit.object_id) for hit in hits] == [
        ("faq", faq.pk),
        ("person", person.pk),
    ]


def test_name_ranks_person_above_mentions(outsider, sales_rep, payments_community, db):
    person = make_person("quintessa", Role.SALES_REP, group="sales")
    person.first_name = "Quintessa"
    person.last_name = "Moor"
    person.save()
    post = publish_post(
        author=sales_rep,
        community=payments_community,
        body="Quintessa explained the remittance matching in detail today.",
    )
    _unrelated_faq_entries(8)
    reindex_all(sources=["person", "post", "faq"])
    hits = search(outsider, "quintessa").hits
    assert [(hit.kind, hit.object_id) for hit in hits] == [
        ("person", person.pk),
        ("post", post.pk),
    ]


def test_untitled_post_shows_first_sentence(outsider, sales_rep, payments_community):
    publish_post(
        author=sales_rep,
        community=payments_community,
        body="Bank lines after five post tomorrow. Plan the cut-off with the team.",
    )
    reindex_all(sources=["post"])
    hit = search(outsider, "cut-off").hits[0]
    assert hit.title_html == "Bank lines after five post tomorrow."
    # The engines split "cut-off" differently and PostgreSQL drops the stop.
    expected = {
        "sqlite": "Plan the <mark>cut-off</mark> with the team.",
        "postgresql": "Plan the <mark>cut</mark>-off with the team",
    }
    assert hit.snippet_html == (
        f"Bank lines after five post tomorrow. {expected[connection.vendor]}"
    )


def test_untitled_post_heading_is_escaped(outsider, sales_rep, payments_community):
    publish_post(
        author=sales_rep,
        community=payments_community,
        body="Use `<b>` for bold in the bannerword template",
    )
    reindex_all(sources=["post"])
    hit = search(outsider, "bannerword").hits[0]
    assert hit.title_html == "Use &lt;b&gt; for bold in the bannerword template"


def test_readable_title_cuts_at_a_word():
    text = "word " * 30
    assert readable_title(text, max_length=22) == "word word word word…"
    assert readable_title("Short one. Then more text.") == "Short one."
    assert readable_title("  spaced   out  ") == "spaced out"
    assert readable_title("") == ""
