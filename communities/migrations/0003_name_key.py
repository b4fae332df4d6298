"""Keep community names unique ignoring case in every script, on every engine.

The constraint on ``lower(name)`` folded only ASCII letters on SQLite, so
"Ärger" and "ärger" could both exist there. ``name_key`` holds the name
folded in Python (``communities.models.name_key``) under a unique index.
"""

import unicodedata

from django.db import migrations, models


def folded(name):
    # The same as ``core.text.fold_case``, copied so the migration keeps
    # today's rule if that function changes.
    return unicodedata.normalize("NFKC", name).upper().casefold()


def fill_name_keys(apps, schema_editor):
    Community = apps.get_model("communities", "Community")
    holders = {}
    for community in Community.objects.order_by("pk"):
        key = folded(community.name)
        if key in holders:
            raise RuntimeError(
                f"Communities {holders[key]!r} and {community.name!r} have the same "
                "name ignoring case: rename one of them, then run the migration "
                "again."
            )
        holders[key] = community.name
        Community.objects.filter(pk=community.pk).update(name_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0002_add_requests_invitations_pins_and_starters"),
    ]

    operations = [
        migrations.AddField(
            model_name="community",
            name="name_key",
            field=models.CharField(editable=False, max_length=360, null=True),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="community",
            name="name_key",
            field=models.CharField(editable=False, max_length=360, unique=True),
        ),
        migrations.RemoveConstraint(
            model_name="community",
            name="community_name_ci_unique",
        ),
    ]
