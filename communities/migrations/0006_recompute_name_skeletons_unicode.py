"""Compute every community's look-alike skeleton again with today's rule.

``core.confusables.skeleton`` now also maps the characters that Unicode's
``confusables.txt`` maps to one ASCII letter or digit
(``core/confusables_table.py``), so a name with such a character has a new
skeleton. The rule of migration 0004 applies again: the oldest community of
each skeleton (by ``created_at``, then id) gets it, and each newer one keeps
``name_skeleton`` NULL, which marks it for a rename, with a warning naming
both. A community marked before whose name no longer looks like an older
one gets its skeleton back.
"""

import logging

from django.db import migrations

from core.skeletons import store_skeletons

logger = logging.getLogger("communities.migrations")


def recompute_name_skeletons(apps, schema_editor):
    Community = apps.get_model("communities", "Community")
    marked = store_skeletons(
        Community,
        text_field="name",
        skeleton_field="name_skeleton",
        order_by=("created_at", "pk"),
    )
    for community in marked:
        logger.warning(
            "community.look_alike_marked community=%s name=%r looks_like=%s "
            "looks_like_name=%r: rename it to give it a skeleton",
            community.pk,
            community.text,
            community.older_pk,
            community.older_text,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0005_recompute_name_skeletons"),
    ]

    operations = [
        migrations.RunPython(recompute_name_skeletons, migrations.RunPython.noop),
    ]
