"""Add ``withdrawn_at`` to the end of the help panel's rank index of items.

The panel's rule leaves withdrawn items out. With the column in the index,
SQLite checks it while walking the index instead of reading each item's row.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0006_tags_spelled_as_hashtags"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="document",
            name="document_most_helpful",
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                fields=["-helpful_count", "-updated_at", "id", "withdrawn_at"],
                name="document_most_helpful",
            ),
        ),
    ]
