"""Compute every username's look-alike skeleton again with today's rule.

``core.confusables.skeleton`` now also maps the characters that
Unicode's ``confusables.txt`` maps to one ASCII letter or digit
(``core/confusables_table.py``), so a username with such a character has a
new skeleton. The rule of migration 0007 applies again: the oldest account
of each skeleton (by ``date_joined``, then id) gets it, and each newer one
keeps ``username_skeleton`` NULL, which marks it for a rename, with a
warning naming both. An account marked before whose username no longer
looks like an older one gets its skeleton back.
"""

import logging

from django.db import migrations

from core.skeletons import store_skeletons

logger = logging.getLogger("accounts.migrations")


def recompute_username_skeletons(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    marked = store_skeletons(
        User,
        text_field="username",
        skeleton_field="username_skeleton",
        order_by=("date_joined", "pk"),
    )
    for person in marked:
        logger.warning(
            "person.look_alike_marked person=%s username=%r looks_like=%s "
            "looks_like_username=%r: rename it to give it a skeleton",
            person.pk,
            person.text,
            person.older_pk,
            person.older_text,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_username_skeleton"),
    ]

    operations = [
        migrations.RunPython(recompute_username_skeletons, migrations.RunPython.noop),
    ]
