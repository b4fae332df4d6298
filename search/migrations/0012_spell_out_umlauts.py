"""Add the spelled-out form of umlaut words to the body of existing entries.

``search.sources.EntryData.index_fields`` now ends an entry's body with
"Mueller" for "Müller" (ae, oe, ue and ss for ä, ö, ü and ß), so that both
engines find the umlaut word by its spelled-out form. This migration gives
entries written before it the same words, computed from their stored
title, body and tags, which are already in index form. Updating the body
fires the triggers that keep SQLite's FTS5 table and PostgreSQL's vectors
in step. ``manage.py reindex`` gives the same result from the source
objects.
"""

import re

from django.db import migrations
from django.db.models import Q

# Frozen copies of ``search.sources._SPELLED_OUT`` and ``_UMLAUT_WORD``.
_SPELLED_OUT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)
_UMLAUT_WORD = re.compile(r"[^\W_]*[äöüßÄÖÜ][^\W_]*")
_LETTERS = "äöüßÄÖÜ"
MAX_SPELLED_OUT_WORDS = 100
BATCH_SIZE = 500


def _spelled_out(*texts):
    words = {}
    for text in texts:
        for word in _UMLAUT_WORD.findall(text):
            words.setdefault(word.translate(_SPELLED_OUT), None)
            if len(words) == MAX_SPELLED_OUT_WORDS:
                return " ".join(words)
    return " ".join(words)


def spell_out_umlauts(apps, schema_editor):
    entries = apps.get_model("search", "SearchEntry").objects.using(
        schema_editor.connection.alias
    )
    carries_umlaut = Q()
    for letter in _LETTERS:
        for column in ("title", "body", "tags"):
            carries_umlaut |= Q(**{f"{column}__contains": letter})
    changed = []
    for entry in entries.filter(carries_umlaut).only("title", "body", "tags"):
        words = _spelled_out(entry.title, entry.body, entry.tags)
        if words:
            entry.body = f"{entry.body} {words}" if entry.body else words
            changed.append(entry)
    entries.bulk_update(changed, ["body"], batch_size=BATCH_SIZE)


class Migration(migrations.Migration):
    dependencies = [("search", "0011_fold_accents")]

    operations = [
        migrations.RunPython(spell_out_umlauts, migrations.RunPython.noop)
    ]
