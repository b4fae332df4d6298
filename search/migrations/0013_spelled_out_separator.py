"""Put a paragraph separator before the spelled-out umlaut words of a body.

Migration 0012 ended an entry's body with " Mueller" for "Müller", so a
snippet of a hit found only by that form showed the spelled-out words at
the end of the body. The index now starts them with U+2029
(``search.text.SPELLED_OUT_START``), which both engines split words at, so
a snippet leaves them out and marks "Müller" instead. This migration
rewrites the bodies written before it; the indexed words stay the same.
"""

import re

from django.db import migrations
from django.db.models import Q

# Frozen copies of ``search.text.SPELLED_OUT``, ``UMLAUT_WORD`` and
# ``SPELLED_OUT_START``, and of ``search.sources.MAX_SPELLED_OUT_WORDS``.
_SPELLED_OUT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)
_UMLAUT_WORD = re.compile(r"[^\W_]*[äöüßÄÖÜ][^\W_]*")
_LETTERS = "äöüßÄÖÜ"
_START = "\u2029"
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


def separate_spelled_out(apps, schema_editor):
    entries = apps.get_model("search", "SearchEntry").objects.using(
        schema_editor.connection.alias
    )
    carries_umlaut = Q()
    for letter in _LETTERS:
        for column in ("title", "body", "tags"):
            carries_umlaut |= Q(**{f"{column}__contains": letter})
    changed = []
    for entry in entries.filter(carries_umlaut).only("title", "body", "tags"):
        if _START in entry.body:
            continue
        # The spelled-out words have no umlaut, so the body with them at its
        # end gives the same words as the body before 0012.
        words = _spelled_out(entry.title, entry.body, entry.tags)
        if not words:
            continue
        if entry.body == words:
            entry.body = f"{_START}{words}"
        elif entry.body.endswith(f" {words}"):
            entry.body = f"{entry.body[: -len(words) - 1]}{_START}{words}"
        else:
            continue
        changed.append(entry)
    entries.bulk_update(changed, ["body"], batch_size=BATCH_SIZE)


class Migration(migrations.Migration):
    dependencies = [("search", "0012_spell_out_umlauts")]

    operations = [
        migrations.RunPython(separate_spelled_out, migrations.RunPython.noop)
    ]
