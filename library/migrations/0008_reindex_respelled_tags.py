"""Rewrite the search entries of library items whose indexed tags are stale.

Migration 0006 respelled tags as hashtags and merged those that became one,
but a migration sends no signal, so the search index kept the old tag keys
(``#short payment`` where the tag is now ``shortpayment``). This migration
does what ``manage.py reindex_library_tags`` does, so an upgrade needs no
manual step: it compares each indexed item's tag labels with the keys of
the tags employees added to it, and for the items that differ rewrites the
entry's tag labels, its ``tags`` text and the spelled-out umlaut words at
the end of its body. Updating ``tags`` and ``body`` fires the triggers that
keep SQLite's FTS5 table and PostgreSQL's vectors in step.

The index rules are copied here from ``search.text`` and ``search.sources``
as they were when this migration was written, so that a later change to
them does not change this migration. The spelled-out words are computed
from the stored title and body, which are already in index form, as
migrations search 0012 and 0013 did.

An item with no entry (withdrawn, or never indexed) is left alone: it has
no stale tags in the index. ``manage.py reindex_library_tags`` stays for
repairs after tags are changed in raw SQL.
"""

import re
import unicodedata

from django.conf import settings
from django.db import migrations
from django.db.models import Q

# Frozen copies of ``accounts.models.Role.CUSTOMER``,
# ``core.text.MAX_TAG_SUFFIX_LENGTH``, ``search.text``'s markers, symbol
# codes and umlaut rule, and ``search.sources.MAX_SPELLED_OUT_WORDS``.
_CUSTOMER = "customer"
_MAX_TAG_SUFFIX_LENGTH = 3
_SYMBOL_CODES = {"+": "0plus", "#": "0sharp"}
_SUFFIXED_WORD = re.compile(
    rf"(?<![\w+])(?<![\w+#]#)([^\W_]+)([+#]{{1,{_MAX_TAG_SUFFIX_LENGTH}}})(?![\w+#])"
)
_SPELLED_OUT_START = "\u2029"
_MARKERS = str.maketrans({"\ue000": None, "\ue001": None, _SPELLED_OUT_START: " "})
_SPELLED_OUT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)
_UMLAUT_WORD = re.compile(r"[^\W_]*[äöüßÄÖÜ][^\W_]*")
MAX_SPELLED_OUT_WORDS = 100
BATCH_SIZE = 500


def _index_form(text):
    def encode(match):
        codes = "".join(_SYMBOL_CODES[sign] for sign in match.group(2))
        return f"{match.group(1)}{codes}0"

    normalized = unicodedata.normalize("NFKC", text).translate(_MARKERS)
    return _SUFFIXED_WORD.sub(encode, normalized)


def _indexed_text(text):
    limit = settings.SEARCH_MAX_INDEXED_CHARACTERS
    text = _index_form(text)
    if len(text) <= limit:
        return text
    head = text[:limit]
    if head[-1].isspace() or text[limit].isspace():
        return head.rstrip()
    words = head.rsplit(None, 1)
    return words[0].rstrip() if len(words) == 2 else head


def _spelled_out(*texts):
    words = {}
    for text in texts:
        for word in _UMLAUT_WORD.findall(_index_form(text)):
            words.setdefault(word.translate(_SPELLED_OUT), None)
            if len(words) == MAX_SPELLED_OUT_WORDS:
                return " ".join(words)
    return " ".join(words)


def _current_tag_keys(apps, alias):
    """Return each item's indexed tag keys now: employees' tags, in link order."""
    links = (
        apps.get_model("library", "DocumentTag")
        .objects.using(alias)
        .filter(
            Q(added_by__isnull=True) | ~Q(added_by__role=_CUSTOMER),
            document__withdrawn_at__isnull=True,
        )
        .order_by("pk")
        .values_list("document_id", "tag__key")
    )
    keys = {}
    for document_id, key in links:
        keys.setdefault(document_id, []).append(key)
    return keys


def reindex_respelled_tags(apps, schema_editor):
    alias = schema_editor.connection.alias
    entries = (
        apps.get_model("search", "SearchEntry")
        .objects.using(alias)
        .filter(kind="library")
    )
    SearchLabel = apps.get_model("search", "SearchLabel")
    labels = SearchLabel.objects.using(alias).filter(field="tag")
    indexed = {}
    for entry_id, value in labels.filter(entry__kind="library").values_list(
        "entry_id", "value"
    ):
        indexed.setdefault(entry_id, set()).add(value)
    current = _current_tag_keys(apps, alias)
    stale = [
        (entry_id, document_id)
        for entry_id, document_id in entries.values_list("pk", "object_id")
        if set(current.get(document_id, ())) != indexed.get(entry_id, set())
    ]
    for start in range(0, len(stale), BATCH_SIZE):
        batch = dict(stale[start : start + BATCH_SIZE])
        changed = []
        new_labels = []
        for entry in entries.filter(pk__in=batch).only("title", "body", "tags"):
            keys = list(dict.fromkeys(current.get(batch[entry.pk], ())))
            body = entry.body.partition(_SPELLED_OUT_START)[0]
            words = _spelled_out(entry.title, body, *keys)
            entry.body = f"{body}{_SPELLED_OUT_START}{words}" if words else body
            entry.tags = _indexed_text(" ".join(keys))
            changed.append(entry)
            new_labels += [
                SearchLabel(entry_id=entry.pk, field="tag", value=key) for key in keys
            ]
        labels.filter(entry_id__in=batch).delete()
        entries.bulk_update(changed, ["body", "tags"])
        SearchLabel.objects.using(alias).bulk_create(new_labels)


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0007_document_most_helpful_checks_withdrawn"),
        ("search", "0013_spelled_out_separator"),
        # The historical user model must have ``role``, which 0001 adds.
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(reindex_respelled_tags, migrations.RunPython.noop),
    ]
