"""Turn parallel scans of ``search_entry`` off on PostgreSQL.

A search reads at most a window of about a thousand matches. For a common
word the planner chose a parallel backward scan of the primary key, and
starting the workers cost about 10 ms on the medium benchmark set, more
than they saved. The table's ``parallel_workers`` storage parameter turns
them off for this table alone; before, every search sent a statement of
its own to turn them off for its transaction. SQLite has nothing to change.
"""

from django.db import migrations


def no_parallel_workers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE search_entry SET (parallel_workers = 0)", params=None
        )


def default_parallel_workers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE search_entry RESET (parallel_workers)", params=None
        )


class Migration(migrations.Migration):
    dependencies = [("search", "0006_index_held_faq_entries")]

    operations = [migrations.RunPython(no_parallel_workers, default_parallel_workers)]
