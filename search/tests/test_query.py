"""Parsing typed queries into safe terms, and the C++/C# encoding."""

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from search.backends.sqlite import match_expression
from search.query import ParsedQuery, Term, parse_query
from search.text import decode_symbols, encode_symbols, highlighted_html


def test_words_are_all_required():
    query = parse_query("short payment")
    assert query.groups == ((Term(("short",)),), (Term(("payment",)),))
    assert query.excluded == ()


def test_quoted_phrase_is_one_term():
    query = parse_query('"credit note" refund')
    assert query.groups == ((Term(("credit", "note")),), (Term(("refund",)),))


def test_unclosed_quote_runs_to_the_end():
    query = parse_query('invoice "credit note')
    assert query.groups == ((Term(("invoice",)),), (Term(("credit", "note")),))


def test_or_joins_neighbours():
    query = parse_query("refund OR credit note")
    assert query.groups == (
        (Term(("refund",)), Term(("credit",))),
        (Term(("note",)),),
    )


def test_capital_and_is_implicit():
    query = parse_query("short AND payment")
    assert query.groups == parse_query("short payment").groups
    assert query.excluded == ()


def test_capital_not_excludes_next_term():
    query = parse_query('short NOT payment NOT "credit note"')
    assert query.groups == ((Term(("short",)),),)
    assert query.excluded == (Term(("payment",)), Term(("credit", "note")))


def test_lowercase_and_not_are_words():
    query = parse_query("short and not payment")
    assert query.groups == tuple(
        (Term((word,)),) for word in ("short", "and", "not", "payment")
    )
    assert query.excluded == ()


def test_trailing_not_is_dropped():
    query = parse_query("payment NOT")
    assert query.groups == ((Term(("payment",)),),)
    assert query.excluded == ()


def test_lowercase_or_is_a_word():
    assert parse_query("this or that").groups == (
        (Term(("this",)),),
        (Term(("or",)),),
        (Term(("that",)),),
    )


def test_minus_excludes_word_and_phrase():
    query = parse_query('payment -refund -"credit note"')
    assert query.groups == ((Term(("payment",)),),)
    assert query.excluded == (Term(("refund",)), Term(("credit", "note")))


def test_trailing_star_is_prefix():
    assert parse_query("reconcil*").groups == ((Term(("reconcil",), prefix=True),),)


def test_one_letter_prefix_is_a_plain_word():
    assert parse_query("r*").groups == ((Term(("r",)),),)


def test_lone_operators_are_dropped():
    query = parse_query('OR - * | "" payment OR')
    assert query.groups == ((Term(("payment",)),),)
    assert query.excluded == ()


def test_only_exclusions_is_empty():
    assert parse_query("-refund").is_empty


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("C++", ("C0plus0plus0",)),
        ("C#", ("C0sharp0",)),
        ("C", ("C",)),
        (".NET", ("NET",)),
        ('"SO-10348"', ("SO", "10348")),
        ("order_id", ("order", "id")),
        ("Pat Lee <pat@example.com>", None),
    ],
)
def test_punctuation_terms(raw, words):
    query = parse_query(raw)
    if words is None:
        assert [term.words for term in query.terms()] == [
            ("Pat",),
            ("Lee",),
            ("pat", "example", "com"),
        ]
    else:
        assert query.terms()[0].words == words


@pytest.mark.parametrize(
    "raw",
    ["'\":*", "a & b | !c", "50% off", "\\", "   ", "team:sales", "what's new"],
)
def test_hostile_queries_build_quoted_expressions(raw):
    query = parse_query(raw)
    if not query.is_empty:
        expression = match_expression(query)
        # Every quote in the expression opens or closes a term.
        assert expression.count('"') == 2 * (len(query.terms()) + len(query.excluded))


def test_whitespace_only_is_empty():
    assert parse_query("  \t ").is_empty


def test_long_input_is_cut():
    query = parse_query("x" * 10_000)
    assert query.text == "x" * django_settings.SEARCH_MAX_QUERY_LENGTH
    assert query.truncated
    assert query.typed_length == 10_000


@override_settings(SEARCH_MAX_QUERY_LENGTH=20)
def test_length_limit_is_a_setting():
    query = parse_query("reconciliation tolerance")
    assert query.text == "reconciliation toler"
    assert query.truncated


def test_short_input_is_not_truncated():
    query = parse_query("  short   payment ")
    assert query.text == "short payment"
    assert not query.truncated


def test_encoding_keeps_c_family_apart():
    encoded = {encode_symbols(word) for word in ("C", "C++", "C#", "C+")}
    assert len(encoded) == 4


def test_encoding_leaves_hashtags_and_sums():
    assert encode_symbols("#onboarding a+b") == "#onboarding a+b"


def test_decoding_restores_spelling():
    text = "Use C++ or C# (not F#), g++ and c++."
    assert decode_symbols(encode_symbols(text)) == text


def test_highlight_escapes_everything_but_marks():
    marked = "<script>alert(1)</script> \ue000C0plus0plus0\ue001 & \ue000more"
    assert highlighted_html(marked) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>C++</mark> &amp; <mark>more</mark>"
    )


def test_highlight_drops_stray_marks_and_escapes_quotes():
    marked = '\ue001"a" \ue000\ue000b\'s\ue001\ue001 <c>'
    assert highlighted_html(marked) == "&quot;a&quot; <mark>b&#x27;s</mark> &lt;c&gt;"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab<>&\"'+# \ue000\ue001C"), max_size=60))
def test_highlight_markup_is_only_marks(marked):
    shown = highlighted_html(marked)
    without_marks = shown.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks
    assert ">" not in without_marks
    assert shown.count("<mark>") == shown.count("</mark>")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_parses(raw):
    query = parse_query(raw)
    assert isinstance(query, ParsedQuery)
    for term in query.terms() + list(query.excluded):
        assert term.words
        assert all(word.isalnum() for word in term.words)
