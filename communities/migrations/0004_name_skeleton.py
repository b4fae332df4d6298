"""Store each community's look-alike skeleton under a unique index.

``create_community`` compared a new name with the skeleton of every name in
Python, so two look-alike communities created at the same instant could both
be inserted. The unique index on ``name_skeleton`` makes the database reject
the second.

Existing communities whose names already look alike keep their names and
everything else. The oldest of them (by ``created_at``, then id) gets the
skeleton. Each newer one keeps ``name_skeleton`` NULL, which marks it for a
rename, and the migration logs a warning naming both. Renaming a marked
community fills its skeleton, or fails if the new name looks like another.
"""

import logging

from django.db import migrations, models

from core.confusables import skeleton

logger = logging.getLogger("communities.migrations")


def fill_name_skeletons(apps, schema_editor):
    # NOTE: this uses today's ``core.confusables.skeleton``, unlike 0003's
    # frozen copy of its rule, so that the stored skeletons match what
    # ``Community.save`` computes when the migration runs.
    Community = apps.get_model("communities", "Community")
    holders = {}
    for community in Community.objects.order_by("created_at", "pk"):
        key = skeleton(community.name)
        holder = holders.get(key)
        if holder is not None:
            logger.warning(
                "community.look_alike_marked community=%s name=%r looks_like=%s "
                "looks_like_name=%r: rename it to give it a skeleton",
                community.pk,
                community.name,
                holder.pk,
                holder.name,
            )
            continue
        holders[key] = community
        Community.objects.filter(pk=community.pk).update(name_skeleton=key)


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0003_name_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="community",
            name="name_skeleton",
            field=models.CharField(editable=False, max_length=360, null=True),
        ),
        migrations.RunPython(fill_name_skeletons, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="community",
            name="name_skeleton",
            field=models.CharField(
                editable=False, max_length=360, null=True, unique=True
            ),
        ),
    ]
