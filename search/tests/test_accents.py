"""Search folds accents on both engines, and snippets keep them as written."""

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Role
from conftest import make_person
from search.indexing import reindex_all
from search.models import SearchEntry
from search.selectors import search
from search.tests.conftest import found
from search.text import HIT_END, HIT_START, SPELLED_OUT_START, spelled_out_hits
from social.services import publish_post


@pytest.fixture
def rita(db):
    """A sales representative whose name has an umlaut."""
    person = make_person("rita", Role.SALES_REP)
    person.first_name, person.last_name = "Rita", "Müller"
    person.save()
    return person


@pytest.fixture
def credit_posts(sales_rep, payments_community):
    accented = publish_post(
        author=sales_rep,
        community=payments_community,
        body="Issue a crédit note for the Tunnbröd order",
    )
    plain = publish_post(
        author=sales_rep,
        community=payments_community,
        body="Check the credit limit first",
    )
    reindex_all(sources=["post", "person"])
    return {"accented": accented, "plain": plain}


def test_name_without_umlaut_finds_person(rita, outsider):
    reindex_all(sources=["person"])
    assert ("person", rita.pk) in found(outsider, "Muller")
    assert ("person", rita.pk) in found(outsider, "muller")
    assert ("person", rita.pk) in found(outsider, "Müller")


def test_prefix_without_umlaut_finds_person(rita, outsider):
    reindex_all(sources=["person"])
    assert ("person", rita.pk) in found(outsider, "Mull*")


def test_credit_spellings_find_each_other(credit_posts, outsider):
    both = sorted(("post", post.pk) for post in credit_posts.values())
    assert found(outsider, "credit") == both
    assert found(outsider, "crédit") == both
    assert found(outsider, "Tunnbrod") == [("post", credit_posts["accented"].pk)]


def test_snippet_keeps_accents_as_written(credit_posts, outsider):
    results = search(outsider, "credit tunnbrod")
    assert len(results.hits) == 1
    snippet = str(results.hits[0].snippet_html)
    assert "<mark>crédit</mark>" in snippet
    assert "<mark>Tunnbröd</mark>" in snippet


def _indexed_by_folding_rule() -> bool:
    """Return whether the engine's index of an entry named Müller matches Muller."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM search_entry_fts "
                "WHERE search_entry_fts MATCH 'Muller'"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM search_entry "
                "WHERE vector @@ phraseto_tsquery('english_unaccent', 'Muller')"
            )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_migration_refolds_existing_entries(rita):
    # Entries written before the migration are rebuilt by it.
    call_command("migrate", "search", "0010", verbosity=0)
    try:
        reindex_all(sources=["person"])
        if connection.vendor == "sqlite":
            assert not _indexed_by_folding_rule()
        call_command("migrate", "search", verbosity=0)
        assert _indexed_by_folding_rule()
    finally:
        call_command("migrate", "search", verbosity=0)


def test_spelled_out_name_finds_person(rita, outsider):
    reindex_all(sources=["person"])
    assert ("person", rita.pk) in found(outsider, "Mueller")
    assert ("person", rita.pk) in found(outsider, "mueller")
    assert ("person", rita.pk) in found(outsider, "Muell*")


def test_spelled_out_words_find_post(sales_rep, payments_community, outsider):
    post = publish_post(
        author=sales_rep,
        community=payments_community,
        body="Die Gebühr für die Straße in Köln wird geprüft",
    )
    reindex_all(sources=["post"])
    for query in ["Gebuehr", "Strasse", "Koeln", "geprueft", "Straße", "Koln"]:
        assert found(outsider, query) == [("post", post.pk)], query


def test_spelled_out_form_not_in_title(rita, outsider):
    reindex_all(sources=["person"])
    [hit] = [hit for hit in search(outsider, "Mueller").hits if hit.kind == "person"]
    assert "Mueller" not in str(hit.title_html)
    assert "<mark>Müller</mark>" in str(hit.title_html)


def test_plain_words_unchanged(sales_rep, payments_community, outsider):
    post = publish_post(
        author=sales_rep, community=payments_community, body="Mueller ships"
    )
    reindex_all(sources=["post"])
    assert found(outsider, "Mueller") == [("post", post.pk)]
    assert found(outsider, "Müller") == []


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="reads PostgreSQL's tsvector"
)
def test_postgres_vector_has_spelled_out_lexeme(rita):
    reindex_all(sources=["person"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT vector::text FROM search_entry WHERE kind = 'person' "
            "AND object_id = %s",
            [rita.pk],
        )
        [vector] = cursor.fetchone()
    assert "'mueller'" in vector
    assert "'muller'" in vector


@pytest.mark.django_db(transaction=True)
def test_migration_spells_out_existing_entries(rita):
    call_command("migrate", "search", "0011", verbosity=0)
    try:
        reindex_all(sources=["person"])
        # As written before the migration: without the spelled-out name.
        entry = SearchEntry.objects.get(kind="person", object_id=rita.pk)
        entry.body = entry.body.removesuffix("Mueller").rstrip()
        entry.save(update_fields=["body"])
        assert ("person", rita.pk) not in found(rita, "Mueller")
        call_command("migrate", "search", verbosity=0)
        assert ("person", rita.pk) in found(rita, "Mueller")
    finally:
        call_command("migrate", "search", verbosity=0)


def test_snippet_marks_umlaut_word(sales_rep, payments_community, outsider):
    publish_post(
        author=sales_rep,
        community=payments_community,
        body="Die Gebühr für die Straße wird geprüft",
    )
    reindex_all(sources=["post"])
    [hit] = search(outsider, "Gebuehr").hits
    assert str(hit.snippet_html) == (
        "Die <mark>Gebühr</mark> für die Straße wird geprüft"
    )


def test_far_umlaut_word_named_as_reason(sales_rep, payments_community, outsider):
    filler = " ".join(f"word{number}" for number in range(60))
    publish_post(
        author=sales_rep,
        community=payments_community,
        body=f"{filler} Rechnung von Frau Müller",
    )
    reindex_all(sources=["post"])
    [hit] = search(outsider, "Mueller").hits
    # SQLite cuts the snippet around the hit. PostgreSQL headlines the text
    # without the spelled-out words, so it finds no hit and shows the start.
    expected = {
        "sqlite": "…"
        + " ".join(f"word{number}" for number in range(40, 60))
        + " Rechnung von Frau <mark>Müller</mark>",
        "postgresql": "Matched Mueller, written with ä, ö, ü or ß in its text",
    }
    assert str(hit.snippet_html) == expected[connection.vendor]


def test_typed_separator_is_a_space(sales_rep, payments_community, outsider):
    publish_post(
        author=sales_rep,
        community=payments_community,
        body="Alpha\u2029Bravo note",
    )
    reindex_all(sources=["post"])
    [hit] = search(outsider, "Bravo").hits
    assert str(hit.snippet_html) == "Alpha <mark>Bravo</mark> note"


def test_spelled_out_hits_keep_marked_words():
    shown = f"{HIT_START}Müller{HIT_END} und Müller und Straße"
    marked, words = spelled_out_hits(shown, f"{HIT_START}mueller{HIT_END} Strasse")
    assert marked == (
        f"{HIT_START}Müller{HIT_END} und {HIT_START}Müller{HIT_END} und Straße"
    )
    assert words == ("mueller",)


def test_spelled_out_hits_without_hit():
    assert spelled_out_hits("Straße", "Strasse") == ("Straße", ())


@pytest.mark.django_db(transaction=True)
def test_migration_separates_spelled_out_words(rita):
    call_command("migrate", "search", "0012", verbosity=0)
    try:
        reindex_all(sources=["person"])
        # As written before the migration: the words after a space.
        entry = SearchEntry.objects.get(kind="person", object_id=rita.pk)
        entry.body = entry.body.replace(SPELLED_OUT_START, " ")
        entry.save(update_fields=["body"])
        call_command("migrate", "search", verbosity=0)
        entry.refresh_from_db()
        assert entry.body.endswith(f"{SPELLED_OUT_START}Mueller")
        [hit] = [hit for hit in search(rita, "Mueller").hits if hit.kind == "person"]
        assert "<mark>Müller</mark>" in str(hit.title_html)
        assert "Mueller" not in str(hit.snippet_html)
    finally:
        call_command("migrate", "search", verbosity=0)
