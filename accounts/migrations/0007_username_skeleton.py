"""Store each username's look-alike skeleton under a unique index.

Usernames were compared with the skeletons of the others in Python only (by
the people import), so two look-alike usernames created at the same instant,
by two imports or two admins, could both be inserted. The unique index on
``username_skeleton`` makes the database reject the second.

Existing accounts whose usernames already look alike keep their usernames
and everything else. The oldest of them (by ``date_joined``, then id) gets
the skeleton. Each newer one keeps ``username_skeleton`` NULL, which marks
it for a rename, and the migration logs a warning naming both. Renaming a
marked account fills its skeleton, or fails if the new username looks like
another.
"""

import logging

from django.db import migrations, models

from core.skeletons import store_skeletons

logger = logging.getLogger("accounts.migrations")


def fill_username_skeletons(apps, schema_editor):
    # NOTE: this uses today's ``core.confusables.skeleton``, so that the
    # stored skeletons match what ``User.save`` computes when it runs.
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
        ("accounts", "0006_user_is_scripted"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(editable=False, max_length=450, null=True),
        ),
        migrations.RunPython(fill_username_skeletons, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(
                editable=False, max_length=450, null=True, unique=True
            ),
        ),
    ]
