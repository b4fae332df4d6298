"""The confusable skeleton: which names count as looking the same."""

import pytest

from core.confusables import skeleton


@pytest.mark.parametrize(
    ("name", "look_alike"),
    [
        # Letter pairs that read as one letter.
        ("Modern", "Modem"),
        ("corner", "comer"),
        ("vvorld", "world"),
        ("VVorld", "world"),
        ("clear", "dear"),
        ("cIear", "dear"),
        ("Cløse", "dose"),
        # A capital I, a small l, the digit one and a vertical line.
        ("Iisa", "lisa"),
        ("1isa", "lisa"),
        ("|isa", "lisa"),
        ("\u01c0isa", "lisa"),
        # The digit zero and the letter O.
        ("0rders", "Orders"),
        ("Team 0", "team o"),
        # The digit five and the letter S.
        ("5ales", "Sales"),
        ("Team 5", "team s"),
        # Letters with a stroke, which have no decomposition.
        ("Bjørn", "Bjorn"),
        ("Øresund", "Oresund"),
        ("Łukasz", "Lukasz"),
        ("pał", "pal"),
        # Case, accents and full-width forms.
        ("CUSTOMER CORNER", "customer corner"),
        ("Café", "Cafe"),
        ("Cafe\u0301", "Café"),
        ("Zähler", "Zahler"),
        ("\uff43\uff41\uff46\uff45", "cafe"),
        # Invisible characters and repeated whitespace.
        ("ca\u200bfe", "cafe"),
        ("ca\u00adfe", "cafe"),
        ("ca\u200dfe\ufeff", "cafe"),
        ("ca\u034ffe", "cafe"),
        ("cafe\ufe0f", "cafe"),
        ("Customer  corner", "Customer corner"),
        ("Customer\u00a0corner", "Customer corner"),
        # Cyrillic and Greek letters, also where they form a Latin pair.
        ("\u0421ustomer", "Customer"),
        ("\u043c\u0430rgaret", "margaret"),
        ("\u0433n", "m"),
        ("\u03bd\u03bdorld", "world"),
        ("\u0456nvoice", "Invoice"),
    ],
)
def test_look_alikes_share_skeleton(name, look_alike):
    assert skeleton(name) == skeleton(look_alike)


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("Sales", "Sale"),
        ("Orders", "Order"),
        ("team 1", "team 2"),
        ("Team 10", "Team 1"),
        ("Team 5", "Team 6"),
        ("close", "cose"),
        ("рим", "pnm"),
        ("हिंदी", "हिदी"),
        ("Склад", "Скдал"),
    ],
)
def test_different_names_keep_apart(name, other):
    assert skeleton(name) != skeleton(other)


def test_skeleton_of_latin_name():
    assert skeleton("Modern Café I0") == "modem cafe lo"


def test_skeleton_of_stroke_letters_and_pairs():
    assert skeleton("Cløse 5 Ł") == "dose s l"


def test_skeleton_never_longer_than_folded():
    # The stored skeleton shares the length limit of the folded name.
    name = "\u0390" * 120

    assert len(skeleton(name)) <= 360
    assert skeleton(name) == "l" * 120


def test_hangul_recomposed():
    assert skeleton("한국어") == "한국어"


@pytest.mark.parametrize(
    ("name", "look_alike"),
    [
        # Armenian small letter oh (U+0585), mapped by Unicode's table only.
        ("j\u0585hn", "john"),
        # Latin small letter alpha (U+0251).
        ("\u0251dmin", "admin"),
        # Cherokee letter a (U+13AA) reads as a capital A.
        ("\u13aamy", "amy"),
    ],
)
def test_unicode_table_joins_other_scripts(name, look_alike):
    assert skeleton(name) == skeleton(look_alike)


def test_hand_tables_agree_with_unicode():
    from core.confusables import LATIN_LOOK_ALIKES
    from core.confusables_table import UNICODE_LOOK_ALIKES

    disagreeing = {
        char: (letter, UNICODE_LOOK_ALIKES[char])
        for char, letter in LATIN_LOOK_ALIKES.items()
        if char in UNICODE_LOOK_ALIKES and UNICODE_LOOK_ALIKES[char] != letter
    }
    assert disagreeing == {}


def test_unicode_table_maps_to_ascii():
    from core.confusables_table import UNICODE_LOOK_ALIKES

    assert len(UNICODE_LOOK_ALIKES) > 300
    for char, letter in UNICODE_LOOK_ALIKES.items():
        assert not char.isascii(), char
        assert len(letter) == 1, char
        assert letter.isascii(), char
        assert letter.isalnum(), char
