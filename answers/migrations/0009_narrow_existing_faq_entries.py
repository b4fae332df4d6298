"""Narrow the FAQ entries that existed before entries followed their sources.

Until migration 0008 an entry kept its audience when a source was deleted or
moved to a narrower audience, and 0008 added ``owners_only`` as False to
every row. This applies the rule of ``narrow_faq_audiences`` once to every
existing entry: an entry that its sources no longer allow is narrowed,
flagged for review and audited, and waits on its owners' review desk. No
notification is sent from a migration.
"""

from typing import Any

from django.db import migrations


def narrow_existing_entries(apps: Any, schema_editor: Any) -> None:
    entries = apps.get_model("answers", "FaqEntry")
    entry_ids = list(entries.objects.values_list("pk", flat=True))
    if not entry_ids:
        return
    # NOTE: the service reads today's models. A new database has no entries
    # and stops above; an existing one reaches this with the schema the
    # service expects, as long as the migrations are applied in order.
    from answers.services.faq_audience import narrow_faq_audiences

    narrow_faq_audiences(entry_ids=entry_ids, notify_owners=False)


class Migration(migrations.Migration):
    dependencies = [
        ("answers", "0008_faq_entry_owners_only"),
        ("core", "0001_initial"),
        ("notifications", "0008_question_reopened_kind"),
        ("search", "0005_fts_prefix_indexes"),
    ]

    operations = [
        migrations.RunPython(narrow_existing_entries, migrations.RunPython.noop),
    ]
