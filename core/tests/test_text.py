"""Cleaning typed text of invisible characters."""

import pytest

from core.text import clean_line, clean_text


@pytest.mark.parametrize(
    "value",
    ["\u200b", "\u200b\u200e\ufeff", "\u00ad", "\x07\x1b", " \x00 ", "\r\n\t"],
)
def test_invisible_text_comes_out_empty(value):
    assert clean_text(value) == ""


def test_keeps_tabs_and_line_breaks_inside():
    assert clean_text(" a\tb\r\nc\rd ") == "a\tb\nc\nd"


def test_keeps_visible_unicode():
    assert clean_text("Zähler 研修会 👍") == "Zähler 研修会 👍"


def test_removes_hidden_characters_inside_words():
    assert clean_text("on\u200bboard\u00ading") == "onboarding"


def test_clean_line_folds_whitespace():
    assert clean_line("  What\n now?\t ") == "What now?"
