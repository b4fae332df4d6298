"""Tag names normalize to one key, and every tag gets a readable unique slug."""

import unicodedata

import pytest

from library.models import Tag
from library.services import add_tags
from library.tags import InvalidTagError, base_slug, split_tag_names, tag_key
from library.tests.conftest import make_item

pytestmark = pytest.mark.django_db


def test_add_tags_same_call_case_variants(member):
    item = make_item(member, "Valencia guide")

    tags = add_tags(document=item, person=member, names=["Valencia", "valencia"])

    assert [tag.name for tag in tags] == ["Valencia"]
    assert list(Tag.objects.values_list("name", "key", "slug")) == [
        ("Valencia", "valencia", "valencia")
    ]
    assert list(item.tags.values_list("name", flat=True)) == ["Valencia"]


def test_add_tags_nfc_and_nfd_are_one_tag(member):
    first = make_item(member, "First")
    second = make_item(member, "Second")
    nfc = unicodedata.normalize("NFC", "siècle")
    nfd = unicodedata.normalize("NFD", "siècle")
    assert nfc != nfd

    add_tags(document=first, person=member, names=[nfc])
    add_tags(document=second, person=member, names=[nfd])

    assert Tag.objects.count() == 1
    tag = Tag.objects.get()
    assert tag.name == nfc
    assert tag.slug == nfc
    assert set(tag.documents.values_list("title", flat=True)) == {"First", "Second"}


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("C", "c"),
        ("C++", "c-plus-plus"),
        ("C#", "c-sharp"),
        ("日本語", "日本語"),
        ("😀", "grinning-face"),
        ("🚚📦", "delivery-truck-package"),
        ("Short payment", "shortpayment"),
        ("ＣＲＭ", "crm"),
    ],
)
def test_base_slug_readable(name, slug):
    assert base_slug(tag_key(name)) == slug


def test_add_tags_c_family_three_tags(member):
    item = make_item(member, "Languages")

    add_tags(document=item, person=member, names=["C", "C++", "C#"])

    assert sorted(Tag.objects.values_list("name", "slug")) == [
        ("C", "c"),
        ("C#", "c-sharp"),
        ("C++", "c-plus-plus"),
    ]


def test_add_tags_slug_collision_gets_stable_suffix(member):
    item = make_item(member, "Languages")

    add_tags(document=item, person=member, names=["C#", "C-sharp"])

    slugs = dict(Tag.objects.values_list("name", "slug"))
    assert slugs["C#"] == "c-sharp"
    assert slugs["C-sharp"] == "c-sharp-dcd59aa9"
    assert Tag.objects.count() == 2


def test_add_tags_emoji_and_cjk_slugs_non_empty(member):
    item = make_item(member, "Mixed")

    add_tags(document=item, person=member, names=["📦", "日本語", "⌘"])

    assert sorted(Tag.objects.values_list("slug", flat=True)) == [
        "package",
        "place-of-interest-sign",
        "日本語",
    ]


def test_add_tags_records_audit_event(member):
    from core.models import AuditEvent

    item = make_item(member, "Audited")

    add_tags(document=item, person=member, names=["Returns", "returns", "Credit"])
    add_tags(document=item, person=member, names=["credit"])

    events = AuditEvent.objects.filter(action="library.tags_added")
    assert [event.after for event in events] == [{"tags": ["Returns", "Credit"]}]


def test_split_tag_names_drops_repeats_and_blanks():
    assert split_tag_names("Valencia, valencia ,, \u200b, C#") == ["Valencia", "C#"]


def test_split_tags_accepts_key_at_limit():
    assert split_tag_names("ß" * 40) == ["ß" * 40]

    with pytest.raises(InvalidTagError, match="has 82 characters once its case"):
        split_tag_names("ß" * 41)


@pytest.mark.parametrize(
    "typed", ["#Short Payment", "Short payment", "SHORTPAYMENT", " # short  payment "]
)
def test_tags_are_spelled_as_hashtags(member, typed):
    item = make_item(member, "Short payments")
    add_tags(document=item, person=member, names=["shortpayment"])

    add_tags(document=item, person=member, names=[typed])

    assert list(Tag.objects.values_list("name", "key")) == [
        ("shortpayment", "shortpayment")
    ]


def test_new_tag_drops_hash_and_spaces(member):
    item = make_item(member, "Short payments")

    add_tags(document=item, person=member, names=["#Short Payment", "C#"])

    assert sorted(Tag.objects.values_list("name", "key", "slug")) == [
        ("C#", "c#", "c-sharp"),
        ("ShortPayment", "shortpayment", "shortpayment"),
    ]


def test_sign_only_tag_rejected():
    with pytest.raises(InvalidTagError, match="Tag '# #' has nothing but # and spaces"):
        split_tag_names("Returns, # #")
