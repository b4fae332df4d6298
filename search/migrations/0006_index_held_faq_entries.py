"""Index the FAQ entries held for their owners, which had no search entry before."""

from typing import Any

from django.db import migrations


def index_held_entries(apps: Any, schema_editor: Any) -> None:
    # The live indexing code writes the entries, in today's shape: this
    # runs once, right after the change that indexes held entries.
    from search.indexing import write_entries
    from search.sources import FAQ_ENTRIES

    faq_entry = apps.get_model("answers", "FaqEntry")
    held = list(
        faq_entry.objects.filter(owners_only=True).values_list("pk", flat=True)
    )
    if held:
        write_entries(FAQ_ENTRIES, held)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0005_fts_prefix_indexes"),
        ("answers", "0010_faq_entry_held_index"),
    ]

    operations = [
        migrations.RunPython(index_held_entries, migrations.RunPython.noop),
    ]
