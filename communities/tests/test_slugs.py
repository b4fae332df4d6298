"""Slugs built from community names."""

import pytest

from communities.slugs import FALLBACK_SLUG, base_slug, unique_slug


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Payments desk", "payments-desk"),
        ("  Order   entry -- tips  ", "order-entry-tips"),
        ("Zahlungsabgleich Köln", "zahlungsabgleich-koln"),
        ("Straße & Maße", "strasse-masse"),
        ("Søren's Æble", "sorens-aeble"),
        ("Оплата заказов", "оплата-заказов"),
        ("支払い 照合", "支払い-照合"),
        ("Crème brûlée_club", "creme-brulee-club"),
        ("☕☕", FALLBACK_SLUG),
        ("!!!", FALLBACK_SLUG),
    ],
)
def test_base_slug(name, expected):
    assert base_slug(name) == expected


def test_base_slug_leaves_room_for_suffix():
    slug = base_slug("a" * 200)
    assert len(slug) == 74


def test_unique_slug_free_base():
    assert unique_slug("payments", set()) == "payments"


def test_unique_slug_counts_up():
    assert unique_slug("payments", {"payments"}) == "payments-2"
    assert unique_slug("payments", {"payments", "payments-2"}) == "payments-3"


def test_unique_slug_skips_reserved_page_names():
    assert unique_slug("new", set()) == "new-2"
    assert unique_slug("invitations", set()) == "invitations-2"
